"""The database contract: columns, WAL, schema version, upserts, resources, FTS, refusals."""
from __future__ import annotations

import sqlite3

import pytest

from exifdata_analytics import db
from exifdata_analytics.errors import DatabaseError
from exifdata_analytics.parsers.base import Resource

CONTRACT_COLUMNS = {
    "id", "path", "file_name", "folder", "size_bytes", "mtime_ns", "sha256", "format", "image_width",
    "image_height", "generator", "prompt", "negative_prompt", "steps", "seed", "sampler", "scheduler",
    "cfg_scale", "denoising_strength", "width", "height", "model", "model_hash", "vae", "clip_skip",
    "params_json", "raw_json", "created_at", "parse_status", "error",
}


def _record(path: str, **over) -> db.ImageRecord:
    base = dict(path=path, file_name=path.rsplit("/", 1)[-1], folder=path.rsplit("/", 1)[0], size_bytes=10,
                mtime_ns=1, sha256="0" * 64, format="PNG", image_width=8, image_height=8, generator="A1111",
                prompt="a cat", negative_prompt="blurry", steps=20, seed=1, sampler="Euler", scheduler=None,
                cfg_scale=7.0, denoising_strength=None, width=512, height=512, model="m", model_hash=None,
                vae=None, clip_skip=None, params_json="{}", raw_json="{}", extra_json=None, created_at="2024-01-01",
                parse_status="ok", error=None, parser="a1111", indexed_at="2024-01-01T00:00:00+00:00")
    base.update(over)
    return db.ImageRecord(**base)


def test_schema_has_every_contract_column_wal_and_a_version(db_path):
    con = db.connect(db_path)
    cols = {r[1] for r in con.execute("PRAGMA table_info(images)")}
    assert CONTRACT_COLUMNS <= cols
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    assert {r[1] for r in con.execute("PRAGMA table_info(resources)")} >= {"image_id", "kind", "name", "hash", "weight"}
    con.close()


def test_upsert_is_keyed_by_path_and_keeps_the_id(db_path):
    con = db.connect(db_path)
    db.write_batch(con, [(_record("/a/x.png"), ()), (_record("/b/x.png", prompt="a dog"), ())])
    first_id = db.image_ids(con, ["/a/x.png"])["/a/x.png"]
    db.write_batch(con, [(_record("/a/x.png", prompt="a bird", steps=30), ())])
    got = con.execute("SELECT id, prompt, steps FROM images WHERE path='/a/x.png'").fetchone()
    assert tuple(got) == (first_id, "a bird", 30)
    assert db.count_images(con) == 2
    con.close()


def test_resources_are_replaced_on_update_and_deleted_with_their_image(db_path):
    con = db.connect(db_path)
    db.write_batch(con, [(_record("/a/x.png"), (Resource("lora", "add_detail", "abc", 0.8, "prompt"),
                                                Resource("embedding", "easynegative", None, None, "TI hashes")))])
    db.write_batch(con, [(_record("/a/x.png"), (Resource("lora", "film_grain", None, 0.5, "prompt"),))])
    assert [r.name for r in db.resources_of(con, "/a/x.png")] == ["film_grain"]
    db.delete_paths(con, ["/a/x.png"])
    assert con.execute("SELECT COUNT(*) FROM resources").fetchone()[0] == 0
    con.close()


def test_fts_index_follows_inserts_updates_and_deletes(db_path):
    con = db.connect(db_path)
    db.write_batch(con, [(_record("/a/1.png", prompt="castle at night"), ()),
                         (_record("/a/2.png", prompt="forest", negative_prompt="castle"), ())])

    def hits(q):
        return sorted(r[0] for r in con.execute(
            "SELECT i.file_name FROM images_fts f JOIN images i ON i.id = f.rowid WHERE images_fts MATCH ?", (q,)))

    assert hits("castle") == ["1.png", "2.png"]
    assert hits("prompt:castle") == ["1.png"]
    db.write_batch(con, [(_record("/a/1.png", prompt="harbor"), ())])
    assert hits("prompt:castle") == [] and hits("harbor") == ["1.png"]
    db.delete_paths(con, ["/a/2.png"])
    assert hits("castle") == []
    assert con.execute("INSERT INTO images_fts(images_fts) VALUES('integrity-check')") is not None
    con.close()


def test_update_parsed_rewrites_many_rows_in_step_with_the_search_index(db_path):
    con = db.connect(db_path)
    db.write_batch(con, [(_record(f"/a/{i}.png", prompt=f"old words{i}"), ()) for i in range(5)])
    ids = db.image_ids(con, [f"/a/{i}.png" for i in range(5)])
    updates = [(ids[f"/a/{i}.png"], {"prompt": f"new words{i}", "steps": 30 + i, "seed": 2**64 - 1},
                (Resource("lora", f"net{i}"),)) for i in range(4)]
    updates.append((ids["/a/4.png"], {"parse_status": "unparsed", "error": "why"}, ()))  # another column set
    db.update_parsed(con, updates)
    rows = {r["path"]: r for r in con.execute("SELECT * FROM images")}
    assert [rows[f"/a/{i}.png"]["steps"] for i in range(4)] == [30, 31, 32, 33]
    assert rows["/a/0.png"]["seed"] == str(2**64 - 1)  # the same exactness as inserts
    assert rows["/a/4.png"]["parse_status"] == "unparsed" and rows["/a/4.png"]["prompt"] == "old words4"
    assert con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'new'").fetchone()[0] == 4
    assert con.execute("SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH 'old'").fetchone()[0] == 1
    assert [r.name for r in db.resources_of(con, "/a/2.png")] == ["net2"]
    con.execute("INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)")
    with pytest.raises(ValueError):
        db.update_parsed(con, [(ids["/a/0.png"], {"prompt = 'x', steps": 1}, ())])
    con.close()


def test_seeds_beyond_64_bits_are_kept_exactly(db_path):
    con = db.connect(db_path)
    big = 2**64 - 1
    db.write_batch(con, [(_record("/a/x.png", seed=big), ())])
    assert int(con.execute("SELECT seed FROM images").fetchone()[0]) == big
    con.close()


def test_paths_under_a_folder_do_not_include_siblings_with_the_same_prefix(db_path):
    con = db.connect(db_path)
    db.write_batch(con, [(_record("/img/a.png"), ()), (_record("/img/sub/b.png"), ()),
                         (_record("/img2/c.png"), ()), (_record("/img-x/d.png"), ())])
    assert sorted(db.file_states_under(con, "/img", True)) == ["/img/a.png", "/img/sub/b.png"]
    assert sorted(db.file_states_under(con, "/img/", False)) == ["/img/a.png"]
    con.close()


def test_a_file_that_is_not_a_database_is_refused_with_a_clear_message(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("hello, I am a text file" * 100)
    with pytest.raises(DatabaseError, match="not a usable SQLite database"):
        db.connect(bogus)


def test_a_foreign_sqlite_database_is_not_touched(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE metadata (filename TEXT PRIMARY KEY, data TEXT)")
    con.commit()
    con.close()
    with pytest.raises(DatabaseError, match="not ours"):
        db.connect(other)


def test_a_database_from_a_newer_version_is_refused(db_path):
    con = db.connect(db_path)
    con.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(DatabaseError, match="newer"):
        db.connect(db_path)


def test_read_only_open_of_a_missing_database_names_the_fix(tmp_path):
    with pytest.raises(DatabaseError, match="run DB_filler.py first"):
        db.connect(tmp_path / "nope.db", readonly=True)
