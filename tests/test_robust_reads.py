"""Reads that cannot hang, spin or wander: files swapped for a FIFO or /dev/zero between the
scan and the read, huge sparse files, symlinks out of the image folder (to ``/``), drives
mounted inside it, and more ExifTools asked for than there is work.

A swap is made at the one moment the filler has finished scanning and not yet read anything
(its first progress call), in a child process, so that a hang fails the test instead of
stopping the suite.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from exifdata_analytics.samples import a1111_infotext, write_png
from tests.conftest import PROJECT_DIR
from tests.robust_support import (db_rows, exiftool_children, run_measured, summary_count, write_config,
                                  write_images)
from tests.test_robust_disk import small_disk


# -- 4. a file swapped between the scan and the read --------------------------------------------

_SWAP_THEN_FILL = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from exifdata_analytics.filler import FillOptions, fill

    root, db = Path(sys.argv[1]), Path(sys.argv[2])
    swapped = []

    def progress(done, total):
        if done == 0 and not swapped:  # scanned, nothing read yet: swap two of the files
            fifo, zero = root / "img_1.png", root / "img_2.png"
            fifo.unlink(); os.mkfifo(fifo)
            zero.unlink(); os.symlink("/dev/zero", zero)
            swapped.append(True)

    summary = fill(FillOptions(root=str(root), recursive=False, db_path=db, workers=1, batch_size=10), progress)
    print(json.dumps({"errors": summary.errors, "ok": summary.with_generation_data}))
""")


def test_a_file_swapped_for_a_fifo_or_dev_zero_becomes_an_error_row_not_a_hang(tmp_path):
    root = tmp_path / "images"
    write_images(root, 4)
    db = tmp_path / "swap.db"
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", _SWAP_THEN_FILL, str(root), str(db)], capture_output=True,
                              text=True, timeout=60, cwd=str(PROJECT_DIR))
    finally:
        try:  # a reader blocked on the FIFO (the old code) is released, so nothing is left behind
            fd = os.open(root / "img_1.png", os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"errors": 2, "ok": 2}
    errors = {r["file_name"]: r["error"] for r in db_rows(db, "SELECT file_name, error FROM images "
                                                              "WHERE parse_status = 'error'")}
    assert errors == {"img_1.png": "not a regular file (a FIFO)", "img_2.png": "not a regular file (a device)"}


# -- 10. a huge sparse file: refused unread; below the limit, Ctrl-C acts within a second --------

