"""DB_filler's job: scan -> skip unchanged -> extract (ExifTool pool) -> hash + parse -> store.

Worker threads each own one ExifTool process for the duration of a batch, hash the batch's
files and parse their tags; the calling thread writes every finished batch in one
transaction, in submission order. At most ``2 * workers`` batches are in flight, so memory
does not grow with the size of the folder.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import db
from .errors import DatabaseError, InputError
from .exiftool import ExifToolPool, FileTags, MetadataReader
from .moves import Move, MoveFinder
from .records import StatusTally, build_record, sha256_of
from .safe_files import FileTooLargeError, NotRegularFileError
from .scan import FileEntry, ScanProblems, empty_root_message, entries_of, iter_image_files, normalize_path

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (files done so far, files to do)


@dataclass(frozen=True)
class FillOptions:
    root: str
    recursive: bool
    db_path: Path
    workers: int = 2
    batch_size: int = 100
    force: bool = False
    dry_run: bool = False
    prune: bool = False
    prune_empty_root: bool = False  # prune even when the folder holds no image file at all
    cross_filesystems: bool = False  # also enter folders on other file systems under root
    only: Optional[frozenset[str]] = None  # just these files under root, no scan (watch mode's batches)


@dataclass(frozen=True)
class FillSummary:
    root: str
    found: int = 0
    new: int = 0
    updated: int = 0
    moved: int = 0  # new paths re-linked to the row of a vanished file with the same content
    unchanged: int = 0
    with_generation_data: int = 0
    no_generation_data: int = 0
    unparsed: int = 0
    errors: int = 0
    vanished: int = 0
    pruned: int = 0
    prunable: int = 0  # rows of files gone from the folder (pruned only with --prune)
    scan_problems: int = 0
    skipped_folders: int = 0  # links out of the root, other file systems: not entered, rows kept
    workers: int = 0  # ExifTool processes started
    elapsed: float = 0.0
    dry_run: bool = False
    exiftool_restarts: int = 0
    generators: dict = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.new + self.updated + self.moved

    @property
    def files_per_second(self) -> float:
        return self.found / self.elapsed if self.elapsed > 0 else 0.0


class FillInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM via the CLI) during a run; finished batches are stored."""

    def __init__(self, summary: FillSummary):
        super().__init__("interrupted")
        self.summary = summary


# -- one batch -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _BatchResult:
    records: list
    vanished: int
    moves: tuple[Move, ...] = ()


def process_batch(reader: MetadataReader, entries: Sequence[FileEntry],
                  move_finder: Optional[MoveFinder] = None, new_paths: frozenset = frozenset(),
                  stop: Optional[threading.Event] = None) -> _BatchResult:
    """Hash, extract and parse one batch (runs in a worker thread). New files whose content
    belongs to a row whose file is gone come back as moves, without running ExifTool. Only
    files that are regular files when opened for hashing go to ExifTool; ``stop`` (set on
    Ctrl-C) ends the hashing within one chunk (ReadStopped)."""
    digests: dict[str, Optional[str]] = {}
    read_errors: dict[str, str] = {}
    vanished = 0
    present = []
    for entry in entries:
        try:
            digests[entry.path] = sha256_of(entry.path, stop)
        except FileNotFoundError:
            logger.warning("%s disappeared during the run; not stored", entry.path)
            vanished += 1
            continue
        except (NotRegularFileError, FileTooLargeError) as exc:
            digests[entry.path] = None
            read_errors[entry.path] = exc.strerror
            logger.warning("%s: %s; not read", entry.path, exc.strerror)
        except OSError as exc:
            digests[entry.path] = None
            read_errors[entry.path] = f"cannot read file: {exc}"
        present.append(entry)
    moves: list[Move] = []
    if move_finder is not None:
        moves = move_finder.find([(e, digests[e.path]) for e in present
                                  if e.path in new_paths and digests.get(e.path)])
    moved = {m.entry.path for m in moves}
    # a file we cannot read (permissions, I/O error) is not sent to ExifTool: our reason
    # ("Permission denied") says more than its "Error opening file"
    to_read = [e for e in present if e.path not in moved and e.path not in read_errors]
    results = dict(zip((e.path for e in to_read), reader.read([e.path for e in to_read]))) if to_read else {}
    indexed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    records = []
    for entry in present:
        if entry.path in moved:
            continue
        ft = results.get(entry.path) or FileTags(entry.path, error=read_errors[entry.path])
        records.append(build_record(entry, ft, digests[entry.path], indexed_at))
    return _BatchResult(records, vanished, tuple(moves))


