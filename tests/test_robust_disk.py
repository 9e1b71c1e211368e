"""Disk full, read-only database, database in a read-only folder, missing permissions.

Each failure is one clear line on stderr and exit 1 (no traceback), and the database stays
intact: it passes its integrity check, keeps whole batches only, and a later run resumes.

The tests run as root here, and root ignores permission bits, so read-only files and
folders are made with ``chattr +i`` (immutable: even root cannot write), unreadable ones are
tested with DB_filler.py running under ``setpriv`` without CAP_DAC_OVERRIDE, and the full
disk is a 2 MB tmpfs; as another user, chmod and ``ulimit -f`` (RLIMIT_FSIZE) stand in.
Tests that need what the machine cannot offer skip with the reason.
"""
from __future__ import annotations

import hashlib
import resource
import shutil
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from exifdata_analytics.samples import a1111_infotext, write_png
from tests.conftest import run_script
from tests.robust_support import (db_rows, integrity, is_root, permission_bits_apply, run_measured, summary_count,
                                  write_config)

BATCH = 10


def _images(root: Path, n: int, words: int = 0) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        prompt = f"a cat {i} <lora:detail:0.5> " + " ".join(f"w{i}x{k}" for k in range(words))
        out.append(write_png(root / f"img_{i:04d}.png",
                             {"parameters": a1111_infotext(prompt, "blurry", {"Steps": 20, "Sampler": "Euler"})},
                             size=(8, 8), seed=i))
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(stderr: str, *needles: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr and "unexpected" not in errors[0], stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _filler(tmp_path: Path, images: Path, db: Path, config: Path, *extra: str, preexec_fn=None):
    return run_measured("DB_filler.py", str(images), "-y", "--db", str(db), "--config", str(config),
                        "--batch-size", str(BATCH), "--no-progress", *extra, tmp_path=tmp_path, preexec_fn=preexec_fn)


def _tool(tmp_path: Path, *args: str):
    return run_measured(*args, tmp_path=tmp_path)


# -- making things read-only -----------------------------------------------------------------

@contextmanager
def read_only(path: Path):
    """``path`` (file or folder) unwritable for this process: chattr +i as root, chmod otherwise."""
    if is_root():
        if not shutil.which("chattr"):
            pytest.skip("running as root and chattr is not available to make a file read-only")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {done.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


@contextmanager
def small_disk(mountpoint: Path, size: str = "2M"):
    """A tmpfs of ``size`` at ``mountpoint``; yields a function that enlarges it, or skips."""
    mountpoint.mkdir()
    if not is_root():
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield lambda new_size: subprocess.run(["mount", "-o", f"remount,size={new_size}", str(mountpoint)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


# -- disk full -------------------------------------------------------------------------------

@pytest.mark.parametrize("logs_on_the_full_disk", [False, True])
def test_disk_full_is_one_clear_line_keeps_whole_batches_and_the_next_run_resumes(tmp_path, logs_on_the_full_disk):
    images = tmp_path / "images"
    _images(images, 120, words=400)  # ~4 MB of prompts, raw JSON and search index: more than the disk
    with small_disk(tmp_path / "disk") as enlarge:
        db = tmp_path / "disk" / "full.db"
        config = write_config(tmp_path, logging_dir=(tmp_path / "disk" / "logs") if logs_on_the_full_disk else None)
        if logs_on_the_full_disk:  # the log file exists but nothing more fits: the disk is full before we start
            (tmp_path / "disk" / "logs").mkdir()
            (tmp_path / "disk" / "logs" / "DB_filler_LOG.txt").touch()
        run = _filler(tmp_path, images, db, config)
        assert run.returncode == 1, run.stdout + run.stderr
        _one_error_line(run.stderr, "is full", "free some space", "finished batches are kept")
        if logs_on_the_full_disk:
            assert run.stderr.count("warning: cannot write the log file") <= 1
        assert integrity(db) == "ok"
        kept = db_rows(db, "SELECT COUNT(*) FROM images")[0][0]
        assert kept < 120 and kept % BATCH == 0
        assert db_rows(db, "SELECT COUNT(*) FROM resources")[0][0] == kept
        if not logs_on_the_full_disk:  # the menu's Clear needs room in the WAL too: one clear line, nothing lost
            menu = run_script("parameter_statistic_DB.py", "--db", str(db), "--config", str(config), input="15\nyes\n0\n")
            assert menu.returncode == 0 and "Bye." in menu.stdout, menu.stdout + menu.stderr
            assert "is full" in menu.stdout and "unexpected" not in menu.stdout, menu.stdout
            assert integrity(db) == "ok"
        enlarge("64M")
        again = _filler(tmp_path, images, db, config)
        assert again.returncode == 0, again.stderr
        assert summary_count(again.stdout, "unchanged (skipped)") == kept
        assert summary_count(again.stdout, "new (added)") == 120 - kept
        assert integrity(db) == "ok" and db_rows(db, "SELECT COUNT(*) FROM images")[0][0] == 120


def test_a_file_size_limit_is_one_clear_line_and_the_database_stays_intact(tmp_path):
    """``ulimit -f``: what a full disk looks like without root (writes fail with EFBIG)."""
    images = tmp_path / "images"
    _images(images, 60, words=800)
    db = tmp_path / "limited.db"
    config = write_config(tmp_path)
    run = _filler(tmp_path, images, db, config, preexec_fn=_limit_file_size(1_500_000))
    assert run.returncode == 1, run.stdout + run.stderr
    _one_error_line(run.stderr, str(db), "finished batches are kept")
    assert integrity(db) == "ok"
    kept = db_rows(db, "SELECT COUNT(*) FROM images")[0][0]
    assert kept < 60 and kept % BATCH == 0
    again = _filler(tmp_path, images, db, config)
    assert again.returncode == 0 and summary_count(again.stdout, "unchanged (skipped)") == kept


# -- read-only database and folder -----------------------------------------------------------

@pytest.fixture
def indexed(tmp_path: Path):
    images = tmp_path / "images"
    _images(images, 12)
    folder = tmp_path / "dbdir"
    folder.mkdir()
    db = folder / "kept.db"
    config = write_config(tmp_path)
    first = _filler(tmp_path, images, db, config)
    assert first.returncode == 0, first.stderr
    assert not Path(str(db) + "-wal").exists()  # a clean end leaves one self-contained file
    return images, db, config


def _readers_still_work(tmp_path: Path, db: Path, config: Path, *commands: tuple, statistic: bool = False) -> None:
    for args in commands:
        r = _tool(tmp_path, "parameter_statistic_DB.py", *args, "--db", str(db), "--config", str(config))
        assert r.returncode == 0, (args, r.stderr)
        if args[0] == "export":
            assert len(Path(args[1]).read_text("utf-8").splitlines()) == 13
        if args[0] == "search":
            assert "12 images match" in r.stdout
    if statistic:
        r = _tool(tmp_path, "parameter_statistic.py", "-y", "--no-plots", "--db", str(db), "--out",
                  str(tmp_path / "report"), "--config", str(config))
        assert r.returncode == 0, r.stderr
        assert "12 images analysed" in r.stdout


def test_a_read_only_database_file_is_refused_clearly_and_still_readable(indexed, tmp_path):
    images, db, config = indexed
    before = _sha(db)
    with read_only(db):
        run = _filler(tmp_path, images, db, config, "--force")
        assert run.returncode == 1
        _one_error_line(run.stderr, str(db), "read-only")
        _readers_still_work(tmp_path, db, config, ("stats",), ("search", "cat"))
        clear = _tool(tmp_path, "parameter_statistic_DB.py", "clear", "--yes", "--db", str(db), "--config", str(config))
        assert clear.returncode == 1
        _one_error_line(clear.stderr, str(db), "read-only")
    assert _sha(db) == before and integrity(db) == "ok"
    assert len(db_rows(db, "SELECT id FROM images")) == 12


def test_a_database_in_a_read_only_folder_is_refused_for_writing_and_read_as_is(indexed, tmp_path):
    images, db, config = indexed
    before = _sha(db)
    with read_only(db.parent):
        run = _filler(tmp_path, images, db, config, "--force")
        assert run.returncode == 1
        _one_error_line(run.stderr, str(db), "writable")
        _readers_still_work(tmp_path, db, config, ("integrity",), ("export", str(tmp_path / "out.csv")),
                            statistic=True)
        backup = _tool(tmp_path, "parameter_statistic_DB.py", "backup", str(db.parent), "--db", str(db),
                       "--config", str(config))
        assert backup.returncode == 1
        _one_error_line(backup.stderr, "backup")
        new = _filler(tmp_path, images, db.parent / "new.db", config)
        assert new.returncode == 1
        _one_error_line(new.stderr, "new.db", "writable")
        assert sorted(p.name for p in db.parent.iterdir()) == ["kept.db"]  # nothing created there
    assert _sha(db) == before and integrity(db) == "ok"


def test_a_database_path_below_a_file_is_one_clear_line(tmp_path):
    images = tmp_path / "images"
    _images(images, 2)
    (tmp_path / "plain_file").write_text("x")
    run = _filler(tmp_path, images, tmp_path / "plain_file" / "x.db", write_config(tmp_path))
    assert run.returncode == 1
    _one_error_line(run.stderr, "x.db")


# -- permissions -----------------------------------------------------------------------------

def test_an_unwritable_log_folder_is_a_warning_not_a_failure(tmp_path):
    images = tmp_path / "images"
    _images(images, 3)
    logs = tmp_path / "logs_ro"
    logs.mkdir()
    with read_only(logs):
        run = _filler(tmp_path, images, tmp_path / "x.db", write_config(tmp_path, logging_dir=logs / "sub"))
    assert run.returncode == 0, run.stderr
    assert "cannot write logs" in run.stderr and "Traceback" not in run.stderr
    assert summary_count(run.stdout, "new (added)") == 3


def test_unreadable_files_and_folders_are_reported_and_the_run_goes_on(tmp_path):
    prefix = permission_bits_apply()
    if prefix is None:
        pytest.skip("running as root and setpriv cannot drop CAP_DAC_OVERRIDE: permission bits would not apply")
    images = tmp_path / "images"
    files = _images(images, 4)
    locked_dir = images / "locked"
    _images(locked_dir, 2)
    files[0].chmod(0)
    locked_dir.chmod(0)
    db = tmp_path / "perm.db"
    try:
        run = run_measured("DB_filler.py", str(images), "-r", "-y", "--db", str(db), "--config",
                           str(write_config(tmp_path)), "--no-progress", tmp_path=tmp_path, prefix=prefix)
    finally:
        locked_dir.chmod(0o755)
        files[0].chmod(0o644)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert summary_count(run.stdout, "folders/files that could not be read") == 1
    assert "cannot read folder" in run.stderr and str(locked_dir) in run.stderr
    assert summary_count(run.stdout, "errors") == 1
    assert summary_count(run.stdout, "with generation data") == 3
    (row,) = db_rows(db, "SELECT parse_status, error FROM images WHERE file_name = ?", (files[0].name,))
    assert row["parse_status"] == "error", tuple(row)
    assert "Permission denied" in row["error"], tuple(row)  # our reason, not ExifTool's "Error opening file"