def _sparse_png(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(path, {"parameters": a1111_infotext("a huge cat", "", {"Steps": 20, "Sampler": "Euler"})}, size=(8, 8))
    with open(path, "r+b") as fh:
        fh.truncate(size)  # a hole: no disk space used, but every byte reads as zero
    return path


def test_a_file_past_the_size_limit_is_an_error_row_read_not_at_all(tmp_path):
    root = tmp_path / "images"
    write_images(root, 2)
    _sparse_png(root / "huge.png", 3 * 1024**3)
    db, config = tmp_path / "huge.db", write_config(tmp_path)
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(config), "--no-progress",
                       tmp_path=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.elapsed < 20
    assert summary_count(run.stdout, "errors") == 1 and summary_count(run.stdout, "with generation data") == 2
    row = db_rows(db, "SELECT error, sha256 FROM images WHERE file_name = 'huge.png'")[0]
    assert row["error"].startswith("file too large to be an image (3.0 GB") and row["sha256"] is None


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_ctrl_c_while_a_large_file_is_hashed_acts_within_a_second(tmp_path):
    root = tmp_path / "images"
    big = _sparse_png(root / "big.png", 2 * 1024**3 - 1)  # just under the limit: ~7 s of hashing here
    db, config = tmp_path / "big.db", write_config(tmp_path)
    proc = subprocess.Popen([sys.executable, str(PROJECT_DIR / "DB_filler.py"), str(root), "-y", "--db", str(db),
                             "--config", str(config), "--no-progress", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_DIR))
    try:
        deadline = time.monotonic() + 30
        while not _has_open(proc.pid, big) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert _has_open(proc.pid, big), "the file was never opened for hashing"
        time.sleep(0.3)
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert took < 1.5, f"Ctrl-C took {took:.1f} s"
    assert "Traceback" not in err


# -- 10. symlinks out of the folder, other file systems -------------------------------------------

def test_links_out_of_the_folder_are_not_followed_and_their_rows_not_pruned(tmp_path):
    root = tmp_path / "images"
    write_images(root, 3)
    outside = tmp_path / "outside"
    write_images(outside, 2, "out")
    os.symlink(outside, root / "linked_out")
    os.symlink("/", root / "everything")
    (root / "inner").mkdir()
    write_images(root / "inner", 1, "inner")
    os.symlink(root / "inner", root / "linked_in")  # inside the root: followed (and scanned once)
    db, config = tmp_path / "links.db", write_config(tmp_path)
    # an older run indexed the outside folder through the link
    run = run_measured("DB_filler.py", str(root / "linked_out"), "-y", "--db", str(db), "--config", str(config),
                       "--no-progress", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    run = run_measured("DB_filler.py", str(root), "-r", "-y", "--prune", "--db", str(db), "--config", str(config),
                       "--no-progress", tmp_path=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.elapsed < 30
    assert summary_count(run.stdout, "folders not entered (links out, other drives)") == 2
    assert summary_count(run.stdout, "removed (gone from the folder)") == 0
    paths = sorted(r["path"] for r in db_rows(db, "SELECT path FROM images"))
    assert paths == sorted([*(str(root / f"img_{i}.png") for i in range(3)), str(root / "inner" / "inner_0.png"),
                            *(str(root / "linked_out" / f"out_{i}.png") for i in range(2))])
    # sidecars beside the images: never in the folder the link leads to
    run = run_measured("parameter_statistic_DB.py", "--db", str(db), "--config", str(config), "--no-progress",
                       "export-sidecars", tmp_path=tmp_path)
    assert sorted(p.name for p in outside.iterdir()) == ["out_0.png", "out_1.png"]
    assert (root / "img_0.png.json").is_file() and (root / "inner" / "inner_0.png.json").is_file()
    assert run.returncode == 1 and "outside" in run.stdout, run.stdout


def test_a_drive_mounted_inside_the_folder_is_entered_only_when_asked(tmp_path):
    root = tmp_path / "images"
    write_images(root, 2)
    with small_disk(root / "drive", "4M"):
        write_images(root / "drive", 2, "drive")
        db, config = tmp_path / "mounts.db", write_config(tmp_path)
        run = run_measured("DB_filler.py", str(root), "-r", "-y", "--db", str(db), "--config", str(config),
                           "--no-progress", tmp_path=tmp_path)
        assert run.returncode == 0, run.stderr
        assert summary_count(run.stdout, "new (added)") == 2
        assert summary_count(run.stdout, "folders not entered (links out, other drives)") == 1
        run = run_measured("DB_filler.py", str(root), "-r", "-y", "--cross-filesystems", "--db", str(db),
                           "--config", str(config), "--no-progress", tmp_path=tmp_path)
        assert run.returncode == 0, run.stderr
        assert summary_count(run.stdout, "new (added)") == 2  # the drive's two
        # without the flag again: the drive's rows are kept, not "gone from the folder"
        run = run_measured("DB_filler.py", str(root), "-r", "-y", "--prune", "--db", str(db), "--config",
                           str(config), "--no-progress", tmp_path=tmp_path)
        assert run.returncode == 0 and summary_count(run.stdout, "removed (gone from the folder)") == 0
        assert db_rows(db, "SELECT COUNT(*) AS n FROM images")[0]["n"] == 4


# -- 10. --workers: no more ExifTools than batches, and a cap ------------------------------------

def _max_exiftools(proc: subprocess.Popen) -> int:
    most = 0
    while proc.poll() is None:
        most = max(most, len(exiftool_children(proc.pid)))
        time.sleep(0.005)
    return most


def _filler_counting_exiftools(root: Path, db: Path, config: Path, *args: str) -> tuple[int, str, int]:
    proc = subprocess.Popen([sys.executable, str(PROJECT_DIR / "DB_filler.py"), str(root), "-y", "--db", str(db),
                             "--config", str(config), "--no-progress", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_DIR))
    most = 0
    while proc.poll() is None:
        most = max(most, len(exiftool_children(proc.pid)))
        time.sleep(0.005)
    _, err = proc.communicate()
    return proc.returncode, err, most


def test_workers_never_exceed_the_batches_nor_the_cap(tmp_path):
    root = tmp_path / "images"
    cap = 4 * (os.cpu_count() or 1)
    write_images(root, cap + 4)
    db, config = tmp_path / "workers.db", write_config(tmp_path)
    code, err, most = _filler_counting_exiftools(root, db, config, "--workers", "6", "--batch-size", "1000")
    assert code == 0, err
    assert most == 1, f"{most} ExifTools for one batch"
    code, err, most = _filler_counting_exiftools(root, db, config, "--force", "--workers", str(cap + 2),
                                                 "--batch-size", "1")
    assert code == 0, err
    assert f"starting at most {cap} (4 per CPU)" in err
    assert 1 <= most <= cap
