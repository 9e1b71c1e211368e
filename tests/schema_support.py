"""Databases as earlier versions wrote them, made from one of today's: for migration tests."""
from __future__ import annotations

import sqlite3

from exifdata_analytics import db, schema

_V5_INDEXES = ("images_steps", "images_cfg_scale", "images_size", "images_seed", "resources_kind_canonical")
_V5_COLUMNS = ("duration_s", "frame_rate", "frame_count")


def as_schema_4(con: sqlite3.Connection) -> None:
    """Undo schema 5 (motion columns, numeric indexes; the view as schema 3 made it); commits."""
    for name in _V5_INDEXES:
        con.execute(f"DROP INDEX {name}")
    con.execute("DROP VIEW images_browse")
    for column in _V5_COLUMNS:
        con.execute(f"ALTER TABLE images DROP COLUMN {column}")
    v3 = schema._SCHEMA_V3
    con.execute(v3[v3.index("CREATE VIEW images_browse"):].strip().rstrip(";"))
    con.execute("PRAGMA user_version = 4")
    con.commit()
