"""The compact columns of the statistics (analysis.columns) and the coverage counted in the
selection's scan (coverage.CoverageCounter), on real SQLite files."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from exifdata_analytics import analysis as A
from exifdata_analytics import db
from exifdata_analytics.analysis.columns import ImageIds, Labels, distinct_values, id_lookup, per_value
from exifdata_analytics.coverage import CoverageCounter, count_coverage, coverage_table
from test_analysis import build_small_db, record, small_rows


def test_labels_are_stored_once_with_sorted_categories_and_missing_values_stay_missing():
    labels = Labels()
    parts = [labels.codes(["b ", "a", None, "  "]), labels.codes(["a", "c", float("nan")])]
    column = pd.Series(labels.categorical(parts))
    assert column.tolist()[:2] == ["b", "a"] and column.isna().tolist() == [False, False, True, True, False, False, True]
    assert list(column.cat.categories) == ["a", "b", "c"] and column.cat.codes.dtype == np.int8
    assert per_value(column, str.upper).tolist() == ["B", "A", None, None, "A", "C", None]
    values, rows = distinct_values(column, missing="")
    assert values[rows].tolist() == ["b", "a", "", "", "a", "c", ""]


def test_compact_frame_keeps_created_at_to_the_hour_and_numbers_as_floats():
    frame = A.compact_frame({"id": [3, 1], "created_at": ["2024-01-05T10:11:12", "2024-01-06"],
                             "steps": [20, None], "model": ["m", None]})
    assert frame["created_to_hour"].tolist() == ["2024-01-05T10:", "2024-01-06"]
    assert frame["steps"].dtype == float and np.isnan(frame["steps"][1]) and frame["id"].dtype == np.int64
    assert isinstance(frame["model"].dtype, pd.CategoricalDtype) and frame["model"].isna().tolist() == [False, True]


def test_image_ids_compare_hash_and_pickle_as_their_ids():
    ids = ImageIds([5, 2, 9])
    assert ids == (5, 2, 9) and ids == [5, 2, 9] and ids != (5, 2) and ImageIds() == ()
    assert ids == ImageIds(np.array([5, 2, 9])) and hash(ids) == hash(ImageIds([5, 2, 9]))
    back = pickle.loads(pickle.dumps(ids))
    assert back == ids and list(back) == [5, 2, 9] and not back.array.flags.writeable
    assert len(pickle.dumps(ImageIds(range(100_000)))) < 900_000  # 8 bytes an id, not a tuple of ints


def test_id_lookup_finds_exactly_the_given_ids():
    contains = id_lookup(pd.Series([10, 3, 7, 3]))
    assert [i for i in range(12) if contains(i)] == [3, 7, 10]
    assert not id_lookup(pd.Series([], dtype=np.int64))(1)


def _coverage_db(path):
    rows = small_rows()
    rows.append((record("/lib/d/comfy.png", sha256="9" * 64, generator="ComfyUI", parser="comfyui",
                        params_json='{"Unread nodes": ["LLMNode", "StringMagic"], "Saver text differs": ["seed"]}'),
                 ()))
    rows.append((record("/lib/d/comfy2.png", sha256="8" * 64, generator="ComfyUI", parser="comfyui",
                        params_json='{"Unread nodes": ["LLMNode"]}'), ()))
    rows.append((record("/lib/d/broken.png", sha256="7" * 64, generator="ComfyUI", parser="comfyui",
                        params_json='{"Unread nodes": ["Lost"'), ()))  # not JSON (edited by hand): not counted
    con = db.connect(path)
    db.write_batch(con, rows)
    con.close()
    return path


def test_coverage_counted_in_the_selection_scan_equals_its_own_scan(tmp_path):
    path = _coverage_db(tmp_path / "cov.db")
    con = A.open_database(path)
    try:
        for dedupe in (True, False):
            alone = count_coverage(con, *A.selection_sql(A.Filters(), dedupe))
            beside = CoverageCounter()
            A.load_selection(con, A.Filters(), dedupe, also=(beside,))
            assert beside.table() == alone.table()
            assert beside.groups() and sum(g.images for g in beside.groups()) == 11 - dedupe
        counted = count_coverage(con)
        assert [(u.node_class, u.images) for u in counted.unread()] == [("LLMNode", 2), ("StringMagic", 1)]
        assert [(d.field, d.images) for d in counted.disagreements()] == [("seed", 1)]
        assert ("sampler", "euler") not in {(u.field, u.spelling) for u in counted.unknown()}
    finally:
        con.close()


def test_coverage_of_chunks_adds_up_to_the_coverage_of_all_rows(tmp_path):
    path = _coverage_db(tmp_path / "cov.db")
    con = A.open_database(path)
    try:
        rows = con.execute(f"SELECT {', '.join(CoverageCounter.COLUMNS)} FROM images").fetchall()
    finally:
        con.close()
    whole, single = CoverageCounter(), CoverageCounter()
    whole.add(list(zip(*rows)))
    for row in rows:
        single.add(list(zip(row)))
    assert single.table() == whole.table() == coverage_table(whole.groups(), whole.unknown(), whole.unread(),
                                                             whole.disagreements())
    by_group = {(g.generator, g.status, g.format): g.images for g in whole.groups()}
    assert by_group[("ComfyUI", "ok", "PNG")] == 3 and by_group[("ComfyUI", "ok", "WEBP")] == 1
    assert by_group[(None, "unparsed", "PNG")] == 1


def test_the_small_database_reads_the_same_through_the_compact_frame(tmp_path):
    con = A.open_database(build_small_db(tmp_path / "small.db"))
    try:
        frame = A.load_selection(con).frame
    finally:
        con.close()
    samplers = [None if pd.isna(v) else v for v in frame["sampler"].tolist()]
    assert samplers == ["Euler a", "Euler a", "DPM++ 2M", "Euler", None, None, None]
    assert frame["created_to_hour"].tolist()[-1] == "2024-01-16T10:"
