"""import-legacy: a database in the original's schema, filled the way the original filled it
(ExifTool's plain text output per file, cut at 'Negative prompt:', keys lower-cased), imported."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from exifdata_analytics.errors import InputError
from exifdata_analytics.legacy import import_legacy, read_legacy, rebuild_tags
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import row_by_name, rows

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool is not installed")

# the original's table, as its create_table() wrote it
LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_metadata (
    file_name TEXT UNIQUE,
    file_path TEXT,
    last_modified REAL,
    metadata TEXT,
    metadata_after_prompt TEXT,
    PRIMARY KEY (file_name)
)"""


def _lower_keys(text: str) -> str:
    """The original's normalisation: keep lines holding ': ', lower-case what precedes the first."""
    out = []
    for line in text.split("\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            out.append(f"{key.strip().lower()}: {value.strip()}")
    return "\n".join(out)


def legacy_texts(path: Path) -> tuple[str, str]:
    """What the original stored for one file: ExifTool's text output split at the first
    'Negative prompt:' into (metadata, metadata_after_prompt)."""
    text = subprocess.run(["exiftool", str(path)], capture_output=True, text=True, check=True).stdout
    parts = text.split("Negative prompt:", 1)
    return _lower_keys(parts[0].strip()), (_lower_keys(parts[1].strip()) if len(parts) > 1 else "")


def write_legacy_db(db: Path, files: list[tuple[Path, str]]) -> None:
    con = sqlite3.connect(db)
    con.execute(LEGACY_SCHEMA)
    for path, stored_path in files:
        metadata, after = legacy_texts(path)
        con.execute("INSERT INTO file_metadata VALUES (?, ?, ?, ?, ?)",
                    (path.name, stored_path, os.path.getmtime(path), metadata, after))
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def legacy_source(tmp_path_factory) -> tuple[Path, Path]:
    """The legacy database and its images (some deleted since), shared: importing reads them only."""
    tmp_path = tmp_path_factory.mktemp("legacy")
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    keep = imgs / "keep.png"
    write_png(keep, {"parameters": a1111_infotext(
        "a fox", "Blurry, Bad Hands", {"Steps": 30, "Sampler": "Euler a", "CFG scale": 7, "Seed": 9,
                                       "Size": "512x512", "Model": "dreamshaper_8"})})
    gone = imgs / "gone.png"
    write_png(gone, {"parameters": a1111_infotext(
        "a cat,\nred hair", "Ugly: yes, Lowres",
        {"Steps": 28, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 6.5, "Seed": 123,
         "Size": "512x768", "Model hash": "abc123", "Model": "dreamshaper_8", "Version": "v1.9.4"})},
        size=(48, 32))
    gone_jpg = imgs / "gone.jpg"
    write_jpeg(gone_jpg, user_comment=a1111_infotext("an owl", None, {"Steps": 25, "Sampler": "Euler", "Seed": 5}))
    plain = imgs / "plain.png"
    write_png(plain)
    rel = imgs / "rel.png"
    write_png(rel, {"parameters": a1111_infotext("a relative path", None, {"Steps": 12, "Sampler": "DDIM", "Seed": 1})})
    old = tmp_path / "statistics_image_metadata.db"
    write_legacy_db(old, [(keep, str(keep)), (gone, str(gone)), (gone_jpg, str(gone_jpg)), (plain, str(plain)),
                          (rel, "imgs/rel.png")])  # the original stored paths as the user typed them
    for p in (gone, gone_jpg, plain):
        p.unlink()
    return old, imgs


@pytest.fixture
def legacy(legacy_source, tmp_path) -> dict:
    old, imgs = legacy_source
    return {"old": old, "imgs": imgs, "new": tmp_path / "new.db"}


def test_the_legacy_fixture_looks_like_the_original_wrote_it(legacy):
    row = [r for r in read_legacy(legacy["old"]) if r.file_name == "gone.png"][0]
    assert "parameters: a cat,.red hair." in row.metadata  # ExifTool shows line breaks as '.'
    assert row.metadata_after_prompt.startswith("ugly: yes, Lowres.Steps: 28")  # only the key part lower-cased


def test_import_rereads_existing_files_and_parses_the_text_of_gone_ones(legacy):
    s = import_legacy(legacy["old"], legacy["new"], workers=1)
    assert (s.legacy_rows, s.reextracted, s.from_text, s.already_present) == (5, 2, 3, 0)
    assert (s.with_generation_data, s.without_generation_data) == (4, 1)
    imgs = legacy["imgs"]

    keep = row_by_name(legacy["new"], "keep.png")
    assert keep["path"] == str(imgs / "keep.png") and keep["raw_json"] and keep["sha256"]
    assert keep["negative_prompt"] == "Blurry, Bad Hands" and keep["parser"] == "a1111"

    gone = row_by_name(legacy["new"], "gone.png")
    assert gone["path"] == str(imgs / "gone.png") and gone["folder"] == str(imgs)
    assert gone["prompt"] == "a cat,\nred hair"
    assert gone["negative_prompt"] == "ugly: yes, Lowres"  # the original lower-cased it; not recoverable
    assert (gone["steps"], gone["sampler"], gone["scheduler"], gone["cfg_scale"], gone["seed"]) == \
        (28, "DPM++ 2M", "Karras", 6.5, 123)
    assert (gone["width"], gone["height"], gone["model"], gone["model_hash"]) == (512, 768, "dreamshaper_8", "abc123")
    assert (gone["image_width"], gone["image_height"], gone["format"]) == (48, 32, "PNG")
    assert gone["parse_status"] == "ok" and gone["parser"] == "legacy:a1111" and gone["raw_json"] is None
    assert gone["generator"] and gone["sha256"] is None and gone["extra_json"]

    owl = row_by_name(legacy["new"], "gone.jpg")
    assert (owl["prompt"], owl["steps"], owl["sampler"], owl["seed"], owl["format"]) == ("an owl", 25, "Euler", 5, "JPEG")
    assert not owl["negative_prompt"]

    plain = row_by_name(legacy["new"], "plain.png")
    assert plain["parse_status"] == "no_metadata" and "file not found" in plain["error"]

    relative = row_by_name(legacy["new"], "rel.png")
    assert relative["path"] == str(imgs / "rel.png") and relative["raw_json"] and relative["steps"] == 12


def test_resources_and_search_work_on_imported_rows(legacy):
    import_legacy(legacy["old"], legacy["new"], workers=1)
    con = sqlite3.connect(legacy["new"])
    try:
        hits = con.execute("SELECT i.file_name FROM images_fts f JOIN images i ON i.id = f.rowid "
                           "WHERE images_fts MATCH 'cat'").fetchall()
    finally:
        con.close()
    assert hits == [("gone.png",)]


def test_importing_twice_keeps_one_row_per_file(legacy):
    import_legacy(legacy["old"], legacy["new"], workers=1)
    again = import_legacy(legacy["old"], legacy["new"], workers=1)
    assert again.already_present == 5 and again.reextracted == again.from_text == 0
    assert len(rows(legacy["new"])) == 5
    forced = import_legacy(legacy["old"], legacy["new"], workers=1, force=True, reextract=False)
    assert forced.from_text == 5 and len(rows(legacy["new"])) == 5


def test_text_only_import_parses_everything_from_the_stored_text(legacy):
    s = import_legacy(legacy["old"], legacy["new"], reextract=False)
    assert (s.reextracted, s.from_text) == (0, 5)
    keep = row_by_name(legacy["new"], "keep.png")
    # up to the first ": " (here the one after Steps) the original lower-cased the line
    assert keep["negative_prompt"] == "blurry, bad hands" and keep["steps"] == 30 and keep["parser"] == "legacy:a1111"


def test_a_database_that_is_not_legacy_is_refused(tmp_path, legacy):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE something (x)").connection.close()
    with pytest.raises(InputError, match="file_metadata"):
        import_legacy(other, legacy["new"])
    with pytest.raises(InputError, match="not found"):
        import_legacy(tmp_path / "missing.db", legacy["new"])
    with pytest.raises(InputError, match="same file"):
        import_legacy(legacy["old"], legacy["old"])


def test_rebuilding_infotext_from_text_without_a_negative_prompt():
    tags = rebuild_tags("file type: PNG\nparameters: a cat,.blue eyes.Steps: 20, Sampler: Euler, Seed: 1\n"
                        "image size: 64x64", "")
    assert tags["PNG:Parameters"] == "a cat,\nblue eyes\nSteps: 20, Sampler: Euler, Seed: 1"
    assert tags["Composite:ImageSize"] == "64x64" and tags["File:FileType"] == "PNG"
