"""Helpers shared by the tests/test_robust_*.py modules: the real scripts as child
processes with their peak memory, snapshots of whole trees, and the database checks."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pytest

from tests.conftest import PROJECT_DIR


def write_config(tmp_path: Path, *, logging_dir: Optional[Path] = None, batch_size: int = 10,
                 workers: int = 2) -> Path:
    """A config.ini logging outside the image tree (DB and logs never live in the tree)."""
    path = tmp_path / "robust_config.ini"
    path.write_text(
        "[Paths]\n"
        f"logging_dir = {logging_dir or tmp_path / 'logs'}\n"
        "[Processing]\n"
        f"batch_size = {batch_size}\n"
        f"max_workers = {workers}\n"
        "[Database]\n"
        f"db_name = {tmp_path / 'config_default.db'}\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float  # largest resident set of the script or of any child it waited for (ExifTool)
    elapsed: float


def script_cmd(script: str, *args: str) -> list[str]:
    return [sys.executable, str(PROJECT_DIR / script), *args]


# Runs the measured command as its own child and reports that child's wait4 status and peak RSS
# on a pipe. A child forked straight from pytest would start its ru_maxrss at pytest's own resident
# size (Linux keeps the high-water mark across fork and exec), so every test that grows the pytest
# process would raise the measured peak of the scripts run after it; forked from this small
# launcher, the child starts from the launcher's few MB.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "fd = int(sys.argv[1])\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "os.write(fd, f'{status} {usage.ru_maxrss}'.encode())\n"
)


def run_measured(script: str, *args: str, tmp_path: Path, timeout: float = 180, preexec_fn=None,
                 prefix: Sequence[str] = ()) -> Run:
    """Run a top-level script and return its output and peak RSS (os.wait4 rusage: the script
    and the descendants it reaped, i.e. its ExifTool processes; see _LAUNCHER). ``prefix``: a
    command that runs the script (e.g. setpriv)."""
    out_path, err_path = tmp_path / "run_stdout.txt", tmp_path / "run_stderr.txt"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    started = time.monotonic()
    report_r, report_w = os.pipe()
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report_w), *prefix,
                                     *script_cmd(script, *args)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=str(PROJECT_DIR), env=env,
                                    preexec_fn=preexec_fn, pass_fds=(report_w,), start_new_session=True)
            os.close(report_w)
            report_w = -1
            deadline = started + timeout
            while True:
                pid, _, _ = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    os.wait4(proc.pid, 0)
                    raise AssertionError(f"{script} did not finish in {timeout} s")
                time.sleep(0.02)
        status, maxrss = (int(x) for x in os.read(report_r, 100).split())
    finally:
        os.close(report_r)
        if report_w >= 0:
            os.close(report_w)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(proc.returncode, out_path.read_text("utf-8", "replace"), err_path.read_text("utf-8", "replace"),
               maxrss / 1024, time.monotonic() - started)


def summary_count(stdout: str, label: str) -> int:
    """The number after ``label:`` in DB_filler's summary (``unchanged (skipped):   1,234``)."""
    for line in stdout.splitlines():
        head, sep, value = line.strip().rpartition(":")
        if sep and head.strip() == label:
            return int(value.strip().replace(",", ""))
    raise AssertionError(f"no {label!r} line in:\n{stdout}")


# -- trees ---------------------------------------------------------------------------------

