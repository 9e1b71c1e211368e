"""The statistics' filters are the search language: one rule for folders, models, generators and
dates; --where and --compare take search queries; coverage is counted in SQL over the same
images the statistics select."""
from __future__ import annotations

import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import db
from exifdata_analytics.coverage import COVERAGE_FIELDS, coverage_groups, coverage_table, parse_coverage
from exifdata_analytics.models import ImageRecord
from exifdata_analytics.search import QueryError, search
from test_analysis import build_small_db, record, run


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return build_small_db(tmp_path_factory.mktemp("filters") / "small.db")


def _selected(path, filters: A.Filters, dedupe: bool = False) -> set[str]:
    con = A.open_database(path)
    try:
        frame = A.load_selection(con, filters, dedupe=dedupe).frame
        ids = set(frame["id"].tolist())
        return {r[0] for r in con.execute("SELECT path, id FROM images") if r[1] in ids}
    finally:
        con.close()


def _searched(path, query: str) -> set[str]:
    con = A.open_database(path)
    try:
        return {h.path for h in search(con, query, limit=None).hits}
    finally:
        con.close()


@pytest.mark.parametrize("filters, query", [
    (A.Filters(folders=("/lib/a",)), "folder:/lib/a"),
    (A.Filters(folders=("/lib/b", "/lib/c")), "folder:/lib/b OR folder:/lib/c"),
    (A.Filters(models=("SDXL",)), "model:SDXL"),
    (A.Filters(generators=("forge", "comfyui")), "generator=forge OR generator=comfyui"),
    (A.Filters(since="2024-02-01"), "since:2024-02-01"),
    (A.Filters(until="2024-01-31"), "until:2024-01-31"),
    (A.Filters(since="2024-01-16", until="2024-01-20", models=("dream",)), "since:2024-01-16 until:2024-01-20 model:dream"),
    (A.Filters(where=("steps>=25",)), "steps>=25"),
    (A.Filters(where=("cat", "sampler:euler")), "cat sampler:euler"),
    (A.Filters(folders=("/lib",), where=("-cat OR model:sdxl",)), "folder:/lib (-cat OR model:sdxl)"),
])
def test_a_filter_selects_exactly_what_the_same_search_finds(small_db, filters, query):
    found = _selected(small_db, filters)
    assert found == _searched(small_db, query)
    assert found  # every case selects something, so the comparison says something


def test_where_narrows_every_statistic_and_keeps_its_notes(small_db):
    an = run(small_db, filters=A.Filters(where=("model:pony steps>=30",)))
    assert an.images == 0
    an = run(small_db, filters=A.Filters(where=("steps>=25",)))
    assert an.images == 2 and dict(an.parameter("Sampler").items) == {"Euler a": 1, "Euler": 1}
    assert A.Filters(where=("colour:red",)).notes  # an unknown field is forgiven, and said
    with pytest.raises(QueryError):
        A.Filters(where=("steps>=many",))


@pytest.mark.parametrize("spec, images", [
    ("folder=/lib/a", 3),  # the original KEY=VALUE pairs keep their meaning (model= contains)
    ("model=dream", 3),
    ("generator=Forge;since=2024-02-01", 1),
    ("sampler=euler", 1),  # a search field with '=': equals, any case
    ("model:sdxl steps>=25", 1),
    ("prompt:cat", 3),
])
def test_compare_sides_take_key_value_pairs_or_search_queries(small_db, spec, images):
    an = run(small_db, compare=(spec, "folder=/lib"))
    assert an.comparison.images_a == images


@pytest.mark.parametrize("spec", ["cat", "colour=red", "model:x colour:y"])
def test_compare_refuses_a_side_that_names_no_known_field(spec):
    with pytest.raises(A.InputError, match="KEY=VALUE"):
        A.parse_compare_spec(spec)


def test_sql_coverage_counts_the_images_the_selection_frame_holds(tmp_path):
    # labels with odd whitespace: the SQL labels must strip exactly as the statistics do
    rows = [record(f"/x/{i}.png", sha256=f"{i % 5:064d}", generator=gen, model=model, sampler=sampler, vae=vae,
                   prompt=prompt, cfg_scale=cfg, width=w, height=h)
            for i, (gen, model, sampler, vae, prompt, cfg, w, h) in enumerate([
                ("A1111", "m", "Euler", None, "cat", 7.0, 512, 512),
                (" A1111\u3000", "  ", "\t", "v", "  ", None, 512, None),
                ("ComfyUI", "\u00a0m2", "", "", "dog", 5.0, None, None),
                (None, None, None, None, None, None, None, None),
                ("A1111", "m", "Euler a", None, "x", 7.0, 8, 8),
                ("A1111", "m", "Euler a", None, "x", 7.0, 8, 8),  # same sha256 as row 0: a copy
            ])]
    path = tmp_path / "ws.db"
    con = db.connect(path)
    db.write_batch(con, [(r, ()) for r in rows])
    con.close()
    con = A.open_database(path)
    try:
        for dedupe in (True, False):
            frame = A.load_selection(con, A.Filters(), dedupe=dedupe).frame
            table = coverage_table(coverage_groups(con, *A.selection_sql(A.Filters(), dedupe)))
            assert table.images == len(frame)
            by_gen = {}
            for row in table.rows:
                totals = by_gen.setdefault(row.generator, dict.fromkeys([f.label for f in COVERAGE_FIELDS], 0))
                for name, n in row.filled:
                    totals[name] += n
            gens = frame["generator"].astype(object).fillna("(none)")
            for gen, totals in by_gen.items():
                part = frame[gens == gen]
                assert totals["model"] == part["model"].notna().sum()
                assert totals["sampler"] == part["sampler"].notna().sum()
                assert totals["vae"] == part["vae"].notna().sum()
                assert totals["prompt"] == part["has_prompt"].sum()
                assert totals["size"] == (part["width"].notna() & part["height"].notna()).sum()
            assert set(by_gen) == set(gens)
        assert {g.generator for g in parse_coverage(con).generators} == {"A1111", "ComfyUI", "(unknown)"}
    finally:
        con.close()


def test_an_image_record_is_the_declared_row():
    assert isinstance(record("/a/b.png"), ImageRecord)


def test_the_cli_where_flag_filters_and_says_what_it_forgave(small_db, tmp_path, capsys):
    from test_cli_statistic import statistic  # the CLI module, run in this process

    def run_cli(*args):
        config = tmp_path / "c.ini"
        config.write_text(f"[Paths]\nlogging_dir = {tmp_path / 'logs'}\n", encoding="utf-8")
        return statistic.main(["--config", str(config), "-y", "--db", str(small_db), "--no-plots", "--workers", "1",
                               "--out", str(tmp_path / "o"), "--keywords", "cat", *args])

    assert run_cli("--where", "steps>=25", "--where", "OR model:*") == 0
    assert "Note: --where 'OR model:*': OR without a term on one side was ignored" in capsys.readouterr().out
    counts = (tmp_path / "o" / "parameter_counts.txt").read_text(encoding="utf-8")
    assert counts.startswith("Analysis for Sampler:\nSampler\nEuler      1\nEuler a    1\n\n")
    assert run_cli("--where", "steps>=many") == 2
