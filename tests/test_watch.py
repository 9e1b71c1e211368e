"""DB_filler.py DIR --watch: after the normal run, new, changed and moved images are indexed as
they appear (real watchdog observers, real files, real ExifTool, the real script), and Ctrl-C
ends it with exit 0 and the totals."""
from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exifdata_analytics.filler import FillOptions
from exifdata_analytics.samples import a1111_infotext, write_png
from exifdata_analytics.watch import Watcher, filesystem_type
from tests.conftest import PROJECT_DIR, run_script

WAIT = 30.0  # seconds a change may take to reach the database (a busy CI machine)


def _png(path: Path, prompt: str, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(path, {"parameters": a1111_infotext(prompt, None, {"Steps": 20, "Sampler": "Euler", "Seed": seed})})


def _rows(db: Path) -> dict[str, tuple[int, str]]:
    if not db.exists():
        return {}
    con = sqlite3.connect(db)
    try:
        return {p: (i, prompt) for i, p, prompt in con.execute("SELECT id, path, prompt FROM images")}
    except sqlite3.Error:
        return {}
    finally:
        con.close()


def _until(check, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"not seen within {WAIT:g} s: {what}")


class _Script:
    """DB_filler.py --watch running, its stdout read line by line in a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, str(PROJECT_DIR / "DB_filler.py"), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        pytest.fail(f"{text!r} not printed; stdout so far: {self.seen}; stderr: "
                    f"{self.proc.stderr.read() if self.proc.poll() is not None else '(running)'}")

    def stop(self, sig=signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=WAIT)
        end = self.wait_for("Stopped watching")
        return code, end


@pytest.fixture
def script_args(tmp_path, config_path):
    root = tmp_path / "imgs"
    _png(root / "first.png", "a first cat", 1)
    db = tmp_path / "w.db"
    return root, db, [str(root), "-r", "-y", "--db", str(db), "--config", str(config_path), "--no-progress",
                      "--workers", "1", "--watch"]


def test_new_changed_and_moved_images_are_indexed_as_they_appear(script_args):
    root, db, args = script_args
    run = _Script(*args)
    run.wait_for("Watching")
    assert set(_rows(db)) == {str(root / "first.png")}
    # a new file, one in a new folder, and a file that is not an image
    _png(root / "new.png", "a new dog", 2)
    _png(root / "day" / "deep.png", "a deep owl", 3)
    (root / "notes.txt").write_text("not an image", encoding="utf-8")
    _until(lambda: len(_rows(db)) == 3, "the two new images")
    assert run.wait_for("indexed").endswith("s")
    # a changed file: its row is updated in place
    first_id = _rows(db)[str(root / "first.png")][0]
    time.sleep(0.05)
    _png(root / "first.png", "a changed cat", 1)
    _until(lambda: _rows(db)[str(root / "first.png")] == (first_id, "a changed cat"), "the changed prompt")
    # a moved file keeps its row (and id)
    deep_id = _rows(db)[str(root / "day" / "deep.png")][0]
    os.rename(root / "day" / "deep.png", root / "moved.png")
    _until(lambda: _rows(db).get(str(root / "moved.png")) == (deep_id, "a deep owl"), "the moved file's row")
    code, end = run.stop()
    assert code == 0
    assert "2 new and 1 updated files, 1 moved" in end, end
    assert len(_rows(db)) == 3 and str(root / "day" / "deep.png") not in _rows(db)
    assert not [line for line in run.seen if "notes.txt" in line]


def test_polling_finds_new_images_too_and_sigterm_ends_it(script_args):
    root, db, args = script_args
    run = _Script(*args, "--poll", "0.3")
    assert "every 0.3 s" in run.wait_for("Watching")
    _png(root / "polled.png", "a polled fox", 4)
    _until(lambda: str(root / "polled.png") in _rows(db), "the polled image")
    code, end = run.stop(signal.SIGTERM)
    assert code == 0 and "1 new and 0 updated files" in end, end


def test_files_written_during_the_first_run_are_not_missed(tmp_path):
    """The watcher starts before the first run: a file written between the scan and the watch is
    seen (here written after the watcher started and before run())."""
    root = tmp_path / "imgs"
    root.mkdir()
    db = tmp_path / "lib.db"
    options = FillOptions(root=str(root), recursive=True, db_path=db, workers=1)
    batches = []
    stop = threading.Event()
    with Watcher(options) as watcher:
        assert not watcher.polling and watcher.note is None
        _png(root / "meanwhile.png", "written meanwhile", 5)
        worker = threading.Thread(target=lambda: batches.append(watcher.run(on_batch=lambda b: None, stop=stop)))
        worker.start()
        _until(lambda: str(root / "meanwhile.png") in _rows(db), "the image written before run()")
        stop.set()
        worker.join(timeout=WAIT)
    assert batches and batches[0].new == 1 and not batches[0].interrupted_batch


def test_network_file_systems_are_told_by_the_mount_table(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\nserver:/export /mnt/nas nfs4 rw 0 0\n"
                      "//host/share /mnt/my\\040share cifs rw 0 0\n", encoding="utf-8")
    assert filesystem_type("/mnt/nas/sd/outputs", str(mounts)) == "nfs4"
    assert filesystem_type("/mnt/my share/x", str(mounts)) == "cifs"
    assert filesystem_type("/mnt/nasty", str(mounts)) == "ext4"  # a prefix of a name is not its folder
    assert filesystem_type("/x", str(tmp_path / "none")) is None


@pytest.mark.parametrize("extra, message", [(["--poll", "1"], "--poll goes with --watch"),
                                            (["--watch", "--dry-run"], "--watch cannot go with --dry-run"),
                                            (["--watch", "--poll", "0"], "between 0.1 and 3600")])
def test_watch_mistakes_are_usage_errors(tmp_path, config_path, extra, message):
    (tmp_path / "imgs").mkdir()
    out = run_script("DB_filler.py", str(tmp_path / "imgs"), "-y", "--db", str(tmp_path / "x.db"),
                     "--config", str(config_path), *extra)
    assert out.returncode == 2 and message in out.stderr
    assert not (tmp_path / "x.db").exists()
