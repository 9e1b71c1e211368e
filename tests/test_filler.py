"""DB_filler's library layer end to end: real images, real ExifTool, a real SQLite file."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from exifdata_analytics import db
from exifdata_analytics.dates import iso_date
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.records import pixel_size
from exifdata_analytics.reparse import reparse
from exifdata_analytics.samples import (a1111_infotext, make_sample_folder, sample_by_case, write_jpeg,
                                        write_png, write_webp)
from tests.conftest import row_by_name, rows


def _fill(root: Path, db_path: Path, **kw):
    opts = dict(root=str(root), recursive=True, db_path=db_path, workers=2, batch_size=7)
    opts.update(kw)
    return fill(FillOptions(**opts))


class _NoReader:
    """Stands in for the ExifTool pool where a run must not extract anything."""

    def __init__(self, workers):
        raise AssertionError("ExifTool was started although nothing changed")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    samples = make_sample_folder(root)
    db_path = root.parent / (root.name + ".db")
    summary = _fill(root, db_path)
    return root, samples, db_path, summary


def test_every_sample_file_gets_one_row_with_its_truth(sample_run):
    root, samples, db_path, summary = sample_run
    assert summary.found == len(samples) == summary.new
    assert summary.errors == 0
    stored = {os.path.relpath(r["path"], root): r for r in rows(db_path)}
    assert set(stored) == {s.path for s in samples}
    for s in samples:
        r = stored[s.path]
        if not s.has_generation_data:
            assert r["parse_status"] == "no_metadata" and r["prompt"] is None, s.case
            continue
        assert r["parse_status"] == "ok", (s.case, r["error"])
        assert r["generator"] == s.generator, s.case
        for col in ("prompt", "negative_prompt", "steps", "seed", "sampler", "scheduler", "width", "height", "model"):
            # an absent negative prompt is stored as '' (A1111: empty negative); truth says None
            assert (r[col] if r[col] != "" else None) == getattr(s, col), (s.case, col, r[col], getattr(s, col))
        assert r["cfg_scale"] == pytest.approx(s.cfg_scale), s.case


def test_comfyui_images_keep_their_graph_in_raw_json(sample_run):
    root, samples, db_path, _ = sample_run
    comfy = [r for r in rows(db_path) if "ComfyUI_" in r["file_name"]]
    assert comfy
    for r in comfy:
        assert r["parse_status"] == "ok" and r["generator"] == "ComfyUI"
        assert "PNG:Prompt" in json.loads(r["raw_json"])


def test_same_file_name_in_two_folders_gives_two_rows(sample_run):
    root, samples, db_path, _ = sample_run
    by_name: dict[str, list] = {}
    for r in rows(db_path):
        by_name.setdefault(r["file_name"], []).append(r)
    twins = {n: rs for n, rs in by_name.items() if len(rs) > 1}
    assert twins, "the sample folder holds same-named files in different folders"
    for name, rs in twins.items():
        assert len({r["folder"] for r in rs}) == len(rs)
        assert len({r["sha256"] for r in rs}) == len(rs)


def test_an_image_without_negative_prompt_keeps_all_its_parameters(sample_run):
    root, samples, db_path, _ = sample_run
    s = sample_by_case(samples, "a1111_no_negative")
    r = rows(db_path, "SELECT * FROM images WHERE path = ?", (str(root / s.path),))[0]
    assert r["negative_prompt"] in (None, "")
    assert r["prompt"] == s.prompt and "Steps:" not in r["prompt"]
    assert (r["steps"], r["seed"], r["sampler"], r["model"]) == (s.steps, s.seed, s.sampler, s.model)


def test_file_facts_size_hash_format_pixels_and_dates(sample_run):
    root, samples, db_path, _ = sample_run
    for s in samples:
        p = root / s.path
        r = rows(db_path, "SELECT * FROM images WHERE path = ?", (str(p),))[0]
        assert r["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
        assert r["size_bytes"] == p.stat().st_size and r["mtime_ns"] == p.stat().st_mtime_ns
        assert r["format"] == s.format
        assert (r["image_width"], r["image_height"]) == (s.pixel_width, s.pixel_height)
        assert r["file_name"] == p.name and r["folder"] == str(p.parent)
        assert r["created_at"][:4].isdigit()
    cam = sample_by_case(samples, "camera_jpeg")
    r = rows(db_path, "SELECT created_at FROM images WHERE path = ?", (str(root / cam.path),))[0]
    assert r["created_at"] == iso_date(cam.camera[2])


def test_second_run_on_an_unchanged_folder_starts_no_exiftool(sample_run, tmp_path):
    root, samples, db_path, _ = sample_run
    again = fill(FillOptions(root=str(root), recursive=True, db_path=db_path), reader_factory=_NoReader)
    assert (again.found, again.unchanged, again.new, again.updated) == (len(samples), len(samples), 0, 0)


def test_changed_files_are_re_extracted_and_force_re_extracts_all(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    p = write_png(folder / "a.png", {"parameters": a1111_infotext("a cat", "dog", {"Steps": 20, "Sampler": "Euler"})})
    write_png(folder / "b.png", {"parameters": a1111_infotext("a bird", None, {"Steps": 5, "Sampler": "DDIM"})})
    dbp = tmp_path / "t.db"
    assert _fill(folder, dbp).new == 2
    write_png(p, {"parameters": a1111_infotext("a lion", "dog", {"Steps": 31, "Sampler": "Euler"})})
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    second = _fill(folder, dbp)
    assert (second.updated, second.unchanged) == (1, 1)
    assert row_by_name(dbp, "a.png")["prompt"] == "a lion"
    assert row_by_name(dbp, "a.png")["steps"] == 31
    forced = _fill(folder, dbp, force=True)
    assert (forced.updated, forced.unchanged) == (2, 0)


def test_prune_removes_rows_of_deleted_files_only_when_asked(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    write_png(folder / "keep.png", {"parameters": "x\nSteps: 1, Sampler: Euler, CFG scale: 1"})
    gone = write_png(folder / "sub" / "gone.png", {"parameters": "y\nSteps: 1, Sampler: Euler, CFG scale: 1"})
    other = tmp_path / "imgs-other"
    other.mkdir()
    write_png(other / "elsewhere.png")
    dbp = tmp_path / "t.db"
    _fill(folder, dbp)
    _fill(other, dbp)
    gone.unlink()
    kept = _fill(folder, dbp)
    assert kept.prunable == 1 and kept.pruned == 0 and len(rows(dbp)) == 3
    pruned = _fill(folder, dbp, prune=True)
    assert pruned.pruned == 1
    assert sorted(r["file_name"] for r in rows(dbp)) == ["elsewhere.png", "keep.png"]


def test_non_recursive_run_ignores_and_never_prunes_subfolders(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    write_png(folder / "top.png")
    write_png(folder / "sub" / "deep.png")
    dbp = tmp_path / "t.db"
    _fill(folder, dbp, recursive=True)
    flat = _fill(folder, dbp, recursive=False, prune=True)
    assert (flat.found, flat.pruned) == (1, 0)
    assert len(rows(dbp)) == 2


def test_dry_run_writes_nothing(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    write_png(folder / "a.png")
    dbp = tmp_path / "t.db"
    result = _fill(folder, dbp, dry_run=True)
    assert result.new == 1 and not dbp.exists()


def test_broken_files_are_recorded_and_do_not_stop_the_run(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "empty.png").write_bytes(b"")
    (folder / "garbage.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(300))
    (folder / "text.webp").write_text("not a webp at all")
    write_png(folder / "good.png", {"parameters": "a cat\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 1"})
    dbp = tmp_path / "t.db"
    result = _fill(folder, dbp)
    assert result.found == 4 and result.with_generation_data == 1
    assert row_by_name(dbp, "empty.png")["parse_status"] == "error"
    assert "empty" in row_by_name(dbp, "empty.png")["error"].lower()
    assert row_by_name(dbp, "good.png")["steps"] == 3
    con = sqlite3.connect(dbp)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_mojibake_in_png_text_is_repaired(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    text = "猫と桜, テスト\nNegative prompt: 低品質\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5"
    write_png(folder / "raw.png", {"parameters": text}, raw_utf8_in_text=True)
    dbp = tmp_path / "t.db"
    _fill(folder, dbp)
    r = row_by_name(dbp, "raw.png")
    assert (r["prompt"], r["negative_prompt"], r["steps"]) == ("猫と桜, テスト", "低品質", 20)
    # the raw JSON stays exactly as ExifTool gave it
    assert "テスト" not in json.loads(r["raw_json"])["PNG:Parameters"]


def test_jpeg_and_webp_user_comments_are_parsed(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    text = a1111_infotext("a red fox", "lowres", {"Steps": 25, "Sampler": "DPM++ 2M", "Schedule type": "Karras",
                                                   "CFG scale": 6.5, "Seed": 42, "Size": "512x768"})
    write_jpeg(folder / "a.jpg", user_comment=text, byte_order="II")
    write_webp(folder / "b.webp", user_comment=text)
    dbp = tmp_path / "t.db"
    _fill(folder, dbp)
    for name, fmt in (("a.jpg", "JPEG"), ("b.webp", "WEBP")):
        r = row_by_name(dbp, name)
        assert (r["format"], r["prompt"], r["negative_prompt"], r["sampler"], r["scheduler"]) == (
            fmt, "a red fox", "lowres", "DPM++ 2M", "Karras")
        assert (r["width"], r["height"], r["seed"], r["cfg_scale"]) == (512, 768, 42, 6.5)


def test_reparse_rebuilds_the_parsed_columns_from_stored_json_without_exiftool(sample_run, tmp_path):
    root, samples, db_path, _ = sample_run
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    before = {r["path"]: dict(r) for r in rows(copy)}
    dst.execute("UPDATE images SET prompt = NULL, steps = NULL, parse_status = 'unparsed'")
    dst.execute("DELETE FROM resources")
    dst.commit()
    dst.close()
    result = reparse(copy)
    assert result.rows == len(samples)
    after = {r["path"]: dict(r) for r in rows(copy)}
    for path, old in before.items():
        for col in ("prompt", "steps", "parse_status", "generator", "model", "params_json"):
            assert after[path][col] == old[col], (path, col)
    con = db.connect(copy)
    assert con.execute("SELECT COUNT(*) FROM resources").fetchone()[0] == \
        sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM resources").fetchone()[0]


def test_lora_resources_are_stored_per_image(sample_run):
    root, samples, db_path, _ = sample_run
    with_loras = [s for s in samples if s.loras and s.generator != "ComfyUI"]
    assert with_loras
    con = db.connect(db_path)
    for s in with_loras:
        names = {r.name for r in db.resources_of(con, str(root / s.path)) if r.kind in ("lora", "lycoris")}
        assert {name for name, _ in s.loras} <= names, s.case


def test_hostile_file_names_are_indexed_under_their_exact_paths(tmp_path):
    from tests.test_exiftool_pool import HOSTILE_NAMES

    folder = tmp_path / "-weird #folder "
    folder.mkdir()
    for i, name in enumerate(HOSTILE_NAMES):
        write_png(folder / name, {"parameters": a1111_infotext(f"prompt {i}", None, {"Steps": i + 1, "Sampler": "Euler"})},
                  seed=i)
    dbp = tmp_path / "t.db"
    result = _fill(folder, dbp)
    n = len(HOSTILE_NAMES)
    assert (result.found, result.errors, result.with_generation_data) == (n, 0, n)
    stored = {r["file_name"]: r for r in rows(dbp)}
    assert set(stored) == set(HOSTILE_NAMES)
    for i, name in enumerate(HOSTILE_NAMES):
        assert stored[name]["prompt"] == f"prompt {i}" and stored[name]["steps"] == i + 1
        assert stored[name]["path"] == str(folder / name)


def test_moved_files_are_re_linked_by_content_without_exiftool(tmp_path):
    root = tmp_path / "imgs"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    text = a1111_infotext("a lion <lora:add_detail:0.7>", "blurry", {"Steps": 24, "Sampler": "Euler a", "Seed": 9})
    write_png(root / "a" / "lion.png", {"parameters": text})
    write_png(root / "a" / "stay.png", {"parameters": a1111_infotext("stays", None, {"Steps": 1})})
    dbp = tmp_path / "t.db"
    _fill(root, dbp)
    before = row_by_name(dbp, "lion.png")
    os.rename(root / "a" / "lion.png", root / "b" / "renamed.png")
    moved = fill(FillOptions(root=str(root), recursive=True, db_path=dbp), reader_factory=_NoReader)
    assert (moved.moved, moved.new, moved.unchanged, moved.errors) == (1, 0, 1, 0)
    after = row_by_name(dbp, "renamed.png")
    assert after["id"] == before["id"] and after["path"] == str(root / "b" / "renamed.png")
    assert after["folder"] == str(root / "b") and (after["prompt"], after["steps"]) == (before["prompt"], 24)
    assert rows(dbp, "SELECT * FROM images WHERE file_name = 'lion.png'") == []
    con = db.connect(dbp)
    assert [r.name for r in db.resources_of(con, after["path"])] == ["add_detail"]


def test_a_copy_is_read_as_a_new_image_and_keeps_the_original_row(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    write_png(root / "one.png", {"parameters": a1111_infotext("twin", None, {"Steps": 3})})
    dbp = tmp_path / "t.db"
    _fill(root, dbp)
    (root / "two.png").write_bytes((root / "one.png").read_bytes())
    again = _fill(root, dbp)
    assert (again.new, again.moved) == (1, 0)
    assert len({r["sha256"] for r in rows(dbp)}) == 1 and len(rows(dbp)) == 2


def test_a_file_moved_in_from_outside_the_scanned_folder_is_re_linked(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    write_png(tmp_path / "old" / "fox.png", {"parameters": a1111_infotext("a fox", None, {"Steps": 7, "Sampler": "Euler"})})
    dbp = tmp_path / "t.db"
    _fill(tmp_path / "old", dbp)
    before = row_by_name(dbp, "fox.png")
    os.rename(tmp_path / "old" / "fox.png", tmp_path / "new" / "fox.png")
    moved = fill(FillOptions(root=str(tmp_path / "new"), recursive=True, db_path=dbp), reader_factory=_NoReader)
    assert (moved.moved, moved.new) == (1, 0)
    assert row_by_name(dbp, "fox.png")["id"] == before["id"]


def test_copies_inside_the_scanned_folder_are_never_checked_as_moves(tmp_path, monkeypatch):
    # many copies of one image: a new copy must not make the run look at every earlier copy's file
    root = tmp_path / "imgs"
    root.mkdir()
    write_png(root / "c0.png", {"parameters": a1111_infotext("copies", None, {"Steps": 3, "Sampler": "Euler"})})
    for i in range(1, 40):
        (root / f"c{i}.png").write_bytes((root / "c0.png").read_bytes())
    dbp = tmp_path / "t.db"
    _fill(root, dbp, batch_size=5)
    checked: list[str] = []
    real_lexists = os.path.lexists
    monkeypatch.setattr(os.path, "lexists", lambda p: checked.append(p) or real_lexists(p))
    for i in range(40, 60):
        (root / f"c{i}.png").write_bytes((root / "c0.png").read_bytes())
    again = _fill(root, dbp, batch_size=5)
    assert (again.new, again.moved, again.unchanged) == (20, 0, 40)
    assert checked == []


def test_pixel_size_comes_from_the_image_header_not_the_thumbnail_or_exif_claims():
    # ExifTool runs with -e (no Composite:ImageSize); the header's size wins over EXIF/IFD1
    jpeg = {"IFD1:ImageWidth": 160, "IFD1:ImageHeight": 120, "IFD0:ImageWidth": 6000, "IFD0:ImageHeight": 4000,
            "File:ImageWidth": 1200, "File:ImageHeight": 800}
    assert pixel_size(jpeg) == (1200, 800)
    assert pixel_size({"IFD1:ImageWidth": 160, "IFD1:ImageHeight": 120, "XMP-tiff:ImageWidth": 640,
                       "XMP-tiff:ImageHeight": 480}) == (640, 480)
    assert pixel_size({"Composite:ImageSize": "512x768", "PNG:ImageWidth": 512}) == (512, 768)  # older rows
    assert pixel_size({"PNG:ImageWidth": "junk", "PNG:ImageHeight": 5}) == (None, 5)
    assert pixel_size(None) == (None, None)


def test_exiftool_runs_without_composite_tags(sample_run):
    _root, _samples, db_path, _summary = sample_run
    for r in rows(db_path):
        if r["raw_json"]:
            assert not any(k.startswith("Composite:") for k in json.loads(r["raw_json"])), r["path"]



def _search_index_matches(db_path: Path) -> bool:
    con = sqlite3.connect(str(db_path))
    try:
        # rank 1: compare the FTS index with the images table, not only with itself
        con.execute("INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)")
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        con.close()


def _fts_hits(db_path: Path, query: str) -> int:
    with sqlite3.connect(str(db_path)) as con:
        return con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH ?", (query,)).fetchone()[0]


def test_many_rows_per_statement_keep_the_search_index_equal_to_the_table(tmp_path):
    root = tmp_path / "lib"
    make_sample_folder(root)
    db_path = tmp_path / "many.db"
    _fill(root, db_path, batch_size=100)  # the whole folder in one batch, one statement
    assert _search_index_matches(db_path)
    with_word = sum(1 for r in rows(db_path) if "photorealistic" in f"{r['prompt']} {r['negative_prompt']}".lower())
    assert with_word and _fts_hits(db_path, "photorealistic") == with_word
    # new and changed files in one batch: inserts and updates mixed in one statement
    write_png(root / "late.png", {"parameters": a1111_infotext("a late zebra", None, {"Steps": 20, "Sampler": "Euler"})})
    changed = next(p for p in sorted(root.rglob("*.png")) if p.name != "late.png")
    write_png(changed, {"parameters": a1111_infotext("a changed okapi", None, {"Steps": 9, "Sampler": "Euler"})})
    summary = _fill(root, db_path, batch_size=100)
    assert (summary.new, summary.updated) == (1, 1)
    assert _fts_hits(db_path, "zebra") == 1 and _fts_hits(db_path, "okapi") == 1
    assert _search_index_matches(db_path)


def test_write_batch_splits_statements_at_sqlites_variable_limit(tmp_path):
    con = db.connect(tmp_path / "limit.db")
    con.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, len(db.IMAGE_COLUMNS) * 3)  # 3 rows per statement
    records = [(db.ImageRecord(path=f"/x/{i}.png", file_name=f"{i}.png", folder="/x", size_bytes=i, mtime_ns=i,
                               sha256=None, format="PNG", image_width=1, image_height=1, generator="A1111",
                               prompt=f"prompt word{i}", negative_prompt=None, steps=i, seed=i, sampler=None,
                               scheduler=None, cfg_scale=None, denoising_strength=None, width=None, height=None,
                               model=None, model_hash=None, vae=None, clip_skip=None, params_json=None,
                               raw_json=None, extra_json=None, created_at=None, parse_status="ok", error=None,
                               parser="a1111", indexed_at="t"), ()) for i in range(10)]
    db.write_batch(con, records)
    assert [r[0] for r in con.execute("SELECT steps FROM images ORDER BY steps")] == list(range(10))
    assert con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'word7'").fetchone()[0] == 1
    con.close()