class _LazyReader:
    """Starts the real reader (the ExifTool pool) on the first read, so a run that finds only
    moved files starts no ExifTool at all."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._reader = None
        self._lock = threading.Lock()

    def read(self, paths):
        with self._lock:
            if self._reader is None:
                reader = self._factory()
                reader.__enter__()
                self._reader = reader
        return self._reader.read(paths)

    def abort_all(self) -> None:
        abort = getattr(self._reader, "abort_all", None)
        if abort:
            abort()

    @property
    def restarts(self) -> int:
        return getattr(self._reader, "restarts", 0)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.__exit__(None, None, None)


# -- the run -------------------------------------------------------------------------------

def _is_under_any(path: str, folders: Sequence[str]) -> bool:
    return any(path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def max_workers() -> int:
    """The most ExifTool processes a run starts: more than 4 per CPU only adds memory."""
    return 4 * (os.cpu_count() or 1)


def workers_for(requested: int, batches: int) -> int:
    """ExifTool processes to start: never more than there are batches, nor than max_workers()."""
    return max(1, min(requested, batches, max_workers()))


def fill(options: FillOptions, progress: Optional[Progress] = None,
         reader_factory: Optional[Callable[[int], Any]] = None) -> FillSummary:
    """Index ``options.root`` into the database. Raises ExifDataError subclasses for fatal
    problems and FillInterrupted on Ctrl-C (finished batches are kept)."""
    started = time.monotonic()
    root = normalize_path(options.root)
    if not os.path.isdir(root):
        raise InputError(f"'{options.root}' does not exist or is not a folder; check the path")
    problems = ScanProblems()
    if options.only is None:
        entries = list(iter_image_files(root, options.recursive, problems, options.cross_filesystems))
    else:
        entries = entries_of(tuple(options.only), root, options.recursive, problems)
    logger.info("found %d image files under %s (recursive=%s)", len(entries), root, options.recursive)

    if options.dry_run:
        existing = {}
        if Path(options.db_path).exists():
            con = db.connect(options.db_path, readonly=True)
            try:
                existing = db.file_states_under(con, root, options.recursive)
            finally:
                con.close()
    else:
        con = db.connect(options.db_path)
        existing = db.file_states_under(con, root, options.recursive)

    if options.only is not None:  # the rows of the named files only: one gone is a move's old name
        named = {normalize_path(p) for p in options.only}
        existing = {p: state for p, state in existing.items() if p in named}
    todo = [e for e in entries
            if options.force or existing.get(e.path) != (e.size, e.mtime_ns)]
    scanned = {e.path for e in entries}
    # rows under folders the scan did not enter (unreadable, links out, other drives) are not gone
    stale = [p for p in existing if p not in scanned and not _is_under_any(p, problems.not_scanned)]
    if options.prune and stale and not entries and not options.prune_empty_root:
        if not options.dry_run:
            con.close()
        # an unmounted drive leaves an empty mount point: pruning it would delete every row
        raise InputError(empty_root_message([root], stale, "run again with --prune --force"))
    batches = -(-len(todo) // max(1, options.batch_size))
    counts = dict(found=len(entries), unchanged=len(entries) - len(todo), prunable=len(stale),
                  scan_problems=problems.count, skipped_folders=len(problems.skipped_folders),
                  workers=workers_for(options.workers, batches) if todo and not options.dry_run else 0,
                  root=root, dry_run=options.dry_run)

    if options.dry_run:
        new = sum(1 for e in todo if e.path not in existing)
        return FillSummary(new=new, updated=len(todo) - new, elapsed=time.monotonic() - started, **counts)

    tally = dict(new=0, updated=0, moved=0, vanished=0, pruned=0)
    outcomes = StatusTally()
    restarts = 0

    def summary() -> FillSummary:
        return FillSummary(elapsed=time.monotonic() - started, generators=dict(outcomes.generators),
                           with_generation_data=outcomes.ok, no_generation_data=outcomes.no_metadata,
                           unparsed=outcomes.unparsed, errors=outcomes.errors,
                           exiftool_restarts=restarts, **counts, **tally)

    try:
        if progress:
            progress(0, len(todo))
        if todo:
            make_reader = reader_factory or (lambda n: ExifToolPool(workers=n))
            reader = _LazyReader(lambda: make_reader(counts["workers"]))
            # --force means "read everything again", so no shortcut through moved rows then
            move_finder = None if options.force else MoveFinder(options.db_path, root, options.recursive, stale)
            try:
                _extract_all(con, reader, move_finder, todo, existing, options, tally, outcomes, progress,
                             counts["workers"])
            finally:
                restarts = reader.restarts
                reader.close()
                if move_finder is not None:
                    move_finder.close()
        if options.prune and stale:
            tally["pruned"] = db.delete_paths(con, stale)
            logger.info("pruned %d rows of files no longer under %s", tally["pruned"], root)
        if any(tally[k] for k in ("new", "updated", "moved", "pruned")):
            db.refresh_canonical_names(con)
    except KeyboardInterrupt:
        raise FillInterrupted(summary()) from None
    except sqlite3.Error as exc:  # disk full, read-only file…: one clear message; stored batches stay
        raise DatabaseError(db.explain_sqlite_error(Path(options.db_path), exc)) from None
    finally:
        con.close()
    result = summary()
    logger.info("run finished: %s", result)
    return result


def _extract_all(con, reader, move_finder, todo, existing, options, tally, outcomes, progress, workers) -> None:
    batch_size = max(1, options.batch_size)
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    new_paths = frozenset(e.path for e in todo if e.path not in existing)
    max_in_flight = workers * 2
    done = 0
    pending: deque[Future] = deque()
    stop = threading.Event()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="exiftool")
    try:
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and len(pending) < max_in_flight:
                pending.append(executor.submit(process_batch, reader, batches[next_batch], move_finder, new_paths,
                                               stop))
                next_batch += 1
            result = pending.popleft().result()
            db.write_batch(con, result.records)
            records = list(result.records)
            if result.moves:
                relinked = db.relink(con, [(m.image_id, m.old_path, m.entry.path, m.entry.size, m.entry.mtime_ns)
                                           for m in result.moves])
                tally["moved"] += sum(relinked)
                done += sum(relinked)
                lost = [m.entry for m, ok in zip(result.moves, relinked) if not ok]
                if lost:  # another batch re-linked that row first: read these files normally
                    extra = process_batch(reader, lost, stop=stop).records
                    db.write_batch(con, extra)
                    records += extra
            for record, _ in records:
                tally["updated" if record.path in existing else "new"] += 1
            outcomes.add_records(records)
            tally["vanished"] += result.vanished
            done += len(records) + result.vanished
            if progress:
                progress(done, len(todo))
    except BaseException:
        # stop quickly: end the hashing, kill running ExifTool batches, drop queued ones; stored
        # batches stay
        stop.set()
        abort = getattr(reader, "abort_all", None)
        if abort:
            abort()
        for fut in pending:
            fut.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
