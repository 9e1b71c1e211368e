"""Watch mode (``DB_filler.py DIR --watch``): after the normal run, new and changed image files
are indexed as they appear, in batches, until Ctrl-C.

The file-system events come from watchdog: the system's own notifications (inotify on Linux,
FSEvents on macOS, ReadDirectoryChangesW on Windows), or, where those do not arrive (network
drives) or cannot be had (inotify's watch limit), watchdog's polling observer, which compares
the tree's file states every few seconds. Events only say which paths to look at: each batch
goes through the same ``fill`` as a normal run, restricted to those paths, so a file that did
not really change is skipped as unchanged and a moved file keeps its row. The observer starts
before the first run, so nothing written during it is missed.

Deleted files keep their rows, as in a normal run without ``--prune``.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from .errors import InputError
from .filler import FillInterrupted, FillOptions, FillSummary, fill
from .scan import ScanProblems, is_image_name, iter_image_files, normalize_path

logger = logging.getLogger(__name__)

QUIET_SECONDS = 1.0  # a batch starts once no event has come for this long (one file sends several)
LONGEST_WAIT_SECONDS = 10.0  # ... or this long after its first event, when events never stop
DEFAULT_POLL_SECONDS = 5.0
# file systems whose changes made on other machines send no local notification
NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs",
                                 "fuse.rclone", "davfs", "fuse.davfs2", "ncpfs", "glusterfs", "ceph"})
_EVENTS = frozenset({"created", "modified", "moved", "closed", "deleted"})


@dataclass(frozen=True)
class WatchBatch:
    """One batch: how many paths its events named, and the run over them."""
    paths: int
    summary: FillSummary

    @property
    def changed(self) -> bool:
        s = self.summary
        return bool(s.new or s.updated or s.moved or s.errors)


@dataclass(frozen=True)
class WatchSummary:
    batches: int = 0  # batches that changed something
    new: int = 0
    updated: int = 0
    moved: int = 0
    errors: int = 0
    interrupted_batch: bool = False  # Ctrl-C came during a batch (its finished files are stored)


def filesystem_type(path: str, mounts_file: str = "/proc/self/mounts") -> Optional[str]:
    """The type of the file system ``path`` is on (Linux; None where it cannot be told)."""
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for point, fs in mounts:
        point = point.replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fs
    return kind


class _Collector:
    """A watchdog event handler that queues the paths its events name."""

    def __init__(self) -> None:
        self.paths: "queue.Queue[tuple[str, bool]]" = queue.Queue()

    def dispatch(self, event) -> None:
        if event.event_type not in _EVENTS:
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if path and (event.is_directory or is_image_name(path)):
                self.paths.put((path, event.is_directory))


class Watcher:
    """Watch ``options.root``: ``start()`` before the first run, ``run()`` after it, ``close()``
    (or use it as a context manager). ``poll_seconds`` forces polling."""

    def __init__(self, options: FillOptions, poll_seconds: Optional[float] = None) -> None:
        self.options = options
        self.root = normalize_path(options.root)
        self.poll_seconds = poll_seconds
        self.collector = _Collector()
        self.observer = None
        self.polling = False
        self.note: Optional[str] = None  # why polling was chosen, for the user

    def __enter__(self) -> "Watcher":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        if not os.path.isdir(self.root):
            raise InputError(f"'{self.options.root}' does not exist or is not a folder; check the path")
        fs = filesystem_type(self.root)
        if self.poll_seconds is None and fs in NETWORK_FILESYSTEMS:
            self.poll_seconds = DEFAULT_POLL_SECONDS
            self.note = (f"{self.root} is on a network file system ({fs}): looking for changes every "
                         f"{self.poll_seconds:g} s")
        if self.poll_seconds is None:
            try:
                self.observer = self._started(Observer())
                return
            except OSError as exc:  # e.g. inotify's limit of watches or instances reached
                self.poll_seconds = DEFAULT_POLL_SECONDS
                self.note = (f"the system's file notifications are not available ({exc}): looking for changes "
                             f"every {self.poll_seconds:g} s")
        self.polling = True
        self.observer = self._started(PollingObserver(timeout=self.poll_seconds))

    def _started(self, observer):
        observer.schedule(self.collector, self.root, recursive=self.options.recursive)
        observer.daemon = True
        try:
            observer.start()
        except BaseException:
            observer.stop()
            raise
        return observer

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=10)
            self.observer = None

    def run(self, on_batch: Callable[[WatchBatch], None], stop: Optional[threading.Event] = None) -> WatchSummary:
        """Index batches until Ctrl-C (KeyboardInterrupt) or ``stop`` is set; returns the totals."""
        stop = stop or threading.Event()
        options = replace(self.options, force=False, prune=False, prune_empty_root=False, dry_run=False)
        totals = dict(batches=0, new=0, updated=0, moved=0, errors=0)

        def add(summary: FillSummary) -> None:
            for key in ("new", "updated", "moved", "errors"):
                totals[key] += getattr(summary, key)

        try:
            while not stop.is_set():
                paths = self._next_batch(stop)
                if not paths:
                    continue
                try:
                    summary = fill(replace(options, only=frozenset(paths)))
                except FillInterrupted as interrupted:
                    add(interrupted.summary)
                    return WatchSummary(**totals, interrupted_batch=True)
                batch = WatchBatch(len(paths), summary)
                if batch.changed:
                    totals["batches"] += 1
                    add(summary)
                logger.info("watch batch: %d paths named by events; %s", len(paths), summary)
                on_batch(batch)
        except KeyboardInterrupt:
            pass
        return WatchSummary(**totals)

    def _next_batch(self, stop: threading.Event) -> set[str]:
        """The paths of the next batch: events until a quiet moment (or the longest wait); a
        folder that appeared (created or moved in) stands for the image files in it."""
        q = self.collector.paths
        try:
            first = q.get(timeout=0.5)
        except queue.Empty:
            return set()
        events = [first]
        started = time.monotonic()
        while not stop.is_set() and time.monotonic() - started < LONGEST_WAIT_SECONDS:
            try:
                events.append(q.get(timeout=QUIET_SECONDS))
            except queue.Empty:
                break
        paths: set[str] = set()
        for path, is_directory in events:
            if is_directory:
                if os.path.isdir(path):
                    paths.update(e.path for e in iter_image_files(path, self.options.recursive, ScanProblems(),
                                                                  self.options.cross_filesystems))
            else:
                paths.add(path)
        return paths
