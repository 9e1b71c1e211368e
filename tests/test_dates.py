"""When an image was made and where that was read (``dates``): the chain of sources, the guards
against numbers that are no dates, and real images through DB_filler.py, then --reparse."""
from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from exifdata_analytics import dates
from exifdata_analytics.dates import creation_time, folder_date, iso_date, name_date
from exifdata_analytics.legacy import LegacyRow, record_from_text
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import rows, run_script

MTIME = datetime(2024, 6, 1, 12, 0, 0)  # a file's mtime, local clock


@contextmanager
def local_zone(tz: str):
    """Run with this TZ (POSIX form, no zoneinfo needed): Python and SQLite follow it."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- embedded and generator values -------------------------------------------------------------

@pytest.mark.parametrize("raw, iso", [
    ("2024:05:01 12:30:00", "2024-05-01T12:30:00"),
    ("2024:05:01 12:30:00+02:00", "2024-05-01T12:30:00+02:00"),
    ("2024-03-15T12:30:45+0530", "2024-03-15T12:30:45+05:30"),
    ("2024:05:01 12:30:00.123", "2024-05-01T12:30:00"),  # sub-seconds dropped
    ("2024:03:15", "2024-03-15"),  # IPTC: a day
    ("Fri, 15 Mar 2024 12:30:45 +0200", "2024-03-15T12:30:45+02:00"),  # the PNG spec's Creation Time form
    ("0000:00:00 00:00:00", None),
    ("2024:02:30 10:00:00", None),
    ("2024:05:01 25:00:00", None),
    ("1850:01:01 00:00:00", None),
    ("garbage", None),
    ("", None),
    (None, None),
    (20240315, None),
])
def test_embedded_dates_become_iso_8601(raw, iso):
    assert iso_date(raw) == iso


def test_utc_times_are_shown_on_the_local_clock():
    with local_zone("JST-9"):
        # Civitai's Created Date (Z, and its hour without the colon), a PNG tIME (UTC by the spec)
        assert iso_date("2026-01-04T01:27:21.2717070Z") == "2026-01-04T10:27:21+09:00"
        assert iso_date("2024-06-01T0529:44.7563207Z") == "2024-06-01T14:29:44+09:00"
        assert iso_date("2024:03:15 23:30:00", utc=True) == "2024-03-16T08:30:00+09:00"
        assert iso_date("2024:03:15 23:30:00") == "2024-03-15T23:30:00"  # no zone: the camera's clock


def test_the_chain_takes_the_most_trusted_source():
    path = "/lib/outputs/2024-01-02/2024-01-03_10-00-00.png"
    mtime_ns = int(datetime(2024, 1, 5, 8, 0, tzinfo=timezone.utc).timestamp() * 1e9)
    exif = {"ExifIFD:DateTimeOriginal": "2023:12:24 18:00:00", "ExifIFD:OffsetTimeOriginal": "+01:00"}
    civitai = {"Created Date": "2023-12-25T10:00:00.0000000Z"}
    with local_zone("UTC0"):
        assert creation_time(exif, civitai, path, mtime_ns) == ("2023-12-24T18:00:00+01:00", "embedded")
        assert creation_time({"PNG:ModifyDate": "2023:12:31 09:00:00"}, civitai, path, mtime_ns) == \
            ("2023-12-25T10:00:00+00:00", "generator")  # a recorded creation beats the last save
        assert creation_time({"PNG:ModifyDate": "2023:12:31 09:00:00"}, None, path, mtime_ns) == \
            ("2023-12-31T09:00:00+00:00", "embedded")
        assert creation_time({}, {"sui_extra_data": {"date": "2023-12-30"}}, path, mtime_ns) == ("2023-12-30", "generator")
        assert creation_time(None, None, path, mtime_ns) == ("2024-01-03T10:00:00", "file_name")
        assert creation_time(None, None, "/lib/outputs/2024-01-02/00001-123.png", mtime_ns) == ("2024-01-02", "folder")
        assert creation_time(None, None, "/lib/misc/cat.png", mtime_ns) == ("2024-01-05T08:00:00+00:00", "mtime")
    assert creation_time(None, None, "/lib/misc/cat.png", None) == (None, None)  # not even an mtime: no date
    assert creation_time(None, None, "/lib/misc/cat.png", 10**25) == (None, None)  # an mtime past year 9999


def test_exif_offsets_and_iptc_time_are_joined_as_exiftool_composites_would():
    assert creation_time({"IPTC:DateCreated": "2024:03:15", "IPTC:TimeCreated": "12:30:45+02:00"}, None, "", None) \
        == ("2024-03-15T12:30:45+02:00", "embedded")
    assert creation_time({"IPTC:DateCreated": "2024:03:15"}, None, "", None) == ("2024-03-15", "embedded")
    assert creation_time({"IFD0:ModifyDate": "2024:03:15 12:30:45", "ExifIFD:OffsetTime": "-05:00"}, None, "", None) \
        == ("2024-03-15T12:30:45-05:00", "embedded")


# -- names and folders -------------------------------------------------------------------------

@pytest.mark.parametrize("file_name, iso", [
    ("2024-03-15_12-30-45.png", "2024-03-15T12:30:45"),
    ("2024-03-15_12-30-45_1234.png", "2024-03-15T12:30:45"),  # Fooocus
    ("20240315_123045.png", "2024-03-15T12:30:45"),
    ("2024-03-15 12.30.45.png", "2024-03-15T12:30:45"),
    ("2024-03-15-123045.png", "2024-03-15T12:30:45"),  # ComfyUI %date:yyyy-MM-dd-hhmmss%
    ("Screenshot 2024-03-15 at 12.30.45.png", "2024-03-15T12:30:45"),
    ("Screenshot 2024-03-15 at 1.30.45 PM.png", "2024-03-15T13:30:45"),
    ("Screenshot_20240315-123045.png", "2024-03-15T12:30:45"),
    ("PXL_20240315_123045123.jpg", "2024-03-15T12:30:45"),
    ("00012-20240315123045.png", "2024-03-15T12:30:45"),  # A1111 [datetime]: 14 digits are no 32-bit seed
    ("00012-1234567-2024-03-15.png", "2024-03-15"),  # A1111 with [date] after the seed
    ("IMG_20240315.jpg", "2024-03-15"),
    ("portrait 2024.03.15.png", "2024-03-15"),
    ("2024-03-15T25-00-00.png", "2024-03-15"),  # no such hour: the day stands
    # no dates
    ("00012-20240315.png", None),  # A1111 <counter>-<seed>
    ("00012-1234567.png", None),
    ("ComfyUI_00001_.png", None),
    ("a cat s-20240315.png", None),  # NovelAI's seed
    ("20240315-e29b-41d4-a716-446655440000.png", None),  # InvokeAI's UUID
    ("a3f20240315b9c.png", None),  # inside a hash
    ("2024-13-15.png", None),
    ("2024-02-30.png", None),
    ("2014-03-15.png", None),  # before any generated image
    ("2024-06-03.png", None),  # two days after the file's mtime
    ("cat.png", None),
])
def test_dates_in_file_names(file_name, iso):
    assert name_date(file_name, MTIME) == iso


def test_a_number_equal_to_the_recipes_seed_is_no_date():
    assert name_date("20240315.png", MTIME) == "2024-03-15"
    assert name_date("20240315.png", MTIME, seed=20240315) is None
    assert name_date("20240315123045.png", MTIME) == "2024-03-15T12:30:45"
    assert name_date("20240315123045.png", MTIME, seed=20240315123045) is None


def test_plausible_years_end_next_year():
    assert name_date(f"{dates.LAST_YEAR}-01-01.png") == f"{dates.LAST_YEAR}-01-01"  # no mtime: no limit
    assert name_date(f"{dates.LAST_YEAR + 1}-01-01.png") is None


@pytest.mark.parametrize("folders, iso", [
    (["outputs", "txt2img-images", "2024-03-15"], "2024-03-15"),  # A1111, Forge
    (["outputs", "2024-03-15", "sdxl"], "2024-03-15"),  # A1111 [date]/[model_name]
    (["output", "20240315"], "2024-03-15"),
    (["photos", "2024", "03", "15"], "2024-03-15"),  # year/month/day folders
    (["trips", "2024-03-15 Lisbon"], "2024-03-15"),
    (["2024-03"], None),  # a month is no day
    (["2024", "03"], None),
    (["batch_20240315x"], None),
    (["2024-03-15", "a", "b", "c"], None),  # too far up to be this file's
    (["outputs", "2024-07-01"], None),  # a month after the mtime
])
def test_dates_in_folder_names(folders, iso):
    assert folder_date(folders[-dates.FOLDER_DEPTH:], MTIME) == iso


# -- real images through DB_filler.py, then --reparse -----------------------------------------

def _a1111(seed: int) -> dict:
    return {"parameters": a1111_infotext("a cat", "blurry", {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7,
                                                              "Seed": seed, "Size": "64x64", "Model": "m"})}


def _at(y, mo, d, h=12, mi=0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=timezone.utc).timestamp()) * 1_000_000_000


def write_dated_library(root: Path) -> dict[str, tuple[str, str]]:
    """Files whose dates come from every source; relative path -> (created_at, created_source)
    expected with TZ=UTC."""
    a1111 = root / "outputs" / "txt2img-images" / "2024-03-15"
    a1111.mkdir(parents=True)
    files = {
        # an A1111 image in its date folder, and one whose seed looks like a date
        "outputs/txt2img-images/2024-03-15/00012-1234567.png": (_a1111(1234567), _at(2024, 6, 30), ("2024-03-15", "folder")),
        "outputs/txt2img-images/2024-03-15/00013-20240316.png": (_a1111(20240316), _at(2024, 6, 30), ("2024-03-15", "folder")),
        "fooocus/2024-03-16_21-30-45_1234.png": (_a1111(5), _at(2024, 6, 30), ("2024-03-16T21:30:45", "file_name")),
        "misc/Screenshot 2024-03-17 at 9.05.10 PM.png": ({}, _at(2024, 6, 30), ("2024-03-17T21:05:10", "file_name")),
        "misc/2024-07-20.png": ({}, _at(2024, 6, 30, 8, 15), ("2024-06-30T08:15:00+00:00", "mtime")),  # after its mtime
        "comfy/ComfyUI_00001_.png": ({}, _at(2024, 6, 30, 9), ("2024-06-30T09:00:00+00:00", "mtime")),
        "invoke/550e8400-e29b-41d4-a716-446655440000.png": ({}, _at(2024, 6, 30, 9), ("2024-06-30T09:00:00+00:00", "mtime")),
        "png/creation_time.png": ({"Creation Time": "2023:11:05 08:15:00", **_a1111(9)}, _at(2024, 6, 30),
                                  ("2023-11-05T08:15:00", "embedded")),
        "civitai/2024-01-01.png": ({"parameters": _a1111(7)["parameters"] + ', Created Date: 2024-02-02T0304:05.1234567Z'},
                                   _at(2024, 6, 30), ("2024-02-02T03:04:05+00:00", "generator")),
    }
    for rel, (text, mtime_ns, _) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(path, text)
        os.utime(path, ns=(mtime_ns, mtime_ns))
    expected = {rel: want for rel, (_, _, want) in files.items()}
    time_png = root / "png" / "time_chunk.png"
    write_png(time_png, _a1111(11), modified=datetime(2023, 10, 1, 23, 45, 0, tzinfo=timezone.utc))
    expected["png/time_chunk.png"] = ("2023-10-01T23:45:00+00:00", "embedded")
    photo = root / "2024-05-01" / "IMG_0001.jpg"
    photo.parent.mkdir()
    write_jpeg(photo, camera=("Canon", "Canon EOS R5", "2022:07:04 19:45:00"))
    expected["2024-05-01/IMG_0001.jpg"] = ("2022-07-04T19:45:00", "embedded")  # its EXIF, not its folder
    return expected


def _stored(db_path: Path, root: Path) -> dict[str, tuple[str, str]]:
    return {os.path.relpath(r["path"], root): (r["created_at"], r["created_source"])
            for r in rows(db_path, "SELECT path, created_at, created_source FROM images")}


def test_db_filler_dates_every_file_by_its_best_source_and_reparse_recomputes_them(tmp_path):
    root, db_path = tmp_path / "lib", tmp_path / "lib.db"
    expected = write_dated_library(root)
    env = {"TZ": "UTC0"}
    done = run_script("DB_filler.py", str(root), "-r", "-y", "--db", str(db_path), "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    assert _stored(db_path, root) == expected
    # a database of before the sources: created_at from mtime or EXIF only, no source
    con = sqlite3.connect(db_path)
    con.execute("UPDATE images SET created_at = '2024-06-30T12:00:00+00:00', created_source = NULL")
    con.commit()
    con.close()
    done = run_script("DB_filler.py", str(root), "--reparse", "-y", "--db", str(db_path), "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    assert _stored(db_path, root) == expected


def test_a_legacy_row_without_its_file_is_dated_by_its_stored_path():
    row = LegacyRow("00001-1.png", "/old/outputs/txt2img-images/2023-08-09/00001-1.png", None,
                    "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64", None)
    record, _ = record_from_text(row, row.file_path, "2024-01-01T00:00:00+00:00")
    assert (record.created_at, record.created_source) == ("2023-08-09", "folder")
    row = LegacyRow("cat.png", "/old/cat.png", None, "a cat\nSteps: 20, Seed: 1", None)
    record, _ = record_from_text(row, row.file_path, "2024-01-01T00:00:00+00:00")
    assert (record.created_at, record.created_source) == (None, None)  # no mtime was stored: no 1970


def test_the_date_sources_are_data_the_docs_name():
    from exifdata_analytics.models import COLUMNS_BY_NAME, CREATED_SOURCES
    assert CREATED_SOURCES == ("embedded", "generator", "file_name", "folder", "mtime")
    doc = COLUMNS_BY_NAME["created_source"].doc
    assert all(source in doc for source in CREATED_SOURCES)
