"""Maintenance functions over databases that DB_filler built from real generated images."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from exifdata_analytics import maintenance as m
from exifdata_analytics.errors import DatabaseError, InputError
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import PROJECT_DIR


def make_images(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    write_png(root / "cat.png", {"parameters": a1111_infotext(
        "a cat, red hair", "blurry", {"Steps": 30, "Sampler": "Euler a", "CFG scale": 7, "Seed": 1,
                                      "Size": "512x768", "Model": "dreamshaper_8"})})
    write_png(root / "sub" / "dog.png", {"parameters": a1111_infotext(
        "a dog <lora:add_detail:0.8>", None, {"Steps": 20, "Sampler": "DPM++ 2M", "Seed": 2,
                                              "Model": "ponyDiffusionV6XL"})})
    write_jpeg(root / "sub" / "owl.jpg", user_comment=a1111_infotext(
        "an owl", "lowres", {"Steps": 25, "Sampler": "Euler a", "Seed": 3, "Model": "dreamshaper_8"}))
    write_png(root / "plain.png")
    return root


def build(tmp: Path) -> tuple[Path, Path]:
    images = make_images(tmp / "imgs")
    dbp = tmp / "t.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=dbp, workers=1, batch_size=10))
    return images, dbp


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """A read-only-by-convention database for the tests that do not change anything."""
    return build(tmp_path_factory.mktemp("maint"))


@pytest.fixture
def fresh(tmp_path) -> tuple[Path, Path]:
    return build(tmp_path)


def test_stats_count_images_generators_models_and_dates(built):
    _, dbp = built
    s = m.database_stats(dbp)
    assert (s.images, s.with_generation_data, s.without_generation_data, s.errors) == (4, 3, 1, 0)
    assert s.total_records == 4
    assert dict(s.by_generator) == {"A1111": 3}
    assert s.distinct_models == 2 and s.distinct_samplers == 2 and s.distinct_loras == 1
    assert s.top_models[0] == ("dreamshaper_8", 2)
    assert s.folders == 2 and s.first_created and s.last_indexed
    assert dict(s.by_format) == {"PNG": 3, "JPEG": 1}


def test_sample_returns_n_rows_at_random(built):
    _, dbp = built
    assert len(m.metadata_sample(dbp, 2)) == 2
    assert len(m.metadata_sample(dbp, 10)) == 4
    assert all(h.parse_status == "ok" for h in m.metadata_sample(dbp, 10, with_generation_data=True))


def test_size_and_last_modified(built):
    _, dbp = built
    size = m.database_size(dbp)
    assert size.file_bytes == dbp.stat().st_size and int(size) == size.file_bytes
    assert size.page_size * size.page_count == size.file_bytes
    assert "images" in dict(size.tables)
    lm = m.last_modified(dbp)
    assert abs(lm.timestamp - dbp.stat().st_mtime) < 24 * 3600 and lm.last_indexed and float(lm) > 0


def test_search_and_models_per_folder(built):
    images, dbp = built
    assert [h.file_name for h in m.search_metadata(dbp, "dog").hits] == ["dog.png"]
    usage = m.list_models_in_directory(dbp, images / "sub")
    assert [(u.model, u.count) for u in usage] == [("dreamshaper_8", 1), ("ponyDiffusionV6XL", 1)]
    assert [u.model for u in m.list_models_in_directory(dbp, images, recursive=False)] == ["dreamshaper_8"]


def test_integrity_passes_then_reports_missing_and_changed_files(fresh):
    images, dbp = fresh
    report = m.check_database_integrity(dbp)
    assert report.ok and bool(report) and report.rows == 4 and report.fts_ok is True
    (images / "cat.png").unlink()
    with open(images / "plain.png", "ab") as fh:
        fh.write(b"x")
    report = m.check_database_integrity(dbp)
    assert report.database_ok and not report.ok and bool(report)
    assert report.missing_files == 1 and report.missing_examples == (str(images / "cat.png"),)
    assert report.changed_files == 1
    assert not m.check_database_integrity(dbp, check_files=False).files_checked


def test_integrity_detects_a_search_index_out_of_step(fresh):
    _, dbp = fresh
    con = sqlite3.connect(dbp)
    con.execute("DROP TRIGGER images_fts_update")  # then a changed prompt leaves the index stale
    con.execute("UPDATE images SET prompt = 'something else' WHERE file_name = 'cat.png'")
    con.commit()
    con.close()
    report = m.check_database_integrity(dbp, check_files=False)
    assert report.fts_ok is False and not report.database_ok and not bool(report)


def test_integrity_detects_foreign_key_violations(fresh):
    _, dbp = fresh
    con = sqlite3.connect(dbp)  # foreign keys are off by default in a plain connection
    con.execute("INSERT INTO resources (image_id, kind, name) VALUES (9999, 'lora', 'ghost')")
    con.commit()
    con.close()
    report = m.check_database_integrity(dbp, check_files=False)
    assert report.foreign_key_violations == 1 and not report.database_ok


def test_backup_is_timestamped_verified_and_complete(built, tmp_path):
    _, dbp = built
    when = datetime(2024, 5, 1, 12, 30, 45)
    first = m.backup_database(dbp, tmp_path / "bk", now=when)
    second = m.backup_database(dbp, tmp_path / "bk", now=when)
    assert Path(first.backup_path).name == "t_backup_20240501_123045.db"
    assert Path(second.backup_path).name == "t_backup_20240501_123045_2.db"
    assert first.integrity == "ok" and first.images == 4
    copy = sqlite3.connect(first.backup_path)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert copy.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 4
    finally:
        copy.close()
    assert not list((tmp_path / "bk").glob("*.partial"))
    assert m.check_database_integrity(first.backup_path, check_files=False).database_ok


def test_backup_into_an_impossible_folder_is_an_input_error(built, tmp_path):
    _, dbp = built
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="backup folder"):
        m.backup_database(dbp, blocker / "bk")


def _rows(dbp: Path) -> int:
    try:
        con = m.open_database(dbp)
    except DatabaseError:
        return 0
    try:
        return con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    except (sqlite3.Error, DatabaseError):  # the file or schema is being created this very moment
        return 0
    finally:
        con.close()


def test_backup_while_db_filler_writes_is_consistent(tmp_path):
    """DB_filler.py (a real subprocess) indexes a few hundred images in small batches while
    backups are taken; every backup must pass integrity and hold whole batches only."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):
        write_png(folder / f"{i:04d}.png", {"parameters": a1111_infotext(
            f"image {i} of a busy run", "lowres", {"Steps": 20, "Seed": i, "Sampler": "Euler"})}, size=(8, 8))
    dbp = tmp_path / "busy.db"
    proc = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "DB_filler.py"), str(folder), "-y", "--db", str(dbp),
         "--batch-size", "5", "--workers", "1", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(PROJECT_DIR))
    backups, during = [], 0
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if dbp.exists() and _rows(dbp) > 0:
                result = m.backup_database(dbp, tmp_path / "bk")
                if proc.poll() is None:
                    during += 1
                backups.append(result)
            else:
                time.sleep(0.02)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert during >= 1, "no backup was taken while DB_filler.py was writing"
    counts = []
    for b in backups:
        report = m.check_database_integrity(b.backup_path, check_files=False)
        assert report.database_ok, report
        con = sqlite3.connect(b.backup_path)
        try:
            n = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
            assert n == con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'busy'").fetchone()[0]
        finally:
            con.close()
        assert n == b.images and n % 5 == 0  # whole batches only
        counts.append(n)
    assert counts == sorted(counts) and 0 < counts[0] < 200
    print(f"{len(backups)} backups, {during} while writing: {counts}")


