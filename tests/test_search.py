"""The search language: words, phrases, boolean logic, scopes, field conditions, hostile input.

Databases here are real SQLite files with the real schema, filled through db.write_batch
with rows shaped as DB_filler writes them (no images needed to test the query compiler).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics import db
from exifdata_analytics.parsers.base import Resource
from exifdata_analytics.search import QueryError, compile_query, count, parse_query, search

BASE = db.ImageRecord(
    path="/x/a.png", file_name="a.png", folder="/x", size_bytes=100, mtime_ns=1, sha256=None, format="PNG",
    image_width=64, image_height=64, generator="A1111", prompt=None, negative_prompt=None, steps=None, seed=None,
    sampler=None, scheduler=None, cfg_scale=None, denoising_strength=None, width=None, height=None, model=None,
    model_hash=None, vae=None, clip_skip=None, params_json=None, raw_json=None, extra_json=None,
    created_at="2024-05-01T12:00:00", parse_status="ok", error=None, parser="a1111", indexed_at="2024-05-02T00:00:00",
)


def record(path: str, resources=(), **values) -> tuple[db.ImageRecord, tuple]:
    return replace(BASE, path=path, file_name=os.path.basename(path), folder=os.path.dirname(path), **values), \
        tuple(resources)


def make_db(path: Path, records) -> Path:
    con = db.connect(path)
    try:
        db.write_batch(con, list(records))
    finally:
        con.close()
    return path


ROWS = [
    record("/img/a/cat.png", prompt="a cat, red hair, masterpiece", negative_prompt="blurry, dog",
           model="dreamshaper_8", sampler="Euler a", steps=30, cfg_scale=7.0, seed=1, width=512, height=768,
           resources=[Resource("lora", "add_detail", None, 0.8, "prompt")]),
    record("/img/a/dog.png", prompt="a dog in a hat", negative_prompt="cat, lowres",
           model="ponyDiffusionV6XL", sampler="Euler", steps=20, cfg_scale=5.5, seed=2, width=1024, height=1024,
           created_at="2024-06-15T08:00:00"),
    record("/img/b/cathedral.jpg", prompt="gothic cathedral, hair of red gold", negative_prompt="blurry",
           model="sd_xl_base_1.0", sampler="DPM++ 2M", scheduler="Karras", steps=40, cfg_scale=6.5, seed=3,
           width=832, height=1216, format="JPEG"),
    record("/img/bc/catdog.png", prompt="cat and dog, hat", negative_prompt=None, generator="ComfyUI",
           model=None, sampler="euler_ancestral", steps=25, cfg_scale=8.0, seed=18446744073709551615),
    record("/img/c/none.png", generator=None, parse_status="no_metadata", parser=None,
           created_at="2023-12-31T23:00:00"),
]


@pytest.fixture(scope="module")
def sdb(tmp_path_factory) -> Path:
    return make_db(tmp_path_factory.mktemp("search") / "s.db", ROWS)


@pytest.fixture
def con(sdb):
    c = db.connect(sdb, readonly=True)
    yield c
    c.close()


def names(con, query, **kw) -> list[str]:
    return sorted(h.file_name for h in search(con, query, limit=None, **kw).hits)


def test_a_word_matches_whole_words_of_the_prompt_only(con):
    # 'cat' is in dog.png's negative prompt and inside 'cathedral': neither counts
    assert names(con, "cat") == ["cat.png", "catdog.png"]


def test_words_are_case_insensitive_and_implicitly_anded(con):
    assert names(con, "CAT Hat") == ["catdog.png"]


def test_a_phrase_needs_the_words_together_in_order(con):
    assert names(con, '"red hair"') == ["cat.png"]
    assert names(con, "red hair") == ["cat.png", "cathedral.jpg"]


def test_or_not_minus_and_parentheses(con):
    assert names(con, "cat OR gothic") == ["cat.png", "catdog.png", "cathedral.jpg"]
    assert names(con, "cat -hat") == ["cat.png"]
    assert names(con, "cat NOT hat") == ["cat.png"]
    assert names(con, "(cat OR gothic) AND NOT hair") == ["catdog.png"]
    assert names(con, "-cat") == ["cathedral.jpg", "dog.png", "none.png"]


def test_negative_prompt_scopes(con):
    assert names(con, "neg:blurry") == ["cat.png", "cathedral.jpg"]
    assert names(con, "hair -neg:dog") == ["cathedral.jpg"]
    assert names(con, "any:cat") == ["cat.png", "catdog.png", "dog.png"]
    assert names(con, "cat", scope="negative") == ["dog.png"]
    assert names(con, "prompt:cat", scope="negative") == ["cat.png", "catdog.png"]


def test_prefix_search(con):
    assert names(con, "cat*") == ["cat.png", "catdog.png", "cathedral.jpg"]


CJK_ROWS = [
    record("/jp/girl.png", prompt="傑作, 最高品質, 1人の女の子, 桜の木の下, 着物, (猫耳:1.2)", negative_prompt="低品質"),
    record("/jp/boy.png", prompt="青い空, 東京の夜景, 1人の少年, ネオン", negative_prompt="ぼやけた, 猫"),
    record("/kr/cat.png", prompt="고양이, cat, 벚꽃", negative_prompt=None),
]


def test_cjk_text_is_found_inside_longer_runs_of_cjk(tmp_path):
    # FTS5's tokenizer keeps '1人の女の子' as one word; a CJK term is matched as a substring instead
    c = db.connect(make_db(tmp_path / "cjk.db", CJK_ROWS), readonly=True)
    try:
        assert names(c, "女の子") == ["girl.png"]
        assert names(c, "猫耳") == ["girl.png"] and names(c, "猫") == ["girl.png"]
        assert names(c, "neg:猫") == ["boy.png"] and names(c, "any:猫") == ["boy.png", "girl.png"]
        assert names(c, "1人の") == ["boy.png", "girl.png"]
        assert names(c, "着物 OR ネオン") == ["boy.png", "girl.png"]
        assert names(c, "1人の -着物") == ["boy.png"]
        assert names(c, "cat 벚꽃") == ["cat.png"] and names(c, "고양이 OR 夜景") == ["boy.png", "cat.png"]
        assert names(c, '"桜の木"') == ["girl.png"] and names(c, "猫耳 steps>=1") == []
        assert count(c, "東京") == 1
    finally:
        c.close()


def test_text_fields_contain_or_equal_any_case(con):
    assert names(con, "model:PONY") == ["dog.png"]
    assert names(con, "sampler:euler") == ["cat.png", "catdog.png", "dog.png"]
    assert names(con, 'sampler="euler a"') == ["cat.png", "catdog.png"]  # euler_ancestral is Euler a too
    assert names(con, "sampler!=Euler status:ok") == ["cat.png", "catdog.png", "cathedral.jpg"]
    assert names(con, "generator:ComfyUI") == ["catdog.png"]
    assert names(con, "scheduler:karras format:jpeg") == ["cathedral.jpg"]


def test_fields_match_every_spelling_of_one_sampler_model_or_lora(tmp_path):
    path = make_db(tmp_path / "spell.db", [
        record("/s/a1111.png", sampler="Euler a", model="dreamshaper_8", model_hash="879db523c3",
               resources=[Resource("lora", "add_detail", "abcdef123456", 0.5, "prompt")]),
        record("/s/comfy.png", sampler="euler_ancestral", scheduler="karras", model="SD1.5/dreamshaper_8.safetensors",
               resources=[Resource("lora", "SD1.5\\add_detail.safetensors", None, 1.0, "ComfyUI graph")]),
        record("/s/nai.png", sampler="k_euler_ancestral", model="nai-diffusion-3"),
        record("/s/renamed.png", sampler="DPM++ 2M Karras", model="my_favourite", model_hash="879DB523C3"),
        record("/s/new.png", sampler="DPM++ 2M", scheduler="Karras", model="sd_xl_base_1.0"),
        record("/s/exp.png", sampler="dpmpp_2m", scheduler="exponential", model="sd_xl_base_1.0"),
    ])
    c = db.connect(path)
    db.refresh_canonical_names(c)  # what DB_filler does after writing: links the renamed file by its hash
    try:
        assert names(c, 'sampler:"Euler a"') == ["a1111.png", "comfy.png", "nai.png"]
        assert names(c, "sampler:k_euler_ancestral") == ["a1111.png", "comfy.png", "nai.png"]
        assert names(c, 'sampler="DPM++ 2M Karras"') == ["new.png", "renamed.png"]  # sampler and schedule
        assert names(c, 'sampler="DPM++ 2M"') == ["exp.png", "new.png", "renamed.png"]  # the algorithm, any schedule
        assert names(c, "sampler:dpmpp_2m") == ["exp.png", "new.png", "renamed.png"]
        assert names(c, "scheduler:karras") == ["comfy.png", "new.png", "renamed.png"]  # implied by the name too
        assert names(c, "model=SD1.5/dreamshaper_8.safetensors") == ["a1111.png", "comfy.png", "renamed.png"]
        assert names(c, "model:dreamshaper") == ["a1111.png", "comfy.png", "renamed.png"]
        assert names(c, "-model:dreamshaper") == ["exp.png", "nai.png", "new.png"]
        assert names(c, "lora:add_detail") == ["a1111.png", "comfy.png"]
        assert names(c, "lora=add_detail") == ["a1111.png", "comfy.png"]
    finally:
        c.close()


def test_a_negated_field_keeps_rows_without_the_value(con):
    # NULL model must not vanish from '-model:pony' (SQL NOT NULL is NULL)
    assert names(con, "-model:pony") == ["cat.png", "catdog.png", "cathedral.jpg", "none.png"]
    assert names(con, "model:") == ["catdog.png", "none.png"]


def test_numeric_comparisons_and_ranges(con):
    assert names(con, "steps>=30") == ["cat.png", "cathedral.jpg"]
    assert names(con, "cfg<7") == ["cathedral.jpg", "dog.png"]
    assert names(con, "steps:20..25") == ["catdog.png", "dog.png"]
    assert names(con, "steps:30") == ["cat.png"]
    assert names(con, "steps!=30 steps>0") == ["catdog.png", "cathedral.jpg", "dog.png"]
    assert names(con, "size:512x768") == ["cat.png"]


def test_a_seed_past_64_bits_is_found(con):
    assert names(con, "seed:18446744073709551615") == ["catdog.png"]
    assert names(con, "seed:2") == ["dog.png"]


def test_folder_is_a_subtree_for_absolute_paths_and_a_substring_otherwise(con):
    assert names(con, "folder:/img/b") == ["cathedral.jpg"]  # not /img/bc, a sibling sharing the prefix
    assert names(con, "folder:/img") == ["cat.png", "catdog.png", "cathedral.jpg", "dog.png", "none.png"]
    assert names(con, "folder=/img/a") == ["cat.png", "dog.png"]
    assert names(con, "folder:bc") == ["catdog.png"]


def test_lora_and_dates(con):
    assert names(con, "lora:detail") == ["cat.png"]
    assert names(con, "since:2024-06-01") == ["dog.png"]
    assert names(con, "until:2023-12-31") == ["none.png"]
    assert names(con, "date:2024-06-15") == ["dog.png"]


def test_fields_and_words_combine(con):
    assert names(con, "cat steps>=30 cfg<8 model:dream") == ["cat.png"]
    assert names(con, "cat OR steps>=40") == ["cat.png", "catdog.png", "cathedral.jpg"]


def test_total_limit_and_sort_orders(con):
    r = search(con, "status:ok", limit=2)
    assert r.total == 4 and len(r.hits) == 2
    assert [h.file_name for h in r.hits] == ["cat.png", "dog.png"]  # by path
    assert search(con, "", limit=1, sort="newest").hits[0].file_name == "dog.png"
    assert search(con, "", limit=1, sort="oldest").hits[0].file_name == "none.png"
    assert search(con, "cat", limit=0).total == 2


def test_counting_on_the_index_alone_agrees_with_the_table(con):
    for q in ("cat", "hair", '"red hair"', "cat OR dog", "cat -hat", "neg:blurry"):
        compiled = compile_query(q)
        assert compiled.fts_only
        assert count(con, compiled) == con.execute(
            f"SELECT COUNT(*) FROM images WHERE {compiled.where}", compiled.params).fetchone()[0]


def test_walking_the_path_index_gives_the_same_first_rows(tmp_path):
    # above _WALK_INDEX_ABOVE matches the query is run differently; the answer must not change
    recs = [record(f"/many/{i:05d}.png", prompt=f"common word{i % 7}") for i in range(2500)]
    con = db.connect(make_db(tmp_path / "many.db", recs), readonly=True)
    try:
        fast = search(con, "common", limit=10)
        assert fast.total == 2500
        assert [h.file_name for h in fast.hits] == [f"{i:05d}.png" for i in range(10)]
        newest = search(con, "word3", limit=5, sort="newest")
        assert [h.file_name for h in newest.hits] == [f"{i:05d}.png" for i in range(3, 36, 7)]
    finally:
        con.close()


def test_unknown_fields_are_searched_as_text_with_a_note(con):
    r = search(con, "masterpiece:1.2")
    assert [h.file_name for h in r.hits] == [] and any("not a field" in n for n in r.notes)
    r = search(con, "modle:cat")
    assert any("'modle' is not a field" in n for n in r.notes)


@pytest.mark.parametrize("query, message", [
    ("steps>=many", "needs a number"),
    ("cfg<abc", "needs a number"),
    ("cfg<", "needs a number after it"),
    ("steps>= cat", "needs a number after it"),
    ("model>3", "is text"),
    ("since:yesterday", "YYYY-MM-DD"),
    ("size:big", "size:512x768"),
    (" ".join(f"w{i}" for i in range(150)), "more than 100 terms"),
    ("(" * 30 + "cat", "nests parentheses"),
])
def test_meaningless_queries_raise_a_clear_query_error(con, query, message):
    with pytest.raises(QueryError, match=message):
        search(con, query)


HOSTILE = [
    "' OR 1=1 --", "'; DROP TABLE images; --", '"', '""', "'", "*", "-", "--", "NOT", "AND OR", "cat AND",
    "OR cat", "(((", ")))", ")(", "NEAR(cat dog)", "cat NEAR/2 dog", "^cat", "{prompt}:cat", "prompt:",
    "neg:", 'model:"', "model:'", "steps>=1e999", "seed:99999999999999999999999999", "a\x00b", "\\", "%", "_",
    "cat\" OR \"1\"=\"1", "images_fts MATCH 'x'", "rank:1", "prompt : \"x\" OR", "cat*" * 20, "ü猫 🐱",
    "x" * 5000, "folder:%", "model:%_%", "lora:'", "date:", "cfg:1..", "steps:..", "-(cat)", "-\"red hair\"",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_gives_results_or_a_query_error_and_changes_nothing(sdb, query):
    before = _digest(sdb)
    con = db.connect(sdb, readonly=True)
    try:
        try:
            result = search(con, query, limit=5)
        except QueryError as exc:
            assert str(exc)  # a message, never a bare failure
        else:
            assert result.total >= 0
        assert con.execute("SELECT COUNT(*) FROM images").fetchone()[0] == len(ROWS)
    finally:
        con.close()
    assert _digest(sdb) == before


def test_sql_in_the_query_is_text(con):
    assert names(con, "'; DROP TABLE images; --") == []
    assert names(con, "model:\"' OR '1'='1\"") == []
    assert con.execute("SELECT COUNT(*) FROM images").fetchone()[0] == len(ROWS)


MARK = "zqxjmarker"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["AND", "OR", "NOT", "(", ")", '"', "-", "*", ":", "steps>=", "model:", "neg:", "folder:", MARK])), max_size=12))
def test_no_query_raises_anything_but_query_error_and_user_text_never_reaches_sql(sdb, parts):
    text = " ".join(parts)
    try:
        compiled = compile_query(text)
    except QueryError:
        return
    # the only literals in the SQL are our own ESCAPE '\' and ''
    assert MARK not in compiled.where and "'" not in compiled.where.replace("'\\'", "").replace("''", "")
    con = db.connect(sdb, readonly=True)
    try:
        search(con, compiled, limit=3)
    except QueryError:
        pass
    finally:
        con.close()


def test_parse_tree_of_a_forgiving_query():
    node, notes = parse_query("cat OR")
    assert node is not None and notes
    node, notes = parse_query("")
    assert node is None and notes == ()


def test_the_database_is_opened_read_only_for_search(sdb):
    con = db.connect(sdb, readonly=True)
    try:
        with pytest.raises(sqlite3.OperationalError):
            con.execute("DELETE FROM images")
    finally:
        con.close()
