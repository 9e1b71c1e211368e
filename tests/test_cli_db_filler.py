"""DB_filler.py as users run it: flags, piped answers to its prompts, exit codes, interrupts."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exifdata_analytics.samples import a1111_infotext, write_png
from tests.conftest import PROJECT_DIR, rows, run_script


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    write_png(root / "a.png", {"parameters": a1111_infotext("a cat", "dog", {"Steps": 20, "Sampler": "Euler", "Seed": 1})})
    write_png(root / "sub" / "a.png", {"parameters": a1111_infotext("a cow", None, {"Steps": 9, "Sampler": "DDIM", "Seed": 2})})
    write_png(root / "plain.png")
    return root


def test_flags_index_a_folder_and_print_a_summary(folder, db_path, config_path):
    out = run_script("DB_filler.py", str(folder), "-r", "-y", "--db", str(db_path), "--config", str(config_path),
                     "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "3 image files" in out.stdout and "Database update completed successfully." in out.stdout
    assert "with generation data:" in out.stdout and "files/s" in out.stdout
    assert sorted(r["prompt"] or "" for r in rows(db_path)) == ["", "a cat", "a cow"]
    # the log goes to the folder named in config.ini
    assert (config_path.parent / "logs" / "DB_filler_LOG.txt").exists()


def test_piped_answers_to_the_original_prompts(folder, db_path, config_path):
    out = run_script("DB_filler.py", "--db", str(db_path), "--config", str(config_path), "--no-progress",
                     input=f"{folder}\nyes\n")
    assert out.returncode == 0, out.stderr
    assert "Enter the directory to update the database with:" in out.stdout
    assert "Include subfolders? (yes/no):" in out.stdout
    assert len(rows(db_path)) == 3


def test_answering_no_to_subfolders_and_a_quoted_path(folder, db_path, config_path):
    out = run_script("DB_filler.py", "--db", str(db_path), "--config", str(config_path), "--no-progress",
                     input=f'"{folder}"\nno\n')
    assert out.returncode == 0, out.stderr
    assert len(rows(db_path)) == 2


def test_a_mistyped_folder_at_the_prompt_is_asked_again(folder, db_path, config_path, tmp_path):
    (tmp_path / "a_file.txt").write_text("x", encoding="utf-8")
    out = run_script("DB_filler.py", "--db", str(db_path), "--config", str(config_path), "--no-progress",
                     input=f"{tmp_path / 'imgz'}\n{tmp_path / 'a_file.txt'}\n{folder}\nyes\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Enter the directory to update the database with:") == 3
    assert f"Folder not found: {tmp_path / 'imgz'}" in out.stdout
    assert f"Not a folder: {tmp_path / 'a_file.txt'}" in out.stdout
    assert len(rows(db_path)) == 3


def test_three_wrong_folders_end_with_a_usage_error_and_write_nothing(db_path, config_path, tmp_path):
    out = run_script("DB_filler.py", "--db", str(db_path), "--config", str(config_path), "--no-progress",
                     input="/no/such/a\n\n/no/such/b\n")
    assert out.returncode == 2
    assert "Please enter a folder." in out.stdout and "existing folder" in out.stderr
    assert not db_path.exists()


def test_nothing_to_do_draws_no_progress_bar(folder, db_path, config_path):
    from exifdata_analytics.cli.common import ProgressBar

    bar = ProgressBar(enabled=True, desc="Processing images")
    bar(0, 0)
    assert bar.bar is None  # an empty bar is not drawn
    bar(0, 3)
    assert bar.bar is not None
    bar.close()


def test_end_of_input_at_a_prompt_is_a_usage_error(db_path, config_path):
    out = run_script("DB_filler.py", "--db", str(db_path), "--config", str(config_path), input="")
    assert out.returncode == 2
    assert "standard input ended" in out.stderr


def test_yes_without_a_folder_is_a_usage_error(db_path, config_path):
    out = run_script("DB_filler.py", "-y", "--db", str(db_path), "--config", str(config_path))
    assert out.returncode == 2 and "DIR is required" in out.stderr


def test_a_missing_folder_is_a_fatal_error_naming_it(tmp_path, db_path, config_path):
    out = run_script("DB_filler.py", str(tmp_path / "nowhere"), "-y", "--db", str(db_path), "--config", str(config_path))
    assert out.returncode == 1
    assert "nowhere" in out.stderr and out.stderr.count("does not exist") == 1
    assert "Traceback" not in out.stderr


def test_a_bad_config_value_is_a_fatal_error(folder, tmp_path):
    cfg = tmp_path / "bad.ini"
    cfg.write_text("[Processing]\nbatch_size = many # oops\n")
    out = run_script("DB_filler.py", str(folder), "-y", "--config", str(cfg))
    assert out.returncode == 1 and "batch_size" in out.stderr


def test_a_database_that_is_not_sqlite_is_a_fatal_error(folder, tmp_path, config_path):
    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"definitely not sqlite" * 50)
    out = run_script("DB_filler.py", str(folder), "-y", "--db", str(bogus), "--config", str(config_path))
    assert out.returncode == 1 and "not a usable SQLite database" in out.stderr
    assert bogus.read_bytes() == b"definitely not sqlite" * 50


def test_usage_errors_from_argparse_exit_2(config_path):
    out = run_script("DB_filler.py", "--workers", "zero")
    assert out.returncode == 2
    out = run_script("DB_filler.py", ".", "-y", "--workers", "0", "--config", str(config_path))
    assert out.returncode == 2 and "--workers" in out.stderr


def test_missing_exiftool_is_a_fatal_error_with_install_instructions(folder, db_path, config_path):
    env = {"PATH": os.path.dirname(sys.executable)}  # python but no exiftool
    out = run_script("DB_filler.py", str(folder), "-y", "--db", str(db_path), "--config", str(config_path), env=env)
    assert out.returncode == 1
    assert "ExifTool not found" in out.stderr and "libimage-exiftool-perl" in out.stderr


def test_rerun_on_unchanged_folder_needs_no_exiftool(folder, db_path, config_path):
    first = run_script("DB_filler.py", str(folder), "-r", "-y", "--db", str(db_path), "--config", str(config_path))
    assert first.returncode == 0
    env = {"PATH": os.path.dirname(sys.executable)}  # exiftool is not reachable any more
    again = run_script("DB_filler.py", str(folder), "-r", "-y", "--db", str(db_path), "--config", str(config_path),
                       env=env)
    assert again.returncode == 0, again.stderr
    assert "unchanged (skipped):" in again.stdout and " 3\n" in again.stdout


def test_dry_run_and_reparse_flags(folder, db_path, config_path):
    dry = run_script("DB_filler.py", str(folder), "-r", "-y", "--dry-run", "--db", str(db_path), "--config", str(config_path))
    assert dry.returncode == 0 and "Dry run" in dry.stdout and not db_path.exists()
    run_script("DB_filler.py", str(folder), "-r", "-y", "--db", str(db_path), "--config", str(config_path))
    rep = run_script("DB_filler.py", "--reparse", "-y", "--db", str(db_path), "--config", str(config_path))
    assert rep.returncode == 0, rep.stderr
    assert "Re-parsed 3 rows" in rep.stdout


N_MANY = 2000


def _many_images(root: Path, n: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_png(root / f"{i:05d}.png", {"parameters": a1111_infotext(
            f"image {i}", "bad", {"Steps": 20 + i % 10, "Sampler": "Euler a", "Seed": i})}, size=(16, 16), seed=i)


def _wait_for_rows(db: Path, proc: subprocess.Popen, minimum: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                n = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
                con.close()
                if n >= minimum:
                    return n
            except sqlite3.Error:
                pass
        time.sleep(0.02)
    return -1


@pytest.mark.parametrize("sig, expected_code", [(signal.SIGINT, 130), (signal.SIGTERM, 130), (signal.SIGKILL, -9)])
def test_interrupted_run_keeps_finished_batches_and_the_next_run_resumes(tmp_path, config_path, sig, expected_code):
    root = tmp_path / "many"
    _many_images(root, N_MANY)  # enough that the run is still going when the signal comes
    db = tmp_path / "int.db"
    args = [sys.executable, str(PROJECT_DIR / "DB_filler.py"), str(root), "-y", "--db", str(db),
            "--config", str(config_path), "--batch-size", "5", "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = _wait_for_rows(db, proc, 10)
    if seen < 0:
        proc.kill()
        pytest.skip("the run finished before it could be interrupted")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == expected_code, err
    if sig != signal.SIGKILL:
        assert "Run the same command again to resume" in err
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    assert 0 < stored < N_MANY and stored % 5 == 0  # whole batches only
    con.close()
    # no ExifTool left behind
    time.sleep(0.3)
    leftovers = subprocess.run(["pgrep", "-f", f"exiftool.*-stay_open"], capture_output=True, text=True).stdout.split()
    assert not [pid for pid in leftovers if _parent_is(pid, proc.pid)]
    again = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"unchanged (skipped):" in again.stdout
    assert len(rows(db)) == N_MANY


def _parent_is(pid: str, parent: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1]) == parent
    except (OSError, ValueError, IndexError):
        return False


def test_the_log_named_in_the_summary_has_a_line_for_each_file_not_understood(tmp_path, db_path, config_path):
    images = tmp_path / "images"
    images.mkdir()
    write_png(images / "ok.png", {"parameters": a1111_infotext("a cat", "", {"Steps": 20, "Seed": 1})})
    write_png(images / "odd.png", {"Description": "Steps: 20, weird stuff"})
    done = run_script("DB_filler.py", str(images), "-y", "--db", str(db_path), "--config", str(config_path),
                      "--no-progress")
    assert done.returncode == 0, done.stderr
    log_path = done.stdout.split("Details of skipped and failed files: ")[1].split("\n")[0]
    log = Path(log_path).read_text(encoding="utf-8")
    assert f"not recognised: {images / 'odd.png'}: no known generation format" in log
    assert "ok.png" not in log


def test_each_failed_record_is_logged_with_its_reason(caplog):
    from exifdata_analytics.records import StatusTally
    from tests.test_analysis import record

    tally = StatusTally()
    with caplog.at_level("INFO", logger="exifdata_analytics.records"):
        tally.add_records([(record("/a/ok.png"), ()), (record("/a/bad.png", parse_status="error", error="boom"), ()),
                           (record("/a/none.png", parse_status="no_metadata"), ())])
    assert (tally.ok, tally.errors, tally.no_metadata) == (1, 1, 1)
    assert [r.getMessage() for r in caplog.records] == ["failed: /a/bad.png: boom"]


def test_an_interrupted_force_run_says_that_running_it_again_starts_over(tmp_path, config_path):
    root = tmp_path / "many"
    _many_images(root, N_MANY)
    db = tmp_path / "force.db"
    args = [sys.executable, str(PROJECT_DIR / "DB_filler.py"), str(root), "-y", "--db", str(db), "--force",
            "--config", str(config_path), "--batch-size", "5", "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if _wait_for_rows(db, proc, 10) < 0:
        proc.kill()
        pytest.skip("the run finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "running the same command again starts over" in err
    assert "Run the same command again to resume" not in err
