"""Exports (CSV/JSON/JSONL) and sidecar files."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from exifdata_analytics import db
from exifdata_analytics.errors import InputError
from exifdata_analytics.export import csv_safe, export_file, export_sidecars, format_for
from exifdata_analytics.parsers.base import Resource
from tests.test_search import make_db, record

HOSTILE_PROMPTS = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
                   "\t=1", " =1+1"]


@pytest.fixture
def edb(tmp_path) -> Path:
    recs = [
        record("/img/a/cat.png", prompt="a cat,\nred hair", negative_prompt="blurry", steps=30, seed=-1,
               cfg_scale=7.0, model="dreamshaper_8", sampler="Euler a", params_json='{"Steps": "30"}',
               resources=[Resource("lora", "add_detail", "abc", 0.8, "prompt")], raw_json='{"PNG:Parameters": "x"}'),
        record("/img/a/dog.png", prompt="a dog", steps=20, seed=18446744073709551615),
    ]
    recs += [record(f"/img/evil/{i}.png", prompt=p, negative_prompt=p, model=p, steps=10)
             for i, p in enumerate(HOSTILE_PROMPTS)]
    return make_db(tmp_path / "e.db", recs)


@pytest.fixture
def con(edb):
    c = db.connect(edb, readonly=True)
    yield c
    c.close()


def test_format_by_extension():
    assert [format_for(n) for n in ("a.csv", "b.JSON", "c.jsonl", "d.ndjson")] == ["csv", "json", "jsonl", "jsonl"]
    with pytest.raises(InputError, match=r"\.csv, \.json, \.jsonl or \.parquet"):
        format_for("out.xlsx")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    for text in HOSTILE_PROMPTS:
        assert csv_safe(text) == "'" + text
    assert csv_safe("a cat") == "a cat" and csv_safe(-1) == -1 and csv_safe(-0.5) == -0.5 and csv_safe(None) is None


def test_csv_export_is_excel_friendly_and_safe(con, tmp_path):
    out = tmp_path / "x.csv"
    result = export_file(con, out)
    assert result.rows == 8 and result.format == "csv"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads UTF-8
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_path = {r["path"]: r for r in rows}
    cat = by_path["/img/a/cat.png"]
    assert cat["prompt"] == "a cat,\nred hair"  # line breaks survive inside the quoted cell
    assert cat["seed"] == "-1" and cat["resources"] == "lora:add_detail:0.8"
    assert json.loads(cat["params"]) == {"Steps": "30"}
    assert "raw_json" not in cat
    assert by_path["/img/a/dog.png"]["seed"] == "18446744073709551615"
    for i, text in enumerate(HOSTILE_PROMPTS):
        row = by_path[f"/img/evil/{i}.png"]
        assert row["prompt"] == row["negative_prompt"] == row["model"] == "'" + text


def test_json_and_jsonl_hold_the_same_records_with_params_and_resources(con, tmp_path):
    export_file(con, tmp_path / "x.json", "steps>=20", include_raw=True)
    export_file(con, tmp_path / "x.jsonl", "steps>=20", include_raw=True)
    as_json = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    as_jsonl = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert as_json == as_jsonl and [r["file_name"] for r in as_json] == ["cat.png", "dog.png"]
    cat = as_json[0]
    assert cat["params"] == {"Steps": "30"} and cat["raw_json"] == '{"PNG:Parameters": "x"}'
    assert cat["resources"] == [{"kind": "lora", "name": "add_detail", "hash": "abc", "weight": 0.8,
                                 "source": "prompt"}]
    assert cat["prompt"] == "a cat,\nred hair"  # JSON keeps the text as it is: no neutralising there


def test_an_empty_selection_writes_valid_empty_files(con, tmp_path):
    for name in ("e.json", "e.jsonl", "e.csv"):
        assert export_file(con, tmp_path / name, "nosuchword").rows == 0
    assert json.loads((tmp_path / "e.json").read_text()) == []
    assert (tmp_path / "e.jsonl").read_text() == ""
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig").startswith("id,path,")


def test_an_existing_file_is_kept_unless_overwrite(con, tmp_path):
    out = tmp_path / "x.jsonl"
    out.write_text("keep me")
    with pytest.raises(InputError, match="already exists"):
        export_file(con, out)
    assert out.read_text() == "keep me"
    export_file(con, out, overwrite=True)
    assert len(out.read_text().splitlines()) == 8


def test_an_interrupted_export_leaves_no_file_behind(con, tmp_path):
    out = tmp_path / "x.csv"

    def stop(done, total):
        raise KeyboardInterrupt

    # progress is called every 500 rows and at the end: the end of 8 rows raises
    with pytest.raises(KeyboardInterrupt):
        export_file(con, out, progress=stop)
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


# -- sidecars ------------------------------------------------------------------------------

@pytest.fixture
def image_db(tmp_path) -> tuple[Path, Path]:
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    for rel in ("a.png", "a.jpg", "sub/b.png"):
        (root / rel).write_bytes(b"image bytes")
    recs = [record(str(root / "a.png"), prompt="a cat", steps=20, params_json='{"Steps": "20"}'),
            record(str(root / "a.jpg"), prompt="a cat in a jpeg"),
            record(str(root / "sub" / "b.png"), prompt="a dog"),
            record(str(root / "gone.png"), prompt="a ghost"),
            record(str(root / "plain.png"), parse_status="no_metadata", generator=None)]
    (root / "plain.png").write_bytes(b"x")
    return root, make_db(tmp_path / "side.db", recs)


def test_sidecars_beside_each_image_with_a_summary(image_db):
    root, dbp = image_db
    con = db.connect(dbp, readonly=True)
    try:
        result = export_sidecars(con)
    finally:
        con.close()
    assert (result.selected, result.written, result.skipped_missing_image, result.failed) == (4, 3, 1, 0)
    data = json.loads((root / "a.png.json").read_text(encoding="utf-8"))
    assert data["prompt"] == "a cat" and data["params"] == {"Steps": "20"} and data["file_name"] == "a.png"
    assert (root / "a.jpg.json").exists() and (root / "sub" / "b.png.json").exists()
    assert not (root / "plain.png.json").exists()  # no generation data: no sidecar unless asked


def test_existing_sidecars_are_kept_unless_force_and_dry_run_writes_nothing(image_db):
    root, dbp = image_db
    (root / "a.png.json").write_text("mine")
    con = db.connect(dbp, readonly=True)
    try:
        dry = export_sidecars(con, "cat", dry_run=True)
        assert (dry.written, dry.skipped_existing) == (1, 1) and not (root / "a.jpg.json").exists()
        again = export_sidecars(con, "cat")
        assert (again.written, again.skipped_existing) == (1, 1)
        assert (root / "a.png.json").read_text() == "mine"
        forced = export_sidecars(con, "cat", force=True)
        assert forced.written == 2 and json.loads((root / "a.png.json").read_text())["prompt"] == "a cat"
        everything = export_sidecars(con, "", include_all=True, dry_run=True, force=True)
        assert everything.selected == 5
    finally:
        con.close()


def test_sidecars_into_another_folder_mirror_the_tree(image_db, tmp_path):
    root, dbp = image_db
    out = tmp_path / "sidecars"
    con = db.connect(dbp, readonly=True)
    try:
        result = export_sidecars(con, out_dir=out)
    finally:
        con.close()
    assert result.written == 4  # the image need not exist when the sidecar goes elsewhere
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.json")) == \
        ["a.jpg.json", "a.png.json", "gone.png.json", "sub/b.png.json"]
    assert not (root / "a.png.json").exists()
