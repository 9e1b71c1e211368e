"""Hostile names in charts, query bombs and small mistakes at the command line (issue 16, items 2,
9 and 10): each case below failed on the code before this change (a traceback, "unexpected …",
a wrong exit code, text that reorders the terminal).

* Labels are literal: a tag, model, sampler or LoRA called ``$_$`` stopped the statistics with
  "unexpected ValueError" (matplotlib's mathtext), so no plot and no HTML report.
* Query bombs: 2,000 chained NOTs ("unexpected RecursionError"), 900 NOTs before a field
  ("database error … parser stack overflow"), nesting past what SQLite's parser takes, and
  queries of any length get a clear answer; a fuzz target over the search language checks that
  every query either runs or is refused with a QueryError, on a real SQLite database.
* ``--since 2024-1-5`` exits 2, a huge ``--limit`` means all, ``--limit -1`` is refused, a folder
  as ``--db`` is named as such, and bidi controls from the database never reach the terminal.

EXIFDATA_SLOW_TESTS=1 runs 20x more fuzz examples.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics import db
from exifdata_analytics.errors import DatabaseError
from exifdata_analytics.search import QueryError, compile_query, search
from exifdata_analytics.search.compiler import MAX_NESTING, compile_tree
from exifdata_analytics.search.syntax import MAX_QUERY_CHARS, Not, Text
from exifdata_analytics.samples import a1111_infotext, write_png
from tests.robust_support import run_measured, write_config
from tests.test_analysis import build_small_db, record

SLOW = os.environ.get("EXIFDATA_SLOW_TESTS") == "1"
FUZZ = settings(max_examples=2000 if SLOW else 150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

MATH = ("$_$", "$x^2$", r"$\frac{1}{2}$", "$$", "a$b", r"\$not$")


# -- item 2: every label drawn is literal text ---------------------------------------------------

@pytest.fixture(scope="module")
def math_db(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("mathtext")
    root = tmp / "images"
    root.mkdir()
    for i in range(12):
        sign = MATH[i % len(MATH)]
        text = a1111_infotext(f"{sign}, 1girl, {sign} smile, <lora:{sign}lora:0.{i % 9 + 1}>", f"{sign}, blurry",
                              {"Steps": 20 + i % 3, "Sampler": f"Euler {sign}" if i % 2 else "Euler a",
                               "CFG scale": 7, "Seed": i, "Size": "64x64", "Model": f"{sign}model{i % 2}",
                               "Model hash": "abcdef12" if i % 2 else "12345678"})
        write_png(root / f"{i}.png", {"parameters": text}, seed=i)
    database = tmp / "math.db"
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(database), "--config", str(write_config(tmp)),
                       "--no-progress", tmp_path=tmp)
    assert run.returncode == 0, run.stderr
    return tmp, database


def test_dollar_signs_in_tags_models_samplers_and_loras_are_drawn_as_written(math_db, tmp_path):
    tmp, database = math_db
    out = tmp_path / "out"
    # --workers 1: in this process, and in a second run with the helper (plots drawn there)
    for workers in ("1", "2"):
        run = run_measured("parameter_statistic.py", "-y", "--db", str(database), "--out", str(out), "--html",
                           "--keywords", "$_$", "--workers", workers, tmp_path=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "unexpected" not in run.stderr.lower()
        for chart in ("Sampler_counts.png", "Model_counts.png", "prompt tags_counts.png", "lora_usage.png",
                      "model_cards.png", "keyword_counts.png", "model_sampler_heatmap.png"):
            assert (out / chart).stat().st_size > 1000, chart
        html = (out / "report.html").read_text(encoding="utf-8")
        assert "$_$" in html and "$x^2$" in html
    

# -- item 9: query bombs ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    return build_small_db(tmp_path_factory.mktemp("bombs") / "small.db")


def _search(database: Path, query: str, *args: str, tmp_path: Path):
    return run_measured("parameter_statistic_DB.py", "search", query, "--db", str(database), *args,
                        tmp_path=tmp_path, timeout=60)


def test_two_thousand_chained_nots_are_counted_not_recursed(small_db, tmp_path):
    even = _search(small_db, "NOT " * 2000 + "cat", tmp_path=tmp_path)
    plain = _search(small_db, "cat", tmp_path=tmp_path)
    assert even.returncode == 0, even.stderr
    assert "RecursionError" not in even.stderr and "NOT NOT x is x" in even.stdout + even.stderr
    assert even.stdout.splitlines()[-1] == plain.stdout.splitlines()[-1]  # the same hits as 'cat'
    odd = _search(small_db, "NOT " * 2001 + "cat", "--json", tmp_path=tmp_path)
    assert odd.returncode == 0, odd.stderr
    assert json.loads(odd.stdout)["total"] == json.loads(_search(small_db, "NOT cat", "--json",
                                                                  tmp_path=tmp_path).stdout)["total"]


def test_nine_hundred_nots_before_a_field_do_not_blame_the_database(small_db, tmp_path):
    run = _search(small_db, "NOT " * 900 + "steps>5", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "database error" not in (run.stdout + run.stderr).lower()


def test_nesting_past_what_sqlite_can_parse_is_a_clear_query_error(small_db, tmp_path):
    # alternate AND / OR around NOT (two nodes a level, two parentheses): 9 levels nest 18 deep
    query = "cat"
    for level in range(9):
        query = f"(dog{level} {'OR' if level % 2 else 'AND'} NOT ({query}))"
    run = _search(small_db, query, tmp_path=tmp_path)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert f"more than {MAX_NESTING} deep" in run.stderr and "Traceback" not in run.stderr
    # a tree built by code, of any depth, is refused the same way (no recursion to overflow)
    deep = Text("cat", "prompt")
    for _ in range(100_000):
        deep = Not(deep)
    with pytest.raises(QueryError, match="nests"):
        compile_tree(deep)


def test_a_query_of_any_length_gets_an_answer(small_db, tmp_path):
    long = _search(small_db, "cat " * (MAX_QUERY_CHARS // 4 + 1), tmp_path=tmp_path)
    assert long.returncode == 2 and f"at most {MAX_QUERY_CHARS:,}" in long.stderr
    with pytest.raises(QueryError):
        compile_query("(" * 5000 + "cat" + ")" * 5000)


WORDS = ("cat", "dog", "1girl", "猫", "a-b", "x_y", "50%", "'", '"', "*", "\\", "\x00", "\u202e")
FIELDS = ("model", "sampler", "scheduler", "lora", "vae", "generator", "steps", "cfg", "seed", "width", "folder",
          "path", "prompt", "negative", "size", "status", "date", "bogus")
OPS = (":", "=", ">", "<", ">=", "<=", "!=", ":>")
VALUES = ("", "1", "-1", "1.5", "1e309", "9" * 40, "nan", "euler", "2024-01", "2024-13-40", "512x768", '"a b"', "*")
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda f, o, v: f + o + v, st.sampled_from(FIELDS), st.sampled_from(OPS), st.sampled_from(VALUES)),
    st.sampled_from(("AND", "OR", "NOT", "-", "(", ")", '"', "and", "or", "|")),
    st.text(max_size=8),
)
queries = st.lists(PIECES, max_size=30).map(" ".join)


@pytest.fixture(scope="module")
def fuzz_con(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    con = db.connect(path)
    db.write_batch(con, [(record(f"/lib/{i}.png", prompt=f"cat {w}", model=f"m{i}.safetensors", sampler="Euler",
                                 steps=20 + i, cfg_scale=7.0, seed=i), ()) for i, w in enumerate(WORDS)])
    yield con
    con.close()


@FUZZ
@given(query=queries, scope=st.sampled_from(("prompt", "negative", "any")))
def test_every_query_runs_or_is_refused_with_a_query_error(fuzz_con, query, scope):
    try:
        result = search(fuzz_con, query, limit=5, scope=scope)
    except QueryError as exc:
        assert str(exc)
        return
    except (sqlite3.Error, DatabaseError) as exc:  # what the fuzz target is for
        raise AssertionError(f"the database refused {query!r}: {exc}") from None
    assert result.total >= len(result.hits)


# -- item 10: small mistakes at the command line ------------------------------------------------

def test_a_date_that_is_not_yyyy_mm_dd_is_a_usage_error(small_db, tmp_path):
    run = run_measured("parameter_statistic.py", "-y", "--db", str(small_db), "--out", str(tmp_path / "o"),
                       "--since", "2024-1-5", tmp_path=tmp_path)
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr


def test_limits_huge_negative_and_not_numbers(small_db, tmp_path):
    huge = _search(small_db, "cat", "--limit", "9" * 30, "--json", tmp_path=tmp_path)
    assert huge.returncode == 0, huge.stderr
    assert len(json.loads(huge.stdout)["hits"]) == json.loads(huge.stdout)["total"]
    for command in (("duplicates", "--limit", "-1"), ("search", "cat", "--limit", "-1"), ("sample", "-3"),
                    ("sample", "x")):
        run = run_measured("parameter_statistic_DB.py", *command, "--db", str(small_db), tmp_path=tmp_path)
        assert run.returncode == 2, (command, run.stderr)
        assert "OverflowError" not in run.stderr and "Traceback" not in run.stderr


def test_a_folder_given_as_the_database_is_named_as_a_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    run = run_measured("parameter_statistic.py", "-y", "--db", str(folder), "--out", str(tmp_path / "o"),
                       tmp_path=tmp_path)
    assert run.returncode != 0 and "is a folder, not a database file" in run.stderr
    assert "disk I/O error" not in run.stderr


BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: 'cat\u202egnp.exe' reads as 'catexe.png'


def test_bidi_controls_from_the_database_never_reach_the_terminal(tmp_path):
    database = tmp_path / "bidi.db"
    con = db.connect(database)
    db.write_batch(con, [(record(f"/lib/cat{BIDI}gnp.exe.png", prompt=f"cat {BIDI}\u2066evil\u2069 prompt",
                                 model=f"m{BIDI}.safetensors"), ())])
    con.close()
    for command in (("search", "cat"), ("search", "cat", "--json"), ("sample", "1"), ("sample", "1", "--json"),
                    ("integrity",)):
        run = run_measured("parameter_statistic_DB.py", *command, "--db", str(database), tmp_path=tmp_path)
        shown = run.stdout + run.stderr
        assert not any(ch in shown for ch in (BIDI, "\u2066", "\u2069")), command
    as_json = json.loads(run_measured("parameter_statistic_DB.py", "search", "cat", "--json", "--db", str(database),
                                      tmp_path=tmp_path).stdout)
    assert as_json["hits"][0]["path"] == f"/lib/cat{BIDI}gnp.exe.png"  # escaped in the text, exact as data
