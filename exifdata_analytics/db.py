"""The SQLite database: schema and migrations, batched upserts, and the queries the filler needs.

One row per image file in ``images`` keyed by its absolute path (columns declared in ``models``), the
LoRAs/embeddings/checkpoints of each image in ``resources``, and an FTS5 index over the
prompts kept in step by triggers. WAL mode; every batch is one transaction, so an
interrupted run leaves only whole batches behind.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from .errors import DatabaseError
from .models import RECORD_COLUMNS, ImageRecord, Resource  # noqa: F401 - ImageRecord: db.ImageRecord
from .motion import STILL, motion_of
from .names.entities import file_stem
from .names.refresh import canonical_row, note_spellings, refresh as refresh_names
from .schema import BROWSE_VIEW_OMITS, MIGRATIONS, SCHEMA_VERSION  # noqa: F401 - BROWSE_VIEW_OMITS: db.BROWSE_VIEW_OMITS
from .stages import Stage, stage_rows, stages_from_json

logger = logging.getLogger(__name__)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# the row of images as written (every column but id), declared once in models
IMAGE_COLUMNS = RECORD_COLUMNS

# version -> what fills the new columns of existing rows, in the migration's transaction
def fill_stages(con: sqlite3.Connection) -> None:
    """The stages of existing rows, read off their stored params (no file is read again)."""
    rows = con.execute("SELECT id, params_json, sampler, scheduler, steps, cfg_scale, denoising_strength, seed, "
                       "model FROM images WHERE params_json LIKE '%\"samplers\"%' OR params_json LIKE '%\"Hires%' "
                       "OR params_json LIKE '%\"Refiner\"%'")
    _replace_stages(con, [(row["id"], stages_from_json(row["params_json"], dict(row))) for row in rows], clear=False)


def fill_motion(con: sqlite3.Connection) -> None:
    """Motion of the animations already indexed, read off their stored ExifTool JSON (earlier
    versions indexed no video, so only GIF, WebP and APNG rows can have any)."""
    rows = con.execute("SELECT id, raw_json FROM images WHERE format IN ('GIF', 'WEBP', 'APNG') "
                       "AND raw_json IS NOT NULL")
    updates = []
    for image_id, raw in rows:
        try:
            tags = json.loads(raw)
        except ValueError:
            continue
        motion = motion_of(tags if isinstance(tags, dict) else None)
        if motion != STILL:
            updates.append((motion.duration_s, motion.frame_rate, motion.frame_count, image_id))
    con.executemany("UPDATE images SET duration_s = ?, frame_rate = ?, frame_count = ? WHERE id = ?", updates)


FILL_AFTER_MIGRATION = {2: refresh_names, 4: fill_stages, 5: fill_motion}


BUSY_TIMEOUT_S = 30.0


def _configure(con: sqlite3.Connection, readonly: bool) -> None:
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    con.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        # before anything is changed: a file we refuse (another program's) stays byte-identical
        check_version(con)
        mode = _switch_to_wal(con)
        if str(mode).lower() != "wal":
            logger.warning("database journal mode is %s, not WAL", mode)
        # WAL + NORMAL: a crash may lose the last transactions, never corrupts the file
        con.execute("PRAGMA synchronous = NORMAL")


def _switch_to_wal(con: sqlite3.Connection, timeout: float = BUSY_TIMEOUT_S) -> str:
    """PRAGMA journal_mode = WAL, waiting for other connections like any write would. Leaving
    the rollback journal needs an exclusive lock, and while another connection holds a write
    lock SQLite answers "database is locked" at once instead of calling the busy handler (it
    would deadlock): so retry, backing off, for up to the busy timeout."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