def test_clear_removes_every_row_resource_and_index_entry(fresh):
    _, dbp = fresh
    result = m.clear_database(dbp)
    assert (result.images, result.resources) == (4, 1)
    con = sqlite3.connect(dbp)
    try:
        assert con.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM resources").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'cat'").fetchone()[0] == 0
        # the delete trigger, set aside during the clear, is back and keeps the index in step
        con.execute("INSERT INTO images (path, file_name, folder, prompt, parse_status, indexed_at) "
                    "VALUES ('/x/a.png', 'a.png', '/x', 'a lone zebra', 'ok', 't')")
        con.execute("DELETE FROM images WHERE path = '/x/a.png'")
        con.commit()
        assert con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'zebra'").fetchone()[0] == 0
    finally:
        con.close()
    assert m.check_database_integrity(dbp).database_ok


def test_optimize_keeps_the_data_and_folds_the_wal(fresh):
    _, dbp = fresh
    m.clear_database(dbp)
    result = m.optimize_database(dbp)
    assert result.bytes_after <= result.bytes_before
    assert not Path(str(dbp) + "-wal").exists() or Path(str(dbp) + "-wal").stat().st_size == 0
    assert m.check_database_integrity(dbp).database_ok


def test_prune_removes_only_rows_of_missing_files(fresh):
    images, dbp = fresh
    (images / "cat.png").unlink()
    shutil.rmtree(images / "sub")
    dry = m.prune_database(dbp, dry_run=True)
    assert dry.removed == 0 and len(dry.missing) == 3 and dry.folders_gone == (str(images / "sub"),)
    assert m.database_stats(dbp).images == 4
    only_sub = m.prune_database(dbp, dry_run=True, under=images / "sub")
    assert len(only_sub.missing) == 2
    done = m.prune_database(dbp)
    assert done.removed == 3 and m.database_stats(dbp).images == 1


def test_remove_missing_spares_a_file_that_came_back(fresh):
    images, dbp = fresh
    (images / "cat.png").rename(images / "away.png")
    found = m.prune_database(dbp, dry_run=True)
    (images / "away.png").rename(images / "cat.png")
    assert m.remove_missing(dbp, found.missing) == 0
    assert m.database_stats(dbp).images == 4


def test_duplicates_are_files_with_the_same_content(tmp_path):
    images = make_images(tmp_path / "imgs")
    (images / "copies").mkdir()
    shutil.copy(images / "cat.png", images / "copies" / "cat-copy.png")
    shutil.copy(images / "cat.png", images / "copies" / "cat-copy2.png")
    dbp = tmp_path / "d.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=dbp, workers=1))
    report = m.find_duplicates(dbp)
    assert len(report.groups) == 1
    group = report.groups[0]
    assert sorted(os.path.basename(p) for p in group.paths) == ["cat-copy.png", "cat-copy2.png", "cat.png"]
    assert report.extra_copies == 2 and report.wasted_bytes == 2 * (images / "cat.png").stat().st_size


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "nope.db"
    for call in (m.database_stats, m.optimize_database, m.clear_database, m.check_database_integrity):
        with pytest.raises(DatabaseError, match="database not found"):
            call(missing)
    assert not missing.exists()


def test_a_database_of_the_original_points_to_import_legacy(tmp_path):
    old = tmp_path / "old.db"
    con = sqlite3.connect(old)
    con.execute("CREATE TABLE file_metadata (file_name TEXT UNIQUE, file_path TEXT, last_modified REAL, "
                "metadata TEXT, metadata_after_prompt TEXT, PRIMARY KEY (file_name))")
    con.close()
    with pytest.raises(DatabaseError, match="import-legacy"):
        m.database_stats(old)
