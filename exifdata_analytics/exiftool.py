"""Metadata extraction: a pool of persistent ExifTool processes driven through pyexiftool.

Extraction sits behind a small interface (absolute paths in, one ``FileTags`` per path out)
so that a faster header-only reader can be added later without touching the filler.

How ExifTool is driven: one ``-stay_open`` process per worker,
batches of paths per ``-execute``, ``-j -G1:4`` (JSON, family-1 groups, repeated PNG keys
kept as ``Copy1``), ``-e`` (no derived Composite tags), ``-charset filename=utf8``, never ``-fast2``. Paths are always absolute;
a path holding a line break is passed as an ExifTool ``#[CSTR]`` C-escaped line because the
argument protocol is line-based.

A worker whose ExifTool dies or hangs is killed by a watchdog, restarted, and its batch
retried once; files of a batch that fails twice are retried one by one, then recorded as
errors, so one poisonous file cannot take its neighbours down. The filler hands over only
files it has just opened as regular files; one swapped for a FIFO or a device in the
moment between (ExifTool opens paths itself) hangs that batch until the watchdog's timeout,
and is not retried: it becomes an error row.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import stat
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import exiftool as pyexiftool

from .errors import ExifToolError, ExifToolNotFoundError

logger = logging.getLogger(__name__)

# pyexiftool warns when it notices a dead process; the pool handles that itself
warnings.filterwarnings("ignore", message="ExifTool process was previously running but died")
# …and when stop() races with a process that has just exited
warnings.filterwarnings("ignore", message="ExifTool not running; doing nothing.")

# -e: no Composite tags. They are derived from tags that are in the output anyway (ImageSize,
# Megapixels, LensID, ShutterSpeed…), and building them doubled ExifTool's time per file
# (measured in bench/RESULTS.md); the filler and the camera report read the source tags.
EXIFTOOL_ARGS = ("-j", "-G1:4", "-e", "-charset", "filename=utf8", "-api", "largefilesupport=1")

INSTALL_HINT = (
    "install ExifTool and make sure `exiftool` is on PATH: "
    "Debian/Ubuntu `sudo apt-get install libimage-exiftool-perl`; "
    "macOS `brew install exiftool`; "
    "Windows: download it from exiftool.org, rename exiftool(-k).exe to exiftool.exe and put it on PATH"
)


@dataclass(frozen=True)
class FileTags:
    """ExifTool's answer for one file: its tag dict and JSON text, or why there is none."""

    path: str
    tags: Optional[dict] = None
    raw_json: Optional[str] = None
    error: Optional[str] = None


class MetadataReader(Protocol):
    """Anything that turns absolute paths into one FileTags per path, in the same order."""

    def read(self, paths: Sequence[str]) -> list[FileTags]: ...


class _BatchFailed(Exception):
    """The ExifTool process died, hung, or answered with something unreadable."""


def find_exiftool(executable: str = "exiftool") -> str:
    """The full path of the exiftool executable, or ExifToolNotFoundError naming the fix."""
    found = shutil.which(executable)
    if not found:
        raise ExifToolNotFoundError(f"ExifTool not found ({executable!r} is not on PATH); {INSTALL_HINT}")
    return found


def exiftool_argument(path: str) -> str:
    """One argument line naming ``path`` safely: line breaks would split the argument, so
    such names go as a C string (``#[CSTR]``); everything else is passed as is."""
    if "\n" in path or "\r" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return "#[CSTR]" + escaped
    return path


def _spawn_without_sigint(et: pyexiftool.ExifTool) -> None:
    """Start ExifTool with SIGINT blocked, so Ctrl-C in the terminal interrupts us (and we
    shut the pool down in order) instead of killing ExifTool under a running batch. The
    blocked mask is inherited by the child; the calling thread's mask is restored."""
    if hasattr(signal, "pthread_sigmask"):
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            et.run()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    else:  # Windows
        et.run()


