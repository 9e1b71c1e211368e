"""The column declaration (models.IMAGE_COLUMNS) against the schema the migrations really build."""
from __future__ import annotations

import dataclasses

from exifdata_analytics import db
from exifdata_analytics.models import IMAGE_COLUMNS, RECIPE_COLUMNS, GenerationParams, ImageRecord


def test_a_new_database_has_exactly_the_declared_columns_in_order(db_path):
    con = db.connect(db_path)
    try:
        live = [(r["name"], r["type"], bool(r["notnull"]) or bool(r["pk"]), bool(r["pk"]))
                for r in con.execute("PRAGMA table_info(images)")]
        unique = {con.execute(f"PRAGMA index_info({idx['name']!r})").fetchone()["name"]
                  for idx in con.execute("PRAGMA index_list(images)") if idx["unique"]}
    finally:
        con.close()
    declared = [(c.name, c.sql_type, c.not_null, "PRIMARY KEY" in c.sql) for c in IMAGE_COLUMNS]
    assert live == declared
    assert unique == {c.name for c in IMAGE_COLUMNS if "UNIQUE" in c.sql}


def test_the_record_types_are_derived_from_the_declaration():
    assert tuple(f.name for f in dataclasses.fields(ImageRecord)) == db.IMAGE_COLUMNS
    assert db.IMAGE_COLUMNS == tuple(c.name for c in IMAGE_COLUMNS[1:])
    params = tuple(f.name for f in dataclasses.fields(GenerationParams))
    assert params == (*RECIPE_COLUMNS, "params", "resources")
    # a parser gives the generator and whatever it found; everything else stays empty
    p = GenerationParams("A1111", steps=20)
    assert (p.generator, p.steps, p.prompt, p.params, p.resources) == ("A1111", 20, None, {}, ())


def test_a_written_record_reads_back_column_for_column(db_path):
    values = {name: None for name in db.IMAGE_COLUMNS}
    values.update(path="/x/a.png", file_name="a.png", folder="/x", parse_status="ok", indexed_at="2024-01-01",
                  generator="A1111", prompt="a cat", steps=20, seed=2**64 - 1, cfg_scale=7.5)
    con = db.connect(db_path)
    try:
        db.write_batch(con, [(ImageRecord(**values), ())])
        row = dict(con.execute(f"SELECT {', '.join(db.IMAGE_COLUMNS)} FROM images").fetchone())
    finally:
        con.close()
    assert row == {**values, "seed": str(2**64 - 1)}  # past int64: kept exactly, as text
