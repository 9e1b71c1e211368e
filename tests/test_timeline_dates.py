"""Trends and habits by the source of each image's date: real images indexed by filler.fill,
planted patterns the statistics must find, and a copied library's one mtime they must not."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import reports
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.samples import a1111_infotext, write_png
from test_analysis import run
from test_dates import local_zone


def _png(path: Path, mtime: datetime, seed: int, generated: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = {"parameters": a1111_infotext("a cat", None, {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7,
                                                         "Seed": seed, "Size": "64x64", "Model": "m"})}
    write_png(path, text if generated else {}, seed=seed)
    ns = int(mtime.replace(tzinfo=timezone.utc).timestamp()) * 1_000_000_000
    os.utime(path, ns=(ns, ns))


COPIED = datetime(2024, 6, 30, 3, 0)  # when the restored library was copied


@pytest.fixture(scope="module")
def dated_analysis(tmp_path_factory) -> A.Analysis:
    """41 images, with TZ=UTC:
    * 12 named with a time: Tuesdays of April 2024 at 21:xx (the planted habit);
    * 20 A1111 images in date folders of January (12) and February (8), copied on 2024-06-30
      at 03:00 (their mtime: a trend month and an hour that are not theirs);
    * 6 A1111 images in 2024-05-08/ whose mtime is that day, 14:xx (hour from the mtime);
    * 3 files with no date but their mtime, 2024-05-10 08:00."""
    root = tmp_path_factory.mktemp("dated") / "lib"
    seed = 1000
    for i in range(12):
        day = datetime(2024, 4, 2 + 7 * (i % 4), 21, 5 + i)
        _png(root / "named" / f"{day:%Y-%m-%d_%H-%M-%S}_{i:04d}.png", COPIED, seed := seed + 1)
    for i in range(20):
        day = f"2024-01-{10 + i:02d}" if i < 12 else f"2024-02-{i:02d}"
        _png(root / "outputs" / "txt2img-images" / day / f"{i:05d}-{seed + 1}.png", COPIED, seed := seed + 1)
    for i in range(6):
        _png(root / "outputs" / "txt2img-images" / "2024-05-08" / f"{i:05d}-{seed + 1}.png",
             datetime(2024, 5, 8, 14, 10 + i), seed := seed + 1)
    for i in range(3):
        _png(root / "misc" / f"cat{i}.png", datetime(2024, 5, 10, 8, 0), seed := seed + 1, generated=False)
    db_path = root.parent / "lib.db"
    with local_zone("UTC0"):
        summary = fill(FillOptions(root=str(root), recursive=True, db_path=db_path, workers=2, batch_size=10))
        assert summary.errors == 0 and summary.new == 41
        return run(db_path)


def test_trends_count_each_image_in_its_own_month_not_the_copys(dated_analysis):
    t = dated_analysis.trends
    assert t.months == ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05")  # no June: the copy's month
    assert t.images == (12, 8, 0, 12, 9)
    assert t.sources == (("file_name", 12), ("folder", 26), ("mtime", 3))
    assert t.undated == 0


def test_habits_find_the_planted_evening_and_leave_out_dates_without_a_time(dated_analysis):
    h = dated_analysis.habits
    assert h.weekday[1] == 12 and h.hour[21] == 12 and h.grid[1][21] == 12  # Tuesday evenings
    assert h.weekday[2] == 6 and h.hour[14] == 6  # Wednesday 2024-05-08, hours from the mtime on that day
    assert h.weekday[4] == 3 and h.hour[8] == 3  # Friday 2024-05-10, mtime only
    assert h.hour[3] == 0  # the copy's hour is no habit
    assert sum(h.weekday) == sum(h.hour) == h.images == 21
    assert h.sources == (("file_name", 12), ("folder + mtime", 6), ("mtime", 3))
    assert h.mtime_only == 3
    assert h.date_only == (("folder", 20),) and h.left_out == 20 and h.undated == 0


def test_the_reports_say_how_many_images_each_source_dated(dated_analysis):
    texts = reports.text_reports(dated_analysis)
    assert "Dated by: file name 12, folder 26, mtime 3\n" in texts["trends.txt"]
    habits = texts["habits.txt"]
    assert "Counted: 21 images with a time of day, dated by: file name 12, folder + mtime 6, mtime 3\n" in habits
    assert "Of these, 3 dated only by the file's modification time" in habits
    assert "Left out for lack of a time of day: 20 images, dated by: folder 20\n" in habits
    assert '"+ mtime": the day from that source' in habits
    html = reports.format_html(dated_analysis, {})
    assert "Dated by: file name 12, folder 26, mtime 3." in html
    assert "Left out for lack of a time of day: 20 images, dated by: folder 20." in html


def test_an_mtime_on_another_day_or_in_another_zone_gives_no_hour(tmp_path):
    path = tmp_path / "outputs" / "2024-05-08" / "00001-5.png"
    _png(path, datetime(2024, 5, 8, 23, 30), 5)  # 23:30 UTC
    db_path = tmp_path / "one.db"
    with local_zone("UTC0"):
        fill(FillOptions(root=str(tmp_path / "outputs"), recursive=True, db_path=db_path, workers=1))
        assert run(db_path).habits.sources == (("folder + mtime", 1),)
    with local_zone("JST-9"):  # there the mtime is 08:30 on the 9th: not the folder's day
        h = run(db_path).habits
        assert h.sources == () and h.date_only == (("folder", 1),)


def test_rows_indexed_before_dates_had_sources_still_count():
    frame = A.compact_frame({"created_at": ["2024-01-05T10:00:00", "2024-01-06", None],
                             "created_source": [None, None, None], "model": ["m", "m", "m"], "sampler": [None] * 3})
    assert A.monthly_trends(frame).sources == (("unrecorded", 2),)
    h = A.weekday_hour(frame)
    assert h.sources == (("unrecorded", 1),) and h.date_only == (("unrecorded", 1),) and h.undated == 1
    text = reports.format_habits(h)
    assert "dated by: not recorded 1" in text and "DB_filler.py --reparse" in text


def test_a_database_of_before_the_column_is_read_without_migrating(tmp_path):
    import sqlite3

    from test_analysis import build_small_db
    path = build_small_db(tmp_path / "old.db")
    con = sqlite3.connect(path)
    con.execute("DROP VIEW images_browse")  # schema 3's view names the column; schema 1 had neither
    con.execute("ALTER TABLE images DROP COLUMN created_source")  # as a schema-1 file read read-only
    con.commit()
    con.close()
    con = A.open_database(path)
    try:
        frame = A.load_selection(con).frame
    finally:
        con.close()
    assert frame["created_source"].isna().all() and len(frame) == 7
    assert A.monthly_trends(frame).sources == (("unrecorded", 7),)