class _Worker:
    """One persistent ExifTool process and the bookkeeping the watchdog needs."""

    def __init__(self, executable: str, index: int):
        self.executable = executable
        self.index = index
        self.et: Optional[pyexiftool.ExifTool] = None
        self.deadline: Optional[float] = None
        self.aborted = False
        self._lock = threading.Lock()

    def start(self, timeout: float = 30.0) -> None:
        """Launch ExifTool; pyexiftool's start-up asks for its version, which the watchdog
        guards like a batch, so an ExifTool that dies or hangs at start-up cannot block us."""
        et = pyexiftool.ExifTool(executable=self.executable, common_args=list(EXIFTOOL_ARGS), encoding="utf-8")
        et.block_size = 256 * 1024  # pyexiftool reads 4 KiB per select()+read(): ~40 round trips per batch
        with self._lock:
            self.et = et
            self.aborted = False
        self.deadline = time.monotonic() + timeout
        try:
            _spawn_without_sigint(et)
        except Exception as exc:  # noqa: BLE001 - any start-up failure is the same problem to the user
            reason = "it did not answer in time" if self.aborted else f"{type(exc).__name__}: {exc}"
            self.stop()
            raise ExifToolError(f"cannot start ExifTool ({self.executable}): {reason}; {INSTALL_HINT}") from None
        finally:
            self.deadline = None
        if self.aborted:
            self.stop()
            raise ExifToolError(f"cannot start ExifTool ({self.executable}): it did not answer in time")

    @property
    def pid(self) -> Optional[int]:
        et = self.et
        proc = getattr(et, "_process", None) if et is not None else None
        return proc.pid if proc is not None else None

    def execute(self, args: Sequence[str], timeout: float) -> bytes:
        et = self.et
        if et is None:
            raise _BatchFailed("ExifTool is not running")
        self.deadline = time.monotonic() + timeout
        try:
            out = et.execute(*args, raw_bytes=True)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the batch failed
            reason = "killed after timeout" if self.aborted else f"{type(exc).__name__}: {exc}"
            raise _BatchFailed(reason) from exc
        finally:
            self.deadline = None
        if self.aborted:
            raise _BatchFailed("killed after timeout")
        return out

    def abort(self) -> None:
        """Kill a hung or dead ExifTool so a blocked execute() returns.

        pyexiftool reads stdout with select()+os.read() until a sentinel and loops forever at
        EOF, so killing alone is not enough: we also point its stdout/stderr descriptors at a
        directory, which makes the pending os.read() fail with EISDIR. dup2 keeps the
        descriptor numbers owned by the dead pipes, so no other thread's file can take them.
        """
        with self._lock:
            et = self.et
            proc = getattr(et, "_process", None) if et is not None else None
            if proc is None or self.aborted:
                return
            self.aborted = True
            try:
                proc.kill()
            except OSError:
                pass
            dir_fd = os.open(os.path.dirname(os.path.abspath(__file__)), os.O_RDONLY)
            try:
                for stream in (proc.stdout, proc.stderr):
                    try:
                        os.dup2(dir_fd, stream.fileno())
                    except (OSError, ValueError):
                        pass
            finally:
                os.close(dir_fd)

    def stop(self) -> None:
        """End the process, politely if it is healthy, by force otherwise."""
        with self._lock:
            et, self.et = self.et, None
        if et is None:
            return
        proc = getattr(et, "_process", None)
        try:
            if not self.aborted and proc is not None and proc.poll() is None:
                et.terminate(timeout=5)
                return
        except Exception as exc:  # noqa: BLE001
            logger.debug("ExifTool %d did not stop cleanly: %r", self.index, exc)
        if proc is not None:
            try:
                proc.kill()
            except OSError:
                pass
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
            try:
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001
                pass
        try:
            et._flag_running_false()  # the process is gone; keep pyexiftool from touching it again
        except AttributeError:
            pass


