"""Hostile file and folder names through the real DB_filler.py.

Every image is indexed under its exact path or clearly reported (names that are not UTF-8,
folders deeper than PATH_MAX), and DB_filler.py modifies, creates or deletes nothing in the
tree: sha256, size, mode and mtime of every file and folder are the same before and after.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png, write_webp
from tests.robust_support import db_rows, integrity, run_measured, summary_count, tree_snapshot, write_config

# name -> writer; folders are created on the way
HOSTILE_FILES = [
    "-dash.png", "-@.png", "-execute.jpg", "-stay_open.webp", "--.png", "#hash.png", "#[CSTR]x.png",
    "  both ends  .png", " leading.webp", "trailing .jpg", "new\nline.png", "new\nline.jpg",
    "literal \\n and\nreal newline.png", "tab\there.png", "cr\rreturn.webp", "quo\"te'.png",
    "semi;colon|pipe&amp $(x) `y`.png", "ünï ｃödé 猫.png", "emoji 🐈‍⬛.jpg",
    "a" * 251 + ".png",  # 255 bytes
    "猫" * 83 + "é.png",  # 255 bytes of UTF-8, 86 characters
    "-rf dir/-inner.png", "# comment dir/#inner.jpg", " spaced dir /  both  .webp",
    "new\nline dir/x\ny.png", "dir\twith tab/t\tt.png",
]
NOT_UTF8_FILES = [b"latin1-\xe9t\xe9.png", b"dir-\xff\xfe/inside.png", b"dir-\xff\xfe/inside2.jpg"]


def _write(path: Path, i: int) -> None:
    text = a1111_infotext(f"hostile prompt {i}", "blurry", {"Steps": i + 1, "Sampler": "Euler", "Seed": i})
    ext = os.path.splitext(os.fsdecode(path))[1].lower()
    if ext == ".png":
        write_png(path, {"parameters": text}, size=(16, 16), seed=i)
    elif ext == ".jpg":
        write_jpeg(path, user_comment=text, size=(16, 16), seed=i)
    else:
        write_webp(path, user_comment=text, size=(16, 16), seed=i)


def _deep_folder(root: Path, target_len: int) -> Path:
    d = str(root)
    while len(os.fsencode(d)) < target_len:
        d = os.path.join(d, "nest" + "n" * 36)
    return Path(d)


@pytest.fixture
def hostile_tree(tmp_path: Path):
    """The tree, and path -> (prompt, steps) of every file that must be indexed."""
    root = tmp_path / "tree"
    root.mkdir()
    expected: dict[str, tuple[str, int]] = {}
    i = 0
    for name in HOSTILE_FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, i)
        expected[str(path)] = (f"hostile prompt {i}", i + 1)
        i += 1
    for raw in NOT_UTF8_FILES:
        path = os.fsencode(root) + b"/" + raw
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(Path(os.fsdecode(path)), i)
        i += 1
    # not images though named so: a FIFO (opening it would block) and a link to nowhere (reported)
    os.mkfifo(root / "fifo.png")
    os.symlink(root / "nowhere.png", root / "dangling.png")
    # deep: a path of ~3,900 bytes (indexed) ...
    deep = _deep_folder(root / "deep", 3800)
    deep.mkdir(parents=True)
    _write(deep / "deep.png", i)
    expected[str(deep / "deep.png")] = (f"hostile prompt {i}", i + 1)
    i += 1
    # ... and a folder past PATH_MAX (4,096), made relative to a descriptor: reported, not indexed
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(6):
            os.mkdir("m" * 60, dir_fd=fd)
            new = os.open("m" * 60, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        tmp = deep / "tmp_too_deep.png"
        _write(tmp, i)
        os.rename(tmp, "too_deep.png", dst_dir_fd=fd)
    finally:
        os.close(fd)
    return root, expected


def test_hostile_names_are_indexed_or_reported_and_the_tree_is_untouched(hostile_tree, tmp_path):
    root, expected = hostile_tree
    db = tmp_path / "names.db"  # outside the tree, as are the logs
    config = write_config(tmp_path)
    before = tree_snapshot(root)
    assert len([k for k, v in before.items() if v[0] == "file"]) == len(expected) + len(NOT_UTF8_FILES) + 1
    assert len([k for k, v in before.items() if v[0] in ("other", "link")]) == 2

    first = run_measured("DB_filler.py", str(root), "-r", "-y", "--db", str(db), "--config", str(config),
                         "--no-progress", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    n = len(expected)
    assert summary_count(first.stdout, "new (added)") == n
    assert summary_count(first.stdout, "with generation data") == n
    assert summary_count(first.stdout, "errors") == 0
    # 3 names that are not UTF-8, a link to nowhere, a folder past PATH_MAX: each named on the
    # console and in the log
    assert summary_count(first.stdout, "folders/files that could not be read") == 5
    log = (tmp_path / "logs" / "DB_filler_LOG.txt").read_text("utf-8")
    for shown in ("latin1-\\xe9t\\xe9.png", "dir-\\xff\\xfe/inside.png", "dir-\\xff\\xfe/inside2.jpg"):
        assert shown in first.stderr and shown in log
        assert "not valid UTF-8" in first.stderr
    assert "File name too long" in first.stderr and "File name too long" in log
    assert "dangling.png" in first.stderr and "dangling.png" in log

    stored = {r["path"]: r for r in db_rows(db, "SELECT * FROM images")}
    assert set(stored) == set(expected)
    for path, (prompt, steps) in expected.items():
        row = stored[path]
        assert (row["prompt"], row["steps"], row["parse_status"]) == (prompt, steps, "ok"), path
        assert row["file_name"] == os.path.basename(path) and row["folder"] == os.path.dirname(path)
    assert integrity(db) == "ok"
    assert tree_snapshot(root) == before

    # again, reading every file (--force): same rows, tree still untouched
    again = run_measured("DB_filler.py", str(root), "-r", "-y", "--force", "--db", str(db), "--config", str(config),
                         "--no-progress", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert summary_count(again.stdout, "changed (updated)") == n
    assert summary_count(again.stdout, "errors") == 0
    assert len(db_rows(db, "SELECT id FROM images")) == n
    assert tree_snapshot(root) == before

    # the stored paths lead back to the files: the integrity check finds none missing or changed
    check = run_measured("parameter_statistic_DB.py", "integrity", "--json", "--db", str(db), "--config", str(config),
                         tmp_path=tmp_path)
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert (report["rows"], report["missing_files"], report["changed_files"]) == (n, 0, 0)
    assert tree_snapshot(root) == before


def test_a_root_folder_whose_name_is_not_utf8_is_reported_not_fatal(tmp_path):
    root = os.fsencode(tmp_path) + b"/root-\xe9"
    os.makedirs(root + b"/sub")
    for i, name in enumerate((b"a.png", b"sub/b.png")):
        _write(Path(os.fsdecode(root + b"/" + name)), i)
    db = tmp_path / "r.db"
    before = tree_snapshot(os.fsdecode(root))
    run = run_measured("DB_filler.py", os.fsdecode(root), "-r", "-y", "--db", str(db),
                       "--config", str(write_config(tmp_path)), "--no-progress", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert summary_count(run.stdout, "folders/files that could not be read") == 2
    assert run.stderr.count("not valid UTF-8") == 2
    assert db_rows(db, "SELECT COUNT(*) FROM images")[0][0] == 0
    assert tree_snapshot(os.fsdecode(root)) == before