def tree_snapshot(root: os.PathLike | str) -> dict[bytes, tuple]:
    """Every directory and file under ``root`` (bytes paths, so names that are not UTF-8
    count too; descriptor-relative, so folders deeper than PATH_MAX count too): type,
    size, mtime_ns and, for files, sha256. A file created and deleted again still shows up
    as its folder's changed mtime."""
    snap: dict[bytes, tuple] = {}
    top = os.fsencode(root)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        rel = os.path.relpath(dirpath, top)
        st = os.stat(dirfd)
        snap[rel] = ("dir", st.st_mode, st.st_mtime_ns)
        for name in filenames:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                snap[os.path.join(rel, name)] = ("link", os.readlink(name, dir_fd=dirfd))
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block a read
                snap[os.path.join(rel, name)] = ("other", st.st_mode, st.st_mtime_ns)
                continue
            fd = os.open(name, os.O_RDONLY, dir_fd=dirfd)
            with os.fdopen(fd, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            snap[os.path.join(rel, name)] = ("file", st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return snap


# -- database ------------------------------------------------------------------------------

def db_rows(db: Path, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
    con = sqlite3.connect(str(db), timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def integrity(db: Path) -> str:
    """PRAGMA integrity_check plus the FTS index against its table, as one string ('ok')."""
    con = sqlite3.connect(str(db), timeout=30)
    try:
        result = "; ".join(r[0] for r in con.execute("PRAGMA integrity_check").fetchall())
        has_fts = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'images_fts'").fetchone()
        if result == "ok" and has_fts:
            try:
                # rank 1: also compare the index with the images table, not only with itself
                con.execute("INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)")
            except sqlite3.DatabaseError as exc:
                result = f"fts: {exc}"
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            result += f"; {len(fk)} foreign-key violations"
        return result
    finally:
        con.close()


# -- processes -----------------------------------------------------------------------------

def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def exiftool_children(pid: int) -> list[int]:
    return [c for c in children_of(pid) if "exiftool" in cmdline(c)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def wait_gone(pids: Sequence[int], timeout: float = 10.0) -> list[int]:
    """The pids still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if alive(p)]
        if left:
            time.sleep(0.05)
    return left


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# root without the capabilities that let it ignore permission bits
WITHOUT_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
               "--bounding-set=-dac_override,-dac_read_search"]


def permission_bits_apply() -> Optional[list[str]]:
    """A command prefix under which file permission bits apply to us ([] when not root), or
    None when they cannot be made to apply (root without a working setpriv)."""
    if not is_root():
        return []
    if not shutil.which("setpriv"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        unreadable = Path(tmp) / "probe"
        unreadable.write_text("x")
        unreadable.chmod(0)
        probe = subprocess.run([*WITHOUT_DAC, "cat", str(unreadable)], capture_output=True)
    return WITHOUT_DAC if probe.returncode == 1 and b"Permission denied" in probe.stderr else None


# -- a corpus of many small real images ------------------------------------------------------

def make_small_corpus(root: Path, n: int, subdirs: int = 5) -> list[str]:
    """``n`` distinct 8x8 A1111 PNGs in ``subdirs`` folders, each with one LoRA in its prompt
    (so every committed image has exactly one resources row). Returns the paths."""
    from exifdata_analytics.samples import a1111_infotext, write_png

    paths = []
    for i in range(n):
        folder = root / f"part{i % subdirs}"
        folder.mkdir(parents=True, exist_ok=True)
        text = a1111_infotext(f"a cat number {i} <lora:detail_{i % 7}:0.5>", "blurry",
                              {"Steps": 20 + i % 30, "Sampler": "Euler a", "CFG scale": 7, "Seed": i})
        path = folder / f"img_{i:05d}.png"
        write_png(path, {"parameters": text}, size=(8, 8), seed=i)
        paths.append(str(path))
    return paths


def write_images(root: Path, n: int, prefix: str = "img") -> list[Path]:
    """``n`` distinct 8x8 A1111 PNGs ``<prefix>_<i>.png`` in ``root``, each with a full recipe
    (so each is a row with generation data)."""
    from exifdata_analytics.samples import a1111_infotext, write_png

    root.mkdir(parents=True, exist_ok=True)
    return [write_png(root / f"{prefix}_{i}.png", {"parameters": a1111_infotext(
        f"a cat {prefix} {i}", "blurry", {"Steps": 20 + i, "Sampler": "Euler a", "CFG scale": 7, "Seed": i})},
        size=(8, 8), seed=sum(map(ord, prefix)) + i) for i in range(n)]


def row_count(db: Path) -> int:
    """Rows committed so far (0 while the database or its table does not exist yet)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def wait_for_rows(db: Path, proc: subprocess.Popen, minimum: int, timeout: float = 60) -> int:
    """Poll until ``minimum`` rows are committed; -1 if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = row_count(db)
        if n >= minimum:
            return n
        if proc.poll() is not None:
            return -1
        time.sleep(0.01)
    raise AssertionError(f"{minimum} rows not reached in {timeout} s")


CORPUS_FILES = 1500


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> tuple[Path, list[str]]:
    """1,500 small real images shared by the crash and concurrency tests (read-only for them)."""
    root = tmp_path_factory.mktemp("robust_corpus")
    return root, make_small_corpus(root, CORPUS_FILES)