class ExifToolPool:
    """``workers`` persistent ExifTool processes; ``read()`` may be called from that many
    threads at once. Use as a context manager."""

    def __init__(self, workers: int = 2, executable: str = "exiftool", timeout_base: float = 60.0,
                 timeout_per_file: float = 1.0, watchdog_interval: float = 0.2):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.executable = find_exiftool(executable)
        self.workers_count = workers
        self.timeout_base = timeout_base
        self.timeout_per_file = timeout_per_file
        self.watchdog_interval = watchdog_interval
        self._idle: "queue.Queue[_Worker]" = queue.Queue()
        self._workers: list[_Worker] = []
        self._closing = threading.Event()
        self._watchdog: Optional[threading.Thread] = None
        self.restarts = 0

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> "ExifToolPool":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self._watchdog = threading.Thread(target=self._watch, name="exiftool-watchdog", daemon=True)
        self._watchdog.start()
        try:
            for i in range(self.workers_count):
                worker = _Worker(self.executable, i)
                self._workers.append(worker)
                worker.start()
                self._idle.put(worker)
        except BaseException:
            self.close()
            raise
        logger.info("started %d ExifTool process(es): %s", self.workers_count, self.executable)

    def close(self) -> None:
        self._closing.set()
        for worker in self._workers:
            worker.stop()
        if self._watchdog is not None:
            self._watchdog.join(timeout=2)

    def abort_all(self) -> None:
        """Kill every running batch now (used on Ctrl-C so worker threads return fast)."""
        self._closing.set()
        for worker in self._workers:
            if worker.deadline is not None:
                worker.abort()

    def _watch(self) -> None:
        while not self._closing.wait(self.watchdog_interval):
            now = time.monotonic()
            for worker in self._workers:
                deadline = worker.deadline
                if deadline is None:
                    continue
                proc = getattr(worker.et, "_process", None) if worker.et is not None else None
                died = proc is not None and proc.poll() is not None
                if died or now > deadline:
                    pid = worker.pid
                    # abort first: the reader of a dead ExifTool spins at EOF holding the GIL, so
                    # anything slow before (the console handler's first tqdm import) took ~1 min
                    worker.abort()
                    logger.warning("ExifTool %d (pid %s) %s; killed it", worker.index, pid,
                                   "died" if died else "hung past its timeout")

    # -- extraction ----------------------------------------------------------------------
    def read(self, paths: Sequence[str]) -> list[FileTags]:
        """Tags for each of ``paths`` (absolute), in order. Never raises for per-file
        problems: they come back as FileTags.error."""
        if not paths:
            return []
        if self._closing.is_set():
            raise ExifToolError("the ExifTool pool is closed")
        worker = self._idle.get()
        try:
            try:
                return self._run(worker, paths)
            except _BatchFailed as first:
                if self._closing.is_set():  # abort_all() killed it: the run is stopping, not failing
                    raise ExifToolError("interrupted") from None
                logger.warning("ExifTool batch of %d files failed (%s); restarting and retrying once",
                               len(paths), first)
                self._restart(worker)
            # a file swapped for a FIFO or a device after the filler checked it is what hangs
            # ExifTool in open() or read(): the watchdog ended that; such files are not retried
            odd = {p: why for p in paths if (why := _not_regular_now(p))}
            readable = [p for p in paths if p not in odd]
            found = iter(self._retry(worker, readable) if readable else [])
            return [FileTags(p, error=odd[p]) if p in odd else next(found) for p in paths]
        finally:
            self._idle.put(worker)

    def _retry(self, worker: _Worker, paths: Sequence[str]) -> list[FileTags]:
        """The batch once more, then file by file; a file failing alone becomes an error."""
        try:
            return self._run(worker, paths)
        except _BatchFailed as second:
            logger.warning("retry failed too (%s); reading the %d files one by one", second, len(paths))
            self._restart(worker)
        results = []
        for path in paths:
            try:
                results.extend(self._run(worker, [path]))
            except _BatchFailed as exc:
                logger.error("ExifTool failed on %s: %s", path, exc)
                results.append(FileTags(path, error=f"ExifTool failed twice on this file ({exc})"))
                self._restart(worker)
        return results

    def _restart(self, worker: _Worker) -> None:
        if self._closing.is_set():
            raise ExifToolError("interrupted")
        worker.stop()
        worker.start()
        self.restarts += 1

    def _run(self, worker: _Worker, paths: Sequence[str]) -> list[FileTags]:
        if self._closing.is_set():
            raise ExifToolError("interrupted")
        timeout = self.timeout_base + self.timeout_per_file * len(paths)
        out = worker.execute([exiftool_argument(p) for p in paths], timeout)
        stderr = worker.et.last_stderr if worker.et is not None else ""
        return _match_results(paths, out, stderr)


def _not_regular_now(path: str) -> Optional[str]:
    """Why ``path`` must not be given to ExifTool again (None: it is a regular file)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot read file: {exc}"
    if stat.S_ISREG(st.st_mode):
        return None
    return "not a regular file any more (replaced while it was read); ExifTool was stopped on it"


def _match_results(paths: Sequence[str], out: bytes, stderr) -> list[FileTags]:
    """Pair ExifTool's JSON objects with the requested paths (by SourceFile)."""
    text = out.decode("utf-8", "replace").strip()
    records: list = []
    if text:
        try:
            # ExifTool can emit NaN inside string values only; plain json handles its output
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _BatchFailed(f"unreadable JSON from ExifTool: {exc}") from None
        if not isinstance(records, list):
            raise _BatchFailed("unexpected JSON from ExifTool (not a list)")
    by_source = {}
    for rec in records:
        if isinstance(rec, dict) and isinstance(rec.get("SourceFile"), str):
            by_source.setdefault(rec["SourceFile"], rec)
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    stderr_lines = [ln for ln in (stderr or "").splitlines() if ln.strip()]
    results = []
    for path in paths:
        rec = by_source.get(path)
        if rec is None:
            why = next((ln for ln in stderr_lines if path in ln), None) or "ExifTool returned no data for this file"
            results.append(FileTags(path, error=why.strip()))
            continue
        results.append(FileTags(path, tags=rec, raw_json=json.dumps(rec, ensure_ascii=False)))
    return results
