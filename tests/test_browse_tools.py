"""The database opened by the tools people browse and query it with, for real: sqlite-utils (its
CLI) and Datasette (in-process, its own ASGI client) find the prompt index, including in a
database of schema 2 once it is migrated; the shipped Datasette metadata gives facets, the
searchable images_browse view without the raw ExifTool JSON, and canned queries that run; DuckDB
reads the Parquet export as the README shows."""
from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from exifdata_analytics import db, schema
from exifdata_analytics.datasette_metadata import metadata_for, shipped_metadata
from exifdata_analytics.export import export_file
from tests.conftest import filled_sample_folder, run_script
from tests.schema_support import as_schema_4

datasette_app = pytest.importorskip("datasette.app", reason="datasette is in requirements-dev.txt")
pytest.importorskip("sqlite_utils", reason="sqlite-utils is in requirements-dev.txt")
SQLITE_UTILS = [sys.executable, "-m", "sqlite_utils"]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    return filled_sample_folder(tmp_path_factory.mktemp("browse"))


def _schema_2_copy(source: Path, target: Path) -> Path:
    """``source`` as schema 2 wrote it: the prompt index declared content='images', no view."""
    shutil.copy(source, target)
    con = sqlite3.connect(target)
    as_schema_4(con)
    v1 = schema._SCHEMA_V1
    fts_v1 = v1[v1.index("CREATE VIRTUAL TABLE images_fts"):]
    con.executescript("DROP TABLE stages; DROP VIEW images_browse; DROP TRIGGER images_fts_insert; "
                      "DROP TRIGGER images_fts_delete; "
                      "DROP TRIGGER images_fts_update; DROP TABLE images_fts;" + fts_v1 +
                      "INSERT INTO images_fts(images_fts) VALUES ('rebuild'); PRAGMA user_version = 2;")
    con.close()
    return target


def _search(database: Path, word: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SQLITE_UTILS, "search", str(database), "images", word, "-c", "path"],
                          capture_output=True, text=True, timeout=60)


def _our_search(database: Path, word: str) -> set[str]:
    con = sqlite3.connect(database)
    try:
        return {r[0] for r in con.execute("SELECT i.path FROM images_fts JOIN images i ON i.id = images_fts.rowid "
                                          "WHERE images_fts MATCH ?", (word,))}
    finally:
        con.close()


def test_sqlite_utils_searches_a_migrated_schema_2_database(filled, tmp_path):
    old = _schema_2_copy(filled, tmp_path / "old.db")
    before = _search(old, "knight")
    assert before.returncode != 0 and "not configured for full-text search" in before.stderr  # the reported bug
    db.connect(old).close()  # any writer migrates it
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    after = _search(old, "knight")
    assert after.returncode == 0, after.stderr
    found = {r["path"] for r in json.loads(after.stdout)}
    assert found and found == _our_search(old, "knight")
    # the rebuilt index is whole: the FTS5 integrity check compares it with the table
    sqlite3.connect(old).execute("INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)")


def test_the_browse_view_has_every_column_but_the_raw_json(filled):
    con = sqlite3.connect(filled)
    table = [r[1] for r in con.execute("PRAGMA table_info(images)")]
    view = [r[1] for r in con.execute("PRAGMA table_info(images_browse)")]
    assert view == [c for c in table if c not in db.BROWSE_VIEW_OMITS]
    assert con.execute("SELECT COUNT(*) FROM images_browse").fetchone() == con.execute(
        "SELECT COUNT(*) FROM images").fetchone()


def _get(database: Path, *paths: str, metadata=None) -> list:
    async def fetch():
        ds = datasette_app.Datasette([str(database)], metadata=metadata)
        return [await ds.client.get(p) for p in paths]
    return asyncio.run(fetch())


def test_datasette_searches_the_table_and_shows_a_search_box(filled):
    name = filled.stem
    html, hits, everything = _get(filled, f"/{name}/images", f"/{name}/images.json?_search=knight&_shape=objects",
                                  f"/{name}/images.json?_shape=objects&_size=max")
    assert html.status_code == 200 and 'name="_search"' in html.text
    assert hits.status_code == 200
    found = {r["path"] for r in hits.json()["rows"]}
    assert found == _our_search(filled, "knight") and 0 < len(found) < len(everything.json()["rows"])


def test_the_shipped_metadata_gives_facets_a_searchable_light_view_and_canned_queries(filled):
    name = filled.stem
    meta = metadata_for(filled)
    queries = list(meta["databases"][name]["queries"])
    pages = _get(filled, f"/{name}/images_browse.json?_search=knight&_shape=objects",
                 f"/{name}/images_browse", f"/{name}/images.json?_extra=facet_results",
                 *[f"/{name}/{q}.json?q=knight&_shape=objects" for q in queries], metadata=meta)
    search, browse_html, facets, *canned = pages
    assert {r["path"] for r in search.json()["rows"]} == _our_search(filled, "knight")
    assert "raw_json" not in search.json()["rows"][0]
    assert browse_html.status_code == 200 and 'name="_search"' in browse_html.text and "raw_json" not in browse_html.text
    got = facets.json()["facet_results"]
    got = got.get("results", got)  # Datasette 1.0 nests them
    assert set(got) == {"generator", "canonical_model", "canonical_sampler", "canonical_scheduler"}
    assert {v["value"] for v in got["generator"]["results"]} >= {"A1111", "ComfyUI"}
    for q, page in zip(queries, canned):
        assert page.status_code == 200, (q, page.text[:300])
        assert page.json()["rows"], q


def test_the_metadata_command_names_the_database_and_keeps_the_shipped_settings(filled, tmp_path):
    out = run_script("parameter_statistic_DB.py", "datasette-metadata", "--db", str(tmp_path / "my images.db"))
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    shipped = shipped_metadata()
    assert list(written["databases"]) == ["my images"]
    assert written["databases"]["my images"] == next(iter(shipped["databases"].values()))
    assert list(shipped["databases"]) == [filled.stem]  # the shipped file fits the default database as it is


def test_browse_pages_are_smaller_without_the_raw_json(filled):
    name = filled.stem
    table, view = _get(filled, f"/{name}/images?_size=100", f"/{name}/images_browse?_size=100",
                       metadata=metadata_for(filled))
    assert len(view.content) < len(table.content)


def test_duckdb_reads_the_parquet_export_with_exact_seeds(filled, tmp_path):
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in requirements-dev.txt")
    out = tmp_path / "images.parquet"
    con = db.connect(filled, readonly=True)
    try:
        export_file(con, out)
        expected = {r[0]: r[1] for r in con.execute("SELECT path, seed FROM images WHERE seed IS NOT NULL")}
    finally:
        con.close()
    rows = duckdb.sql(f"SELECT path, seed FROM '{out}' WHERE seed IS NOT NULL").fetchall()
    assert {p: int(s) for p, s in rows} == {p: int(s) for p, s in expected.items()}
    top = duckdb.sql(f"SELECT generator, count(*) AS n FROM '{out}' GROUP BY generator ORDER BY n DESC").fetchall()
    assert sum(n for _, n in top) == duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall()[0][0] > len(expected)
