"""The ExifTool pool against the real exiftool: batching, hostile names, dead and hung processes."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from exifdata_analytics.errors import ExifToolError, ExifToolNotFoundError
from exifdata_analytics.exiftool import ExifToolPool, exiftool_argument, find_exiftool
from exifdata_analytics.samples import write_jpeg, write_png

HOSTILE_NAMES = [
    "-dash.png", "#hash.png", " leading space.png", "trailing space .png", "line\nbreak.png",
    "carriage\rreturn.png", "back\\slash.png", 'quo"te.png', "tab\there.png", "ünïcödé 猫.png",
    "-execute.png", "-stay_open.png", "--.png", "{ready}.png",
]


def _prompt_of(tags: dict) -> str:
    return tags["PNG:Parameters"]


@pytest.fixture
def hostile_folder(tmp_path: Path) -> list[str]:
    paths = []
    for i, name in enumerate(HOSTILE_NAMES):
        p = tmp_path / name
        write_png(p, {"parameters": f"prompt number {i}\nSteps: {i + 1}, Sampler: Euler, CFG scale: 7"}, seed=i)
        paths.append(str(p))
    return paths


def test_read_returns_each_files_tags_for_hostile_names(hostile_folder):
    with ExifToolPool(workers=1) as pool:
        results = pool.read(hostile_folder)
    assert [r.path for r in results] == hostile_folder
    for i, r in enumerate(results):
        assert r.error is None, (r.path, r.error)
        assert _prompt_of(r.tags).startswith(f"prompt number {i}\n")
        assert r.tags["SourceFile"] == r.path


def test_newline_names_use_cstr_escaping():
    assert exiftool_argument("/a/b.png") == "/a/b.png"
    assert exiftool_argument("/a/x\ny\\z.png") == "#[CSTR]/a/x\\ny\\\\z.png"


def test_missing_and_empty_files_are_per_file_errors(tmp_path):
    good = write_png(tmp_path / "good.png", {"parameters": "a cat\nSteps: 5, Sampler: Euler, CFG scale: 7"})
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.png"
    with ExifToolPool(workers=1) as pool:
        results = pool.read([str(missing), str(good), str(empty)])
    assert "not found" in results[0].error.lower()
    assert results[1].error is None and _prompt_of(results[1].tags).startswith("a cat")
    assert results[2].tags["ExifTool:Error"] == "File is empty"


def test_json_keeps_newlines_and_repeated_png_keys(tmp_path):
    p = write_png(tmp_path / "twice.png", [("prompt", "first"), ("prompt", "second\nline")])
    with ExifToolPool(workers=1) as pool:
        (r,) = pool.read([str(p)])
    values = sorted(v for k, v in r.tags.items() if k.endswith(":Prompt"))
    assert values == ["first", "second\nline"]


def test_text_chunk_after_idat_is_read(tmp_path):
    p = write_png(tmp_path / "late.png", {"parameters": "late text\nSteps: 3, Sampler: Euler, CFG scale: 5"},
                  text_after_idat=True)
    with ExifToolPool(workers=1) as pool:
        (r,) = pool.read([str(p)])
    assert _prompt_of(r.tags).startswith("late text")


def test_jpeg_user_comment_is_decoded(tmp_path):
    p = write_jpeg(tmp_path / "a.jpg", user_comment="猫 on a mat\nNegative prompt: dog\nSteps: 9")
    with ExifToolPool(workers=1) as pool:
        (r,) = pool.read([str(p)])
    assert r.tags["ExifIFD:UserComment"] == "猫 on a mat\nNegative prompt: dog\nSteps: 9"


def test_dead_exiftool_is_restarted_and_the_batch_retried(hostile_folder):
    with ExifToolPool(workers=1) as pool:
        first_pid = pool._workers[0].pid
        os.kill(first_pid, signal.SIGKILL)
        time.sleep(0.2)
        results = pool.read(hostile_folder[:4])
        assert pool.restarts >= 1
        assert pool._workers[0].pid != first_pid
    assert all(r.error is None for r in results)


def test_hung_exiftool_is_killed_after_its_timeout_and_the_batch_retried(hostile_folder):
    with ExifToolPool(workers=1, timeout_base=1.0, timeout_per_file=0.0) as pool:
        os.kill(pool._workers[0].pid, signal.SIGSTOP)  # a hang: alive but silent
        started = time.monotonic()
        results = pool.read(hostile_folder[:3])
        elapsed = time.monotonic() - started
    assert all(r.error is None for r in results)
    assert 0.9 < elapsed < 15


def test_exiftool_dying_at_start_up_is_an_error_not_a_hang(tmp_path):
    # A wrapper whose ExifTool is killed right after launch: pyexiftool alone would spin
    # forever waiting for the version answer; the watchdog turns it into a clear error.
    wrapper = tmp_path / "dying-exiftool"
    wrapper.write_text("#!/bin/sh\nexiftool \"$@\" &\nchild=$!\nsleep 0.5\nkill -9 $child\nexit 1\n")
    wrapper.chmod(0o755)
    started = time.monotonic()
    pool = ExifToolPool(workers=1, executable=str(wrapper), timeout_base=30)
    with pytest.raises(ExifToolError, match="cannot start ExifTool"):
        pool.start()
    assert time.monotonic() - started < 10


def test_missing_executable_names_the_fix():
    with pytest.raises(ExifToolNotFoundError) as info:
        find_exiftool("no-such-exiftool-here")
    assert "apt-get install libimage-exiftool-perl" in str(info.value)


def test_pool_serves_several_threads_at_once(hostile_folder):
    from concurrent.futures import ThreadPoolExecutor

    with ExifToolPool(workers=2) as pool:
        with ThreadPoolExecutor(2) as ex:
            outs = list(ex.map(pool.read, [hostile_folder[:7], hostile_folder[7:]] * 3))
    assert sum(len(o) for o in outs) == 3 * len(hostile_folder)
    assert all(r.error is None for o in outs for r in o)
