"""kill -9 of DB_filler.py at random points, and of ExifTool mid-batch.

After every kill the database passes its integrity check and holds only whole batches
(every image with its resources row); the next run completes with exactly one row per file,
and the rows committed before the kill are kept as they were (same id, same indexed_at,
counted as 'unchanged'): nothing already committed is extracted again.

Default: 1,500 files, 3 kills (~10 s). EXIFDATA_SLOW_TESTS=1: 5,000 files, 5 kills.
EXIFDATA_CRASH_SEED picks other random kill points.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.robust_support import small_corpus  # noqa: F401 - the shared corpus fixture
from tests.robust_support import (alive, db_rows, exiftool_children, integrity, kill, make_small_corpus, row_count,
                                  script_cmd, summary_count, wait_for_rows, wait_gone, write_config)

SLOW = os.environ.get("EXIFDATA_SLOW_TESTS") == "1"
N_FILES, N_KILLS = (5000, 5) if SLOW else (1500, 3)
BATCH = 20
SEED = int(os.environ.get("EXIFDATA_CRASH_SEED", "6"))


@pytest.fixture(scope="module")
def corpus(small_corpus, tmp_path_factory) -> tuple[Path, list[str]]:
    if N_FILES == len(small_corpus[1]):
        return small_corpus
    root = tmp_path_factory.mktemp("crash_corpus")
    return root, make_small_corpus(root, N_FILES)


def _state(db: Path) -> dict[str, tuple]:
    """path -> (id, indexed_at, sha256, prompt) of every committed row."""
    return {r["path"]: (r["id"], r["indexed_at"], r["sha256"], r["prompt"])
            for r in db_rows(db, "SELECT id, path, indexed_at, sha256, prompt FROM images")}


def _assert_whole_batches(db: Path) -> None:
    images = db_rows(db, "SELECT COUNT(*) FROM images")[0][0]
    resources = db_rows(db, "SELECT COUNT(*) FROM resources")[0][0]
    orphans = db_rows(db, "SELECT COUNT(*) FROM images WHERE id NOT IN (SELECT image_id FROM resources)")[0][0]
    assert (resources, orphans) == (images, 0)  # one LoRA per image, written in the image's transaction


def test_kill_9_at_random_points_loses_nothing_and_the_next_run_resumes(corpus, tmp_path):
    root, paths = corpus
    db = tmp_path / "crash.db"
    config = write_config(tmp_path, batch_size=BATCH)
    args = script_cmd("DB_filler.py", str(root), "-r", "-y", "--db", str(db), "--config", str(config),
                      "--batch-size", str(BATCH), "--no-progress")
    rng = random.Random(SEED)
    committed: dict[str, tuple] = {}
    kills = []
    for k in range(N_KILLS):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if k == 0:
            time.sleep(rng.uniform(0.05, 0.8))  # anywhere from start-up (imports, schema) to the first batches
        else:
            left = N_FILES - len(committed)
            wait_for_rows(db, proc, len(committed) + rng.randint(BATCH, max(BATCH + 1, left // (N_KILLS - k + 1))))
            time.sleep(rng.uniform(0, 0.05))  # between commits, or inside one
        exiftools = exiftool_children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # ExifTool notices its closed stdin and exits: no orphans
        assert wait_gone(exiftools) == []
        has_table = db.exists() and bool(db_rows(db, "SELECT 1 FROM sqlite_master WHERE name = 'images'"))
        if db.exists():  # killed inside the schema transaction: an empty but sound file
            assert integrity(db) == "ok"
        if has_table:
            _assert_whole_batches(db)
        state = _state(db) if has_table else {}
        assert len(state) < N_FILES, "the run finished before the kill; pick another EXIFDATA_CRASH_SEED"
        assert {p: state.get(p) for p in committed} == committed  # earlier commits untouched
        kills.append(len(state) - len(committed))
        committed = state
    print(f"\n{N_KILLS} kills of DB_filler.py on {N_FILES} files; rows committed by each killed run: {kills}")

    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert summary_count(done.stdout, "unchanged (skipped)") == len(committed)
    assert summary_count(done.stdout, "new (added)") == N_FILES - len(committed)
    assert summary_count(done.stdout, "errors") == 0
    assert integrity(db) == "ok"
    _assert_whole_batches(db)
    state = _state(db)
    assert sorted(state) == sorted(paths)  # exactly one row per file
    assert {p: state[p] for p in committed} == committed  # not re-extracted: same id and indexed_at
    assert all(v[3].startswith("a cat number ") for v in state.values())


def test_an_exiftool_killed_mid_batch_is_restarted_and_its_files_retried(small_corpus, tmp_path):
    root, paths = small_corpus
    folder = root / "part0"  # 300 of the 1,500 files
    wanted = sorted(p for p in paths if os.path.dirname(p) == str(folder))
    db = tmp_path / "etkill.db"
    args = script_cmd("DB_filler.py", str(folder), "-y", "--db", str(db), "--config", str(write_config(tmp_path)),
                      "--batch-size", "25", "--workers", "2", "--no-progress")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_rows(db, proc, 50) > 0, "the run ended before ExifTool could be killed"
        victims = exiftool_children(proc.pid)
        assert len(victims) == 2
        kill(victims[0])
        killed_at, kill_time = row_count(db), time.monotonic()
        out, err = proc.communicate(timeout=120)
        after_kill = time.monotonic() - kill_time
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if killed_at == len(wanted):
        pytest.skip("every batch was stored before the kill landed")
    assert proc.returncode == 0, err
    assert not alive(victims[0])
    # the rest of the run takes < 1 s; while the watchdog logged before killing, the dead
    # ExifTool's reader (spinning at EOF) starved the logging thread: 4 s to over a minute
    print(f"\nExifTool killed at {killed_at} rows; the run finished {after_kill:.1f} s later")
    assert after_kill < 6, f"{after_kill:.1f} s to finish after the kill"
    assert "ExifTool restarts: " in out, out
    assert summary_count(out, "errors") == 0
    assert summary_count(out, "with generation data") == len(wanted)
    assert "Traceback" not in err
    assert sorted(_state(db)) == wanted
    statuses = db_rows(db, "SELECT parse_status, COUNT(*) FROM images GROUP BY parse_status")
    assert [tuple(r) for r in statuses] == [("ok", len(wanted))]
    assert integrity(db) == "ok"
