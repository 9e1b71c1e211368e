"""The database under mistakes and concurrency: prunes of a folder that is suddenly empty (an
unmounted drive), first runs started together, a restored database in rollback-journal mode
while another program writes, another program's database given as --db (refused and left
byte-identical), Ctrl-C during an export, and ``search --all`` over many rows (streamed).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR
from tests.robust_support import (db_rows, integrity, run_measured, script_cmd, summary_count, write_config,
                                  write_images)


def _filler(tmp_path: Path, folder: Path, db: Path, config: Path, *extra: str, timeout: float = 120):
    return run_measured("DB_filler.py", str(folder), "-y", "--db", str(db), "--config", str(config),
                        "--no-progress", *extra, tmp_path=tmp_path, timeout=timeout)


def _db_tool(tmp_path: Path, db: Path, config: Path, *args: str):
    return run_measured("parameter_statistic_DB.py", "--db", str(db), "--config", str(config), "--no-progress",
                        *args, tmp_path=tmp_path)


def _count(db: Path) -> int:
    return db_rows(db, "SELECT COUNT(*) AS n FROM images")[0]["n"]


# -- 5. prune of an empty mount point ---------------------------------------------------------

@pytest.fixture
def unmounted(tmp_path) -> tuple[Path, Path, Path, Path]:
    """A drive's folder indexed, then emptied as an unmounted drive leaves its mount point:
    (mount point, its files moved aside, database, config)."""
    drive = tmp_path / "drive"
    write_images(drive / "2024", 4)
    write_images(drive, 2, "top")
    db, config = tmp_path / "prune.db", write_config(tmp_path)
    run = _filler(tmp_path, drive, db, config, "-r")
    assert run.returncode == 0 and _count(db) == 6, run.stderr
    aside = tmp_path / "aside"
    shutil.move(str(drive), str(aside))
    drive.mkdir()  # the empty mount point
    return drive, aside, db, config


def test_db_filler_refuses_to_prune_a_folder_that_holds_no_images(unmounted, tmp_path):
    drive, _, db, config = unmounted
    run = _filler(tmp_path, drive, db, config, "-r", "--prune")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not pruning" in run.stderr and "holds no image files at all" in run.stderr and "6 rows" in run.stderr
    assert "mount it first" in run.stderr and "--prune --force" in run.stderr
    assert _count(db) == 6
    run = _filler(tmp_path, drive, db, config, "-r", "--prune", "--force")
    assert run.returncode == 0, run.stderr
    assert summary_count(run.stdout, "removed (gone from the folder)") == 6
    assert _count(db) == 0


def test_db_filler_prune_says_how_many_rows_it_removed(tmp_path):
    root = tmp_path / "images"
    files = write_images(root, 3)
    db, config = tmp_path / "p.db", write_config(tmp_path)
    assert _filler(tmp_path, root, db, config).returncode == 0
    run = _filler(tmp_path, root, db, config, "--prune")
    assert run.returncode == 0 and summary_count(run.stdout, "removed (gone from the folder)") == 0
    files[0].unlink()
    run = _filler(tmp_path, root, db, config, "--prune")
    assert run.returncode == 0 and summary_count(run.stdout, "removed (gone from the folder)") == 1
    assert _count(db) == 2


def test_the_prune_command_refuses_an_empty_mount_point_unless_forced(unmounted, tmp_path):
    drive, aside, db, config = unmounted
    kept = tmp_path / "kept"  # another folder of the database, still there, with a file deleted
    files = write_images(kept, 2, "kept")
    assert _filler(tmp_path, kept, db, config).returncode == 0
    files[0].unlink()
    run = _db_tool(tmp_path, db, config, "prune", "--dry-run")
    assert run.returncode == 0 and f"Warning: not pruning: {drive} holds no image files at all" in run.stdout
    run = _db_tool(tmp_path, db, config, "prune", "--yes")
    assert run.returncode == 1 and "not pruning" in run.stderr and "pass --force" in run.stderr, run.stderr
    assert _count(db) == 8
    run = _db_tool(tmp_path, db, config, "prune", "--yes", "--under", str(kept))  # a real deletion: pruned
    assert run.returncode == 0 and "Removed 1 rows of missing files." in run.stdout, run.stdout
    run = _db_tool(tmp_path, db, config, "prune", "--yes", "--under", str(drive))
    assert run.returncode == 1 and _count(db) == 7
    run = _db_tool(tmp_path, db, config, "prune", "--yes", "--force")
    assert run.returncode == 0 and "Removed 6 rows of missing files." in run.stdout, run.stdout
    assert _count(db) == 1
    assert aside.is_dir()


# -- 6. concurrency ----------------------------------------------------------------------------

def test_first_runs_started_together_on_a_new_database_all_succeed(tmp_path):
    root = tmp_path / "images"
    write_images(root, 30)
    db, config = tmp_path / "together.db", write_config(tmp_path)
    procs = [subprocess.Popen(script_cmd("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(config),
                                         "--no-progress", "--workers", "1", "--batch-size", "5"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_DIR))
             for _ in range(8)]
    results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0] * 8, [err for code, err in results if code]
    assert _count(db) == 30 and integrity(db) == "ok"
    assert db_rows(db, "PRAGMA user_version")[0][0] >= 1


_HOLD_WRITE_LOCK = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("UPDATE images SET steps = steps")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


def test_switching_a_restored_database_to_wal_waits_for_another_writer(tmp_path):
    root = tmp_path / "images"
    write_images(root, 5)
    db, config = tmp_path / "restored.db", write_config(tmp_path)
    assert _filler(tmp_path, root, db, config).returncode == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"  # as a backup is
    con.close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_WRITE_LOCK, str(db), "2"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        run = _filler(tmp_path, root, db, config, "--force")
    finally:
        holder.wait(timeout=30)
        holder.stdout.close()
    assert run.returncode == 0, run.stderr
    assert run.elapsed > 1.0  # it waited for the other writer, as the busy timeout promises
    assert db_rows(db, "PRAGMA journal_mode")[0][0] == "wal"


# -- 7. another program's database is refused untouched ----------------------------------------

def _foreign(path: Path, user_version: int = 0) -> str:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    con.executemany("INSERT INTO notes (text) VALUES (?)", [(f"note {i}",) for i in range(50)])
    con.execute(f"PRAGMA user_version = {user_version}")
    con.commit()
    con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("user_version", [0, 1, 2])
def test_another_programs_database_is_refused_and_left_byte_identical(tmp_path, user_version):
    root = tmp_path / "images"
    write_images(root, 2)
    foreign = tmp_path / "someone_elses.sqlite"
    digest = _foreign(foreign, user_version)
    config = write_config(tmp_path)
    runs = [
        _filler(tmp_path, root, foreign, config),
        _filler(tmp_path, root, foreign, config, "--prune"),
        run_measured("parameter_statistic.py", "-y", "--db", str(foreign), "--config", str(config), "--no-plots",
                     "--out", str(tmp_path / "out"), tmp_path=tmp_path),
        *(_db_tool(tmp_path, foreign, config, *cmd) for cmd in (("stats",), ("prune", "--yes"), ("optimize",),
                                                                ("clear", "--yes"), ("integrity",))),
    ]
    for run in runs:
        assert run.returncode == 1 and "it is not ours" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.glob("someone_elses.sqlite*")) == ["someone_elses.sqlite"]


# -- 10. Ctrl-C during an export; search --all streamed -------------------------------------------

def _many_rows(db: Path, copies: int, prompt_bytes: int) -> int:
    """Multiply the rows of a real database (new paths, long distinct prompts)."""
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(images)") if r[1] != "id"]
    picked = ", ".join("path || '/' || :n" if c == "path" else
                       f"prompt || ' ' || hex(randomblob({prompt_bytes // 2}))" if c == "prompt" else c for c in cols)
    originals = con.execute("SELECT MAX(id) FROM images").fetchone()[0]
    for n in range(copies):
        con.execute(f"INSERT INTO images ({', '.join(cols)}) SELECT {picked} FROM images WHERE id <= :originals",
                    {"n": str(n), "originals": originals})
    con.commit()
    total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    con.close()
    return total


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("big_db")
    root = tmp_path / "images"
    write_images(root, 100)
    db, config = tmp_path / "big.db", write_config(tmp_path)
    assert _filler(tmp_path, root, db, config).returncode == 0
    assert _many_rows(db, 99, 8000) == 10_000
    return db, config


def test_ctrl_c_during_an_export_is_one_line_and_leaves_nothing(big_db, tmp_path):
    db, config = big_db
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(script_cmd("parameter_statistic_DB.py", "--db", str(db), "--config", str(config),
                                       "--no-progress", "export", str(out / "all.jsonl")),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_DIR))
    deadline = time.monotonic() + 30
    while not any(out.iterdir()) and time.monotonic() < deadline:  # the export has begun writing
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stdout + stderr
    assert stderr.strip() == "Interrupted.", stderr
    assert list(out.iterdir()) == []


def test_search_all_streams_its_rows(big_db, tmp_path):
    db, config = big_db
    one = _db_tool(tmp_path, db, config, "search", "cat", "--limit", "1", "--json")
    # the text first, the JSON last: a child's peak RSS counts the pages it shares with this
    # process when forked, so this process must not hold the 80 MB of JSON read back yet
    runs = {args: _db_tool(tmp_path, db, config, "search", "cat", "--all", *args) for args in ((), ("--json",))}
    assert one.returncode == 0 and json.loads(one.stdout)["total"] == 10_000
    for args, every in runs.items():
        assert every.returncode == 0, every.stderr
        # 80 MB of prompts: held at once they cost hundreds of MB; streamed, a few
        assert every.peak_rss_mb - one.peak_rss_mb < 40, (args, every.peak_rss_mb, one.peak_rss_mb)
    assert runs[()].stdout.startswith("10,000 images match 'cat'") and runs[()].stdout.count("img_") >= 10_000
    hits = json.loads(runs[("--json",)].stdout)["hits"]
    assert len(hits) == 10_000 and len(hits[-1]["prompt"]) > 8000
