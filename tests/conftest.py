"""Shared fixtures: temporary databases and folders, real images, the scripts as subprocesses."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# A test run started in the background of a non-interactive shell inherits SIGINT ignored, and so
# would every script the tests start: Ctrl-C tests would then wait for an interrupt that never
# comes. The scripts get SIGINT as a user's terminal gives it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"
PEER_CORPUS = SHARED_DIR / "corpus" / "peer"
TEMPLATES_CORPUS = SHARED_DIR / "corpus" / "comfy-templates"


def corpus_skips(manifest: Path) -> list:
    """The marks of a test module over a shared corpus: skipped without it or without ExifTool."""
    return [pytest.mark.skipif(not manifest.is_file(), reason="../shared corpus absent"),
            pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")]


def fill_corpus(tmp_path_factory, root: Path):
    """(database, fill summary) of a fresh DB_filler run over a shared corpus folder."""
    from exifdata_analytics.filler import FillOptions, fill
    db_path = tmp_path_factory.mktemp(root.name) / f"{root.name}.db"
    return db_path, fill(FillOptions(root=str(root), recursive=True, db_path=db_path, workers=2))


@pytest.fixture(scope="module")
def conformance():
    """The shared conformance tool (``../shared/tools/conformance.py``) as a module."""
    sys.path.insert(0, str(SHARED_DIR / "tools"))
    try:
        import conformance as module
    finally:
        sys.path.remove(str(SHARED_DIR / "tools"))
    return module


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A config.ini like the original's (inline comments), logging into tmp."""
    path = tmp_path / "config.ini"
    path.write_text(
        "[Paths]\n"
        f"logging_dir = {tmp_path / 'logs'} # where logs go\n\n"
        "[Processing]\n"
        "batch_size = 10  # images per batch\n"
        "max_workers = 2  # ExifTool processes\n\n"
        "[Database]\n"
        f"db_name = {tmp_path / 'config_default.db'} # database file\n",
        encoding="utf-8",
    )
    return path


def run_script(script: str, *args: str, input: str | None = None, timeout: float = 120,
               cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one of the top-level scripts with this interpreter; answers can be piped in."""
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONIOENCODING", "utf-8")
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / script), *args],
        input=input if input is not None else "", capture_output=True, text=True, timeout=timeout,
        cwd=str(cwd or PROJECT_DIR), env=full_env,
    )


def rows(db: Path, sql: str = "SELECT * FROM images ORDER BY path", params=()) -> list[sqlite3.Row]:
    con = sqlite3.connect(str(db))
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def row_by_name(db: Path, file_name: str) -> sqlite3.Row:
    found = rows(db, "SELECT * FROM images WHERE file_name = ?", (file_name,))
    assert len(found) == 1, f"{file_name}: {len(found)} rows"
    return found[0]


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (tests/browser_support.py), one per test module."""
    from browser_support import chromium, unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with chromium() as driver:
        yield driver


def filled_sample_folder(root: Path, db_name: str = "statistics_image_metadata.db") -> Path:
    """The sample folder (exifdata_analytics.samples) under root/images, indexed by real ExifTool
    into root/db_name (the default database's name unless given); the database's path."""
    from exifdata_analytics.filler import FillOptions, fill
    from exifdata_analytics.samples import make_sample_folder

    make_sample_folder(root / "images")
    database = root / db_name
    fill(FillOptions(root=str(root / "images"), recursive=True, db_path=database))
    return database