@contextmanager
def transaction(con: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``: the write lock is taken at once, so a busy
    database waits here rather than failing halfway): committed when the block ends, rolled
    back when anything, Ctrl-C included, escapes it."""
    con.execute(f"BEGIN {mode}")
    try:
        yield con
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def connect(path: os.PathLike | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and create or migrate, unless read-only) the database at ``path``."""
    path = Path(path)
    if readonly and not path.exists():
        raise DatabaseError(f"database not found: {path}; run DB_filler.py first or pass --db PATH")
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for database {path}: {exc}") from None
    con = None
    try:
        if readonly:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                  check_same_thread=False)
        else:
            con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        con.row_factory = sqlite3.Row
        _configure(con, readonly)
        if not readonly:
            migrate(con)
        elif 0 < check_version(con) < SCHEMA_VERSION:
            con.close()
            return _upgraded_then_readonly(path)
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        if readonly and "unable to open" in str(exc) and _unwritable_folder_without_wal(path):
            return _connect_immutable(path)
        raise DatabaseError(explain_sqlite_error(path, exc)) from None
    return con


def _upgraded_then_readonly(path: Path) -> sqlite3.Connection:
    """A reader of a database written by an older version: the schema is brought up to date
    first (a short write, as DB_filler.py would do), since the readers expect its columns."""
    try:
        connect(path).close()
    except DatabaseError as exc:
        raise DatabaseError(f"{path} was written by an older version of ExifData Analytics and could not be "
                            f"upgraded ({exc}); run DB_filler.py once with write access to it") from None
    logger.info("database %s upgraded to schema %d before reading it", path, SCHEMA_VERSION)
    return connect(path, readonly=True)


def _unwritable_folder_without_wal(path: Path) -> bool:
    folder = path.resolve().parent
    return not os.access(folder, os.W_OK) and not Path(str(path) + "-wal").exists()


def _connect_immutable(path: Path) -> sqlite3.Connection:
    """Read a WAL database in a folder we cannot write (an archive, a read-only mount).
    SQLite needs to create <db>-shm to read WAL files; with no -wal file left behind and a
    folder nobody here can write, the file cannot change under us, so it is read as immutable."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None,
                              check_same_thread=False)
        con.row_factory = sqlite3.Row
        _configure(con, True)
        check_version(con)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(explain_sqlite_error(path, exc)) from None
    logger.info("database %s is in a read-only folder: opened as immutable", path)
    return con


def explain_sqlite_error(path: Path, exc: sqlite3.Error) -> str:
    """One line that names the problem with database ``path`` and what to do about it."""
    msg = str(exc)
    if "not a database" in msg or "malformed" in msg:
        return f"{path} is not a usable SQLite database ({msg}); pass another --db path or restore a backup"
    if "readonly" in msg or "read-only" in msg:
        return f"database {path} is read-only ({msg}); check the file's permissions or pass another --db"
    if "locked" in msg or "busy" in msg:
        return f"database {path} is locked by another program ({msg}); wait for it to finish and retry"
    if "unable to open" in msg:
        return (f"cannot open database {path} ({msg}); check that its folder exists and is writable "
                f"(SQLite creates {path.name}-wal and {path.name}-shm beside it) or pass another --db")
    if "disk" in msg and "full" in msg:
        return f"the disk holding {path} is full ({msg}); free some space and run again (finished batches are kept)"
    if "disk I/O error" in msg:
        return (f"cannot write database {path} ({msg}): the disk may be full, failing or removed, or a file size "
                "limit was reached; check it and run again (finished batches are kept)")
    return f"database error on {path}: {msg}"


def check_version(con: sqlite3.Connection) -> int:
    """The schema version of a database of ours (0: a new, empty file); DatabaseError for a
    newer schema or another program's database (only reads: nothing is changed)."""
    # one statement, so one snapshot: read apart, another process's first migration could commit
    # between the two reads (version 0, yet tables) and make our own new database look foreign
    version, names = con.execute("SELECT (SELECT user_version FROM pragma_user_version), "
                                 "(SELECT group_concat(name, char(0)) FROM sqlite_master WHERE type='table')").fetchone()
    if version > SCHEMA_VERSION:
        raise DatabaseError(f"the database was written by a newer ExifData Analytics (schema {version}, "
                            f"this version knows {SCHEMA_VERSION}); update the program")
    tables = set(names.split("\0")) if names else set()
    # another program may number its schema too: ours has both of these tables from version 1 on
    if (version == 0 and tables) or (version > 0 and not {"images", "resources"} <= tables):
        raise DatabaseError("the database holds tables but no ExifData Analytics schema "
                            f"({', '.join(sorted(tables)) or 'none'}); it is not ours: pass another --db path")
    return version


def migrate(con: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, one transaction per step."""
    version = check_version(con)
    while version < SCHEMA_VERSION:
        target = version + 1
        with transaction(con):
            # another process may have migrated while this one waited for the write lock
            version = check_version(con)
            if version >= target:
                continue
            # executescript would COMMIT our transaction first; run statements one by one
            for statement in _split_sql(MIGRATIONS[target]):
                con.execute(statement)
            if target in FILL_AFTER_MIGRATION:
                FILL_AFTER_MIGRATION[target](con)
            con.execute(f"PRAGMA user_version = {target}")
        logger.info("database schema migrated to version %d", target)
        version = target


def _split_sql(script: str) -> list[str]:
    statements, buf = [], []
    for line in script.splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            buf = []
    if "\n".join(buf).strip():
        statements.append("\n".join(buf).strip())
    return statements


# -- writes --------------------------------------------------------------------------------

_INSERT_IMAGES = f"INSERT INTO images ({', '.join(IMAGE_COLUMNS)}) VALUES "
_ROW_PLACEHOLDERS = f"({', '.join('?' for _ in IMAGE_COLUMNS)})"
_ON_PATH_CONFLICT = " ON CONFLICT(path) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in IMAGE_COLUMNS if c != "path")


@lru_cache(maxsize=8)
def _upsert_rows_sql(rows: int) -> str:
    """One INSERT … VALUES (…), (…) … ON CONFLICT(path) DO UPDATE statement for ``rows`` images."""
    return _INSERT_IMAGES + ", ".join([_ROW_PLACEHOLDERS] * rows) + _ON_PATH_CONFLICT


def _upsert_images(con: sqlite3.Connection, rows: list[tuple]) -> None:
    # Many rows per statement, not executemany: with the FTS insert trigger, one statement per
    # row cost 1.6x the instructions of the whole batch write (cachegrind, 5,000 corpus rows:
    # 2.7 G vs 1.7 G; bench/RESULTS.md).
    per_statement = max(1, min(len(rows), con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(IMAGE_COLUMNS)))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        con.execute(_upsert_rows_sql(len(chunk)), [value for row in chunk for value in row])


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _sqlite_int(value):
    """SQLite integers are signed 64-bit; ComfyUI seeds can exceed that. Keep such values
    exactly, as text, rather than failing the batch. Text with a lone surrogate (JSON metadata
    may escape half an emoji: "\\ud83d") cannot be UTF-8 encoded: it is stored with U+FFFD."""
    if isinstance(value, int) and not (_INT64_MIN <= value <= _INT64_MAX):
        return str(value)
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _LONE_SURROGATE.sub("\ufffd", value)
    return value


def _resource_row(image_id: int, r: Resource) -> tuple:
    canonical = r.canonical_name or file_stem(r.name)  # until refresh_canonical_names links it
    return (image_id, *(_sqlite_int(v) for v in (r.kind, r.name, r.hash, r.weight, r.source, canonical)))


_IMAGE_VALUES = attrgetter(*IMAGE_COLUMNS)


def _row(record: ImageRecord) -> tuple:
    # attrgetter, not dataclasses.astuple: astuple deep-copies every value (a third of the write cost)
    return tuple(map(_sqlite_int, _IMAGE_VALUES(record)))


def _with_canonical_names(record: ImageRecord) -> ImageRecord:
    """A record written without canonical values gets those of its own recipe; which names are
    one entity across rows is settled afterwards by refresh_canonical_names."""
    if record.canonical_sampler or record.canonical_scheduler or record.canonical_model or record.canonical_vae:
        return record
    if not (record.sampler or record.scheduler or record.model or record.vae):
        return record
    return replace(record, **canonical_row(record.sampler, record.scheduler, record.model, record.vae))


def write_batch(con: sqlite3.Connection, records: Sequence[tuple[ImageRecord, Sequence[Resource]]]) -> None:
    """Upsert a batch of images and replace their resources, in one transaction."""
    if not records:
        return
    named = [_with_canonical_names(rec) for rec, _ in records]
    with transaction(con):
        _upsert_images(con, [_row(rec) for rec in named])
        ids = image_ids(con, [rec.path for rec, _ in records])
        _replace_resources(con, [(ids[rec.path], res) for rec, res in records])
        _replace_stages(con, [(ids[rec.path], _stages_of_record(rec)) for rec, _ in records])
        note_spellings(con, [(rec, res) for rec, (_, res) in zip(named, records)])


def _replace_resources(con: sqlite3.Connection, per_image: Sequence[tuple[int, Sequence[Resource]]]) -> None:
    con.executemany("DELETE FROM resources WHERE image_id = ?", [(image_id,) for image_id, _ in per_image])
    con.executemany(
        "INSERT INTO resources (image_id, kind, name, hash, weight, source, canonical_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [_resource_row(image_id, r) for image_id, res in per_image for r in res],
    )


def _replace_stages(con: sqlite3.Connection, per_image: Sequence[tuple[int, Sequence[Stage]]],
                    clear: bool = True) -> None:
    if clear:
        con.executemany("DELETE FROM stages WHERE image_id = ?", [(image_id,) for image_id, _ in per_image])
    con.executemany("INSERT INTO stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [tuple(map(_sqlite_int, row)) for image_id, stages in per_image for row in stage_rows(image_id, stages)])


def _stages_of_record(record: ImageRecord) -> tuple[Stage, ...]:
    return stages_from_json(record.params_json, {"sampler": record.sampler, "scheduler": record.scheduler,
                                                 "steps": record.steps, "cfg_scale": record.cfg_scale,
                                                 "seed": record.seed, "model": record.model})


def _update_rows(con: sqlite3.Connection, names: Sequence[str], rows: list[tuple]) -> None:
    """Set columns ``names`` of many rows (id, values…) in one UPDATE statement, through a
    temporary table: as with inserts, a statement per row costs far more with the FTS trigger."""
    for name in names:
        if name not in IMAGE_COLUMNS:
            raise ValueError(f"not a column of images: {name}")
    con.execute("DROP TABLE IF EXISTS temp.parsed_update")
    con.execute(f"CREATE TEMP TABLE parsed_update (id INTEGER PRIMARY KEY, {', '.join(names)})")
    con.executemany(f"INSERT INTO temp.parsed_update VALUES ({', '.join('?' for _ in range(len(names) + 1))})", rows)
    con.execute(f"UPDATE images SET ({', '.join(names)}) = (SELECT {', '.join(names)} FROM temp.parsed_update u "
                f"WHERE u.id = images.id) WHERE id IN (SELECT id FROM temp.parsed_update)")
    con.execute("DROP TABLE temp.parsed_update")


def update_parsed(con: sqlite3.Connection, updates: Sequence[tuple[int, dict, Sequence[Resource]]]) -> None:
    """Rewrite the parsed columns of existing rows (``--reparse``), one transaction."""
    if not updates:
        return
    with transaction(con):
        by_columns: dict[tuple[str, ...], list] = {}
        for image_id, columns, _ in updates:
            by_columns.setdefault(tuple(columns), []).append((image_id, columns))
        for names, group in by_columns.items():
            _update_rows(con, names, [(image_id, *map(_sqlite_int, (cols[n] for n in names)))
                                      for image_id, cols in group])
        _replace_resources(con, [(image_id, res) for image_id, _, res in updates])
        _replace_stages(con, [(image_id, stages_from_json(cols.get("params_json"), cols))
                              for image_id, cols, _ in updates])


def relink(con: sqlite3.Connection, moves: Sequence[tuple[int, str, str, int, int]]) -> list[bool]:
    """Point rows at the new paths of moved files: (id, old path, new path, size, mtime_ns).
    Keeps the id, the parsed data and the resources. One transaction; a row whose path
    changed meanwhile is left alone (False)."""
    done = []
    with transaction(con):
        for image_id, old_path, new_path, size, mtime_ns in moves:
            cur = con.execute(
                "UPDATE images SET path = ?, file_name = ?, folder = ?, size_bytes = ?, mtime_ns = ? "
                "WHERE id = ? AND path = ?",
                (new_path, os.path.basename(new_path), os.path.dirname(new_path), size, mtime_ns, image_id, old_path))
            done.append(cur.rowcount == 1)
    return done


def refresh_canonical_names(con: sqlite3.Connection):
    """After a run that wrote rows: names linked again over the whole database (``names.refresh``),
    in one transaction of its own. Until then new rows carry their own names' stems."""
    with transaction(con):
        return refresh_names(con)


def delete_paths(con: sqlite3.Connection, paths: Iterable[str], chunk: int = 500) -> int:
    """Delete the rows of these paths (and, by cascade, their resources). One transaction."""
    paths = list(paths)
    deleted = 0
    with transaction(con):
        for i in range(0, len(paths), chunk):
            part = paths[i:i + chunk]
            cur = con.execute(f"DELETE FROM images WHERE path IN ({','.join('?' for _ in part)})", part)
            deleted += cur.rowcount
    return deleted


# -- reads ---------------------------------------------------------------------------------

def image_ids(con: sqlite3.Connection, paths: Sequence[str], chunk: int = 500) -> dict[str, int]:
    out = {}
    for i in range(0, len(paths), chunk):
        part = list(paths[i:i + chunk])
        for row in con.execute(f"SELECT id, path FROM images WHERE path IN ({','.join('?' for _ in part)})", part):
            out[row[1]] = row[0]
    return out


def under_clause(root: str) -> tuple[str, list]:
    """A WHERE clause selecting paths under folder ``root`` that can use the path index:
    every path below ``root`` sorts between ``root + sep`` and the next character after sep."""
    try:
        root.encode("utf-8")
    except UnicodeEncodeError:
        return "0", []  # every stored path is UTF-8: nothing lies under a folder whose name is not
    root = root.rstrip(os.sep) or os.sep
    prefix = root if root.endswith(os.sep) else root + os.sep
    upper = prefix[:-1] + chr(ord(os.sep) + 1)
    return "path >= ? AND path < ?", [prefix, upper]


def scope_clause(root: str, recursive: bool) -> tuple[str, list]:
    """A WHERE clause selecting the rows a scan of ``root`` covers (only its direct children
    when not recursive)."""
    where, args = under_clause(root)
    if not recursive and args:  # no args: a folder name that is not UTF-8, no rows
        where += " AND folder = ?"
        args.append(root.rstrip(os.sep) or os.sep)
    return where, args


def file_states_under(con: sqlite3.Connection, root: str, recursive: bool) -> dict[str, tuple[int, int]]:
    """path -> (size_bytes, mtime_ns) of the rows under ``root`` (only its direct children
    when not recursive)."""
    where, args = scope_clause(root, recursive)
    return {row[0]: (row[1], row[2])
            for row in con.execute(f"SELECT path, size_bytes, mtime_ns FROM images WHERE {where}", args)}


def iter_raw(con: sqlite3.Connection, root: Optional[str] = None, chunk: int = 1000) -> Iterator[list[sqlite3.Row]]:
    """Rows (id, path, mtime_ns, raw_json, extra_json) in chunks of ``chunk``, by id, optionally under a folder."""
    where, args = ("1", [])
    if root:
        where, args = under_clause(root)
    last_id = 0
    while True:
        rows = con.execute(
            f"SELECT id, path, mtime_ns, raw_json, extra_json FROM images WHERE id > ? AND {where} ORDER BY id LIMIT ?",
            [last_id, *args, chunk]).fetchall()
        if not rows:
            return
        yield rows
        last_id = rows[-1]["id"]


def count_images(con: sqlite3.Connection) -> int:
    return con.execute("SELECT COUNT(*) FROM images").fetchone()[0]


def resources_of(con: sqlite3.Connection, path: str) -> list[Resource]:
    return [Resource(r["kind"], r["name"], r["hash"], r["weight"], r["source"] or "", r["canonical_name"])
            for r in con.execute("SELECT r.* FROM resources r JOIN images i ON i.id = r.image_id "
                                 "WHERE i.path = ? ORDER BY r.id", (path,))]
