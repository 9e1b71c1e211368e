"""Database maintenance: the seed's functions (statistics, optimize, sample, integrity, backup,
size, last modified, clear, search, models per folder) plus prune and duplicates.

Every function takes the database path first and returns a frozen dataclass; nothing here
prints, prompts or exits (``cli/db_actions.py`` does). A database that does not exist is never
created by these functions: they raise ``DatabaseError`` naming the path instead.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from . import db
from .errors import DatabaseError, InputError
from .safe_files import (TEMP_SUFFIX, lock_exclusively, new_temporary, publish_new, remove_quietly,
                         remove_stale_temporaries)
from .search import HIT_COLUMNS, SearchHit, SearchResult, search
from .scan import empty_root_message, empty_roots, is_within, normalize_path

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]
Progress = Callable[[int, int], None]


# -- opening -------------------------------------------------------------------------------

def open_database(db_path: PathLike, readonly: bool = True) -> sqlite3.Connection:
    """Open an existing database of ours (never create one here)."""
    path = Path(db_path)
    if not path.exists():
        raise DatabaseError(f"database not found: {path}; run DB_filler.py first or pass --db PATH")
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file; pass --db PATH/TO/FILE.db")
    try:
        return db.connect(path, readonly=readonly)
    except DatabaseError as exc:
        if "file_metadata" in str(exc):
            raise DatabaseError(f"{path} was written by the original ExifData Analytics (table file_metadata); "
                                f"bring its images into a new database with: parameter_statistic_DB.py "
                                f"import-legacy {path} --db NEW.db") from None
        raise


def _close(con: sqlite3.Connection) -> None:
    try:
        con.close()
    except sqlite3.Error:  # pragma: no cover - closing never matters more than the result
        logger.debug("closing the database failed", exc_info=True)


def _pairs(rows) -> tuple[tuple[str, int], ...]:
    return tuple((str(r[0]), int(r[1])) for r in rows)


# -- stats ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DatabaseStats:
    db_path: str
    images: int
    with_generation_data: int
    without_generation_data: int
    unparsed: int
    errors: int
    by_generator: tuple[tuple[str, int], ...]
    by_format: tuple[tuple[str, int], ...]
    distinct_models: int
    distinct_samplers: int
    distinct_loras: int
    folders: int
    first_created: Optional[str]
    last_created: Optional[str]
    last_indexed: Optional[str]
    top_models: tuple[tuple[str, int], ...]
    top_samplers: tuple[tuple[str, int], ...]
    total_file_bytes: int

    @property
    def total_records(self) -> int:
        """The seed's name for the number of rows."""
        return self.images


def database_stats(db_path: PathLike, top: int = 5) -> DatabaseStats:
    con = open_database(db_path)
    try:
        con.execute("BEGIN")  # one snapshot for every count, also while DB_filler.py commits
        status = dict(con.execute("SELECT parse_status, COUNT(*) FROM images GROUP BY parse_status").fetchall())
        one = con.execute(
            # one name per thing: canonical models and samplers, not their spellings
            "SELECT COUNT(*), COUNT(DISTINCT canonical_model), COUNT(DISTINCT canonical_sampler), COUNT(DISTINCT folder), "
            "MIN(created_at), MAX(created_at), MAX(indexed_at), IFNULL(SUM(size_bytes), 0) FROM images").fetchone()
        return DatabaseStats(
            db_path=str(db_path),
            images=one[0],
            with_generation_data=status.get("ok", 0),
            without_generation_data=status.get("no_metadata", 0),
            unparsed=status.get("unparsed", 0),
            errors=status.get("error", 0),
            by_generator=_pairs(con.execute(
                "SELECT generator, COUNT(*) FROM images WHERE generator IS NOT NULL "
                "GROUP BY generator ORDER BY 2 DESC, 1")),
            by_format=_pairs(con.execute(
                "SELECT IFNULL(format, '?'), COUNT(*) FROM images GROUP BY 1 ORDER BY 2 DESC, 1")),
            distinct_models=one[1], distinct_samplers=one[2],
            distinct_loras=con.execute("SELECT COUNT(DISTINCT COALESCE(canonical_name, lower(name))) FROM resources "
                                       "WHERE kind IN ('lora', 'lycoris')").fetchone()[0],
            folders=one[3], first_created=one[4], last_created=one[5], last_indexed=one[6],
            top_models=_pairs(con.execute(
                "SELECT canonical_model, COUNT(*) FROM images WHERE canonical_model IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?", (top,))),
            top_samplers=_pairs(con.execute(
                "SELECT canonical_sampler, COUNT(*) FROM images WHERE canonical_sampler IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?", (top,))),
            total_file_bytes=one[7],
        )
    finally:
        _close(con)


# -- size, last modified -------------------------------------------------------------------

@dataclass(frozen=True)
class DatabaseSize:
    db_path: str
    file_bytes: int
    wal_bytes: int
    shm_bytes: int
    page_size: int
    page_count: int
    free_pages: int
    tables: tuple[tuple[str, int], ...]  # (table or index, bytes), largest first; empty without dbstat

    @property
    def total_bytes(self) -> int:
        return self.file_bytes + self.wal_bytes + self.shm_bytes

    @property
    def reclaimable_bytes(self) -> int:
        return self.free_pages * self.page_size

    def __int__(self) -> int:  # the seed returned the size in bytes
        return self.file_bytes


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def database_size(db_path: PathLike) -> DatabaseSize:
    path = Path(db_path)
    con = open_database(path)
    try:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        page_count = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        try:
            rows = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.Error:  # SQLite built without the dbstat table
            rows = []
    finally:
        _close(con)
    grouped: dict[str, int] = {}
    for name, size in rows:
        # the FTS5 shadow tables (images_fts_data, _idx, …) are one thing to the user: the index
        key = "images_fts (search index)" if str(name).startswith("images_fts") else str(name)
        grouped[key] = grouped.get(key, 0) + int(size or 0)
    tables = tuple(sorted(grouped.items(), key=lambda kv: (-kv[1], kv[0])))
    return DatabaseSize(str(path), _file_size(path), _file_size(Path(str(path) + "-wal")),
                        _file_size(Path(str(path) + "-shm")), page_size, page_count, free, tables)


@dataclass(frozen=True)
class LastModified:
    db_path: str
    modified: datetime  # the database file or its WAL, whichever changed last
    last_indexed: Optional[str]  # newest indexed_at: when DB_filler last stored a row
    newest_image: Optional[str]  # newest created_at

    @property
    def timestamp(self) -> float:
        return self.modified.timestamp()

    def __float__(self) -> float:  # the seed returned a timestamp
        return self.timestamp


def last_modified(db_path: PathLike) -> LastModified:
    path = Path(db_path)
    con = open_database(path)
    try:
        last_indexed, newest = con.execute("SELECT MAX(indexed_at), MAX(created_at) FROM images").fetchone()
    finally:
        _close(con)
    # a WAL database changes in its -wal file until a checkpoint copies the pages back
    mtimes = [path.stat().st_mtime]
    wal = Path(str(path) + "-wal")
    if wal.exists() and _file_size(wal) > 0:
        mtimes.append(wal.stat().st_mtime)
    return LastModified(str(path), datetime.fromtimestamp(max(mtimes)).astimezone(), last_indexed, newest)


# -- optimize, clear -----------------------------------------------------------------------

@dataclass(frozen=True)
class OptimizeResult:
    db_path: str
    bytes_before: int
    bytes_after: int
    elapsed: float


def _on_disk(path: Path) -> int:
    return _file_size(path) + _file_size(Path(str(path) + "-wal"))


def optimize_database(db_path: PathLike) -> OptimizeResult:
    """Merge the FTS index segments, refresh the planner statistics, rebuild the file without
    free pages, and fold the WAL back into it."""
    path = Path(db_path)
    started = time.monotonic()
    before = _on_disk(path)
    con = open_database(path, readonly=False)
    try:
        con.execute("INSERT INTO images_fts(images_fts) VALUES ('optimize')")
        con.execute("ANALYZE")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"optimizing {path} failed: {exc}; if DB_filler.py is running, "
                            "try again when it has finished") from None
    finally:
        _close(con)
    result = OptimizeResult(str(path), before, _on_disk(path), time.monotonic() - started)
    logger.info("optimized %s: %d -> %d bytes in %.1f s", path, before, result.bytes_after, result.elapsed)
    return result


@dataclass(frozen=True)
class ClearResult:
    db_path: str
    images: int
    resources: int


def clear_database(db_path: PathLike) -> ClearResult:
    """Delete every image row (and its resources and index entries), in one transaction."""
    con = open_database(db_path, readonly=False)
    try:
        with db.transaction(con):
            images = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
            resources = con.execute("SELECT COUNT(*) FROM resources").fetchone()[0]
            con.execute("DELETE FROM resources")
            con.execute("DELETE FROM images")
    finally:
        _close(con)
    logger.info("cleared %s: %d images, %d resources", db_path, images, resources)
    return ClearResult(str(db_path), images, resources)


# -- sample, search, models ----------------------------------------------------------------

def metadata_sample(db_path: PathLike, n: int = 5, with_generation_data: bool = False) -> tuple[SearchHit, ...]:
    """``n`` rows picked at random (only rows with generation data when asked)."""
    if n < 0:
        raise InputError("the sample size must be 0 or more")
    con = open_database(db_path)
    try:
        where = "WHERE parse_status = 'ok'" if with_generation_data else ""
        rows = con.execute(f"SELECT {', '.join(HIT_COLUMNS)} FROM images {where} ORDER BY random() LIMIT ?",
                           (n,)).fetchall()
    finally:
        _close(con)
    return tuple(SearchHit(*r) for r in rows)


def search_metadata(db_path: PathLike, query: str, limit: Optional[int] = 50, sort: str = "path",
                    scope: str = "prompt") -> SearchResult:
    """Images matching ``query`` (the language of ``search.py``); read-only."""
    con = open_database(db_path)
    try:
        con.execute("BEGIN")  # the total and the hits from one snapshot
        return search(con, query, limit=limit, sort=sort, scope=scope)
    finally:
        _close(con)


@dataclass(frozen=True)
class ModelUsage:
    model: str
    count: int
    paths: tuple[str, ...]


def list_models_in_directory(db_path: PathLike, directory: PathLike, recursive: bool = True
                             ) -> tuple[ModelUsage, ...]:
    """The models of the indexed images under ``directory``, most used first."""
    root = normalize_path(str(directory))
    con = open_database(db_path)
    try:
        where, args = db.under_clause(root)
        if not recursive and args:  # no args: a folder name that is not UTF-8, no rows
            where += " AND folder = ?"
            args.append(root.rstrip(os.sep) or os.sep)
        rows = con.execute(f"SELECT model, path FROM images WHERE {where} AND model IS NOT NULL "
                           f"AND model != '' ORDER BY path", args).fetchall()
    finally:
        _close(con)
    by_model: dict[str, list[str]] = {}
    for model, path in rows:
        by_model.setdefault(model, []).append(path)
    return tuple(sorted((ModelUsage(m, len(p), tuple(p)) for m, p in by_model.items()),
                        key=lambda u: (-u.count, u.model)))


# -- integrity, prune, duplicates ----------------------------------------------------------

@dataclass(frozen=True)
class IntegrityReport:
    db_path: str
    integrity: tuple[str, ...]  # ('ok',) when SQLite finds nothing wrong
    foreign_key_violations: int
    fts_ok: Optional[bool]  # None: not checked (read-only file)
    fts_message: Optional[str]
    rows: int
    missing_files: int
    missing_examples: tuple[str, ...]
    changed_files: int  # size or mtime differ from the row: DB_filler would re-read them
    changed_examples: tuple[str, ...]
    files_checked: bool
    quick: bool

    @property
    def database_ok(self) -> bool:
        return self.integrity == ("ok",) and self.foreign_key_violations == 0 and self.fts_ok is not False

    @property
    def ok(self) -> bool:
        return self.database_ok and self.missing_files == 0

    def __bool__(self) -> bool:  # the seed returned True/False
        return self.database_ok


def _fts_check(con: sqlite3.Connection) -> tuple[Optional[bool], Optional[str]]:
    try:
        # compares the index with the images table; changes nothing
        con.execute("INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)")
        return True, None
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc) or "read-only" in str(exc):
            return None, "not checked: the database file is read-only"
        return False, str(exc)
    except sqlite3.DatabaseError as exc:
        return False, str(exc)


def _file_states(con: sqlite3.Connection, progress: Optional[Progress] = None):
    """(path, state) for every row: 'ok', 'missing' or 'changed'."""
    total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    done = 0
    for path, size, mtime_ns in con.execute("SELECT path, size_bytes, mtime_ns FROM images ORDER BY path"):
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            state = "missing"
        except OSError:
            state = "ok"  # unreadable is not gone: never prune what we cannot see
        else:
            state = "changed" if (size is not None and st.st_size != size) or (
                mtime_ns is not None and st.st_mtime_ns != mtime_ns) else "ok"
        done += 1
        if progress and (done % 1000 == 0 or done == total):
            progress(done, total)
        yield path, state


def check_database_integrity(db_path: PathLike, check_files: bool = True, quick: bool = False,
                             examples: int = 10, progress: Optional[Progress] = None) -> IntegrityReport:
    """SQLite's integrity and foreign-key checks, the FTS index against its table, and whether
    every row's file still exists (and is unchanged)."""
    path = Path(db_path)
    # a WAL database is writable only in a writable folder (<db>-wal, <db>-shm)
    writable = os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
    con = open_database(path, readonly=not writable)
    try:
        try:
            integrity = tuple(str(r[0]) for r in con.execute(
                "PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall())
            fk = len(con.execute("PRAGMA foreign_key_check").fetchall())
        except sqlite3.DatabaseError as exc:
            integrity, fk = (f"the database is damaged: {exc}",), 0
        fts_ok, fts_message = _fts_check(con) if writable else (None, "not checked: the file is read-only")
        rows = con.execute("SELECT COUNT(*) FROM images").fetchone()[0] if integrity == ("ok",) else 0
        missing, changed = [], []
        n_missing = n_changed = 0
        if check_files and integrity == ("ok",):
            for p, state in _file_states(con, progress):
                if state == "missing":
                    n_missing += 1
                    if len(missing) < examples:
                        missing.append(p)
                elif state == "changed":
                    n_changed += 1
                    if len(changed) < examples:
                        changed.append(p)
    finally:
        _close(con)
    report = IntegrityReport(str(path), integrity, fk, fts_ok, fts_message, rows, n_missing, tuple(missing),
                             n_changed, tuple(changed), check_files, quick)
    logger.info("integrity of %s: %s", path, report)
    return report


@dataclass(frozen=True)
class PruneResult:
    db_path: str
    checked: int
    missing: tuple[str, ...]
    folders_gone: tuple[str, ...]  # folders of missing files that are gone entirely (unmounted drive?)
    removed: int
    dry_run: bool
    # folders (the nearest that exist above missing files) holding no image file at all while
    # the database has rows there: an empty mount point looks so; pruned only when forced
    empty_roots: tuple[str, ...] = ()


def prune_database(db_path: PathLike, dry_run: bool = False, under: Optional[PathLike] = None,
                   progress: Optional[Progress] = None, force: bool = False) -> PruneResult:
    """Remove the rows whose file no longer exists (optionally only under one folder). Refused
    (InputError) when the folder they were under holds no image file at all, unless ``force``:
    an unmounted drive must not cost its rows."""
    path = Path(db_path)
    con = open_database(path, readonly=dry_run)
    try:
        states = list(_file_states(con, progress))
        missing = [p for p, s in states if s == "missing"]
        root = None
        if under is not None:
            root = normalize_path(str(under))
            missing = [p for p in missing if is_within(p, root) and p != root]
        folders = sorted({os.path.dirname(p) for p in missing})
        gone = tuple(f for f in folders if not os.path.isdir(f))
        empty = empty_roots(missing, root)
        if empty and not dry_run and not force:
            raise InputError(empty_root_message(empty, missing, "pass --force"))
        removed = 0 if dry_run or not missing else db.delete_paths(con, missing)
    finally:
        _close(con)
    logger.info("prune %s: %d missing, %d removed (dry run: %s)", path, len(missing), removed, dry_run)
    return PruneResult(str(path), len(states), tuple(missing), gone, removed, dry_run, empty)


def remove_missing(db_path: PathLike, paths: Sequence[str]) -> int:
    """Delete the rows of these paths whose file is (still) gone; a file that came back in
    the meantime keeps its row."""
    gone = [p for p in paths if not os.path.lexists(p)]
    if not gone:
        return 0
    con = open_database(db_path, readonly=False)
    try:
        removed = db.delete_paths(con, gone)
    finally:
        _close(con)
    logger.info("removed %d rows of missing files from %s", removed, db_path)
    return removed


@dataclass(frozen=True)
class DuplicateGroup:
    sha256: str
    size_bytes: Optional[int]
    paths: tuple[str, ...]


@dataclass(frozen=True)
class DuplicatesReport:
    db_path: str
    groups: tuple[DuplicateGroup, ...]

    @property
    def extra_copies(self) -> int:
        return sum(len(g.paths) - 1 for g in self.groups)

    @property
    def wasted_bytes(self) -> int:
        return sum((g.size_bytes or 0) * (len(g.paths) - 1) for g in self.groups)


def find_duplicates(db_path: PathLike) -> DuplicatesReport:
    """Files with the same content (sha256) at several paths, biggest waste first."""
    con = open_database(db_path)
    try:
        rows = con.execute(
            "SELECT i.sha256, i.size_bytes, i.path FROM images i JOIN ("
            " SELECT sha256 FROM images WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING COUNT(*) > 1"
            ") d ON d.sha256 = i.sha256 ORDER BY i.sha256, i.path").fetchall()
    finally:
        _close(con)
    groups: dict[str, list] = {}
    sizes: dict[str, Optional[int]] = {}
    for sha, size, p in rows:
        groups.setdefault(sha, []).append(p)
        sizes[sha] = size if sizes.get(sha) is None else sizes[sha]
    result = [DuplicateGroup(sha, sizes[sha], tuple(paths)) for sha, paths in groups.items()]
    result.sort(key=lambda g: (-(g.size_bytes or 0) * (len(g.paths) - 1), g.paths[0]))
    return DuplicatesReport(str(db_path), tuple(result))


# -- backup --------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupResult:
    db_path: str
    backup_path: str
    size_bytes: int
    images: int
    integrity: str
    elapsed: float


def _backup_name(db_path: Path, backup_dir: Path, now: datetime, n: int = 1) -> Path:
    stem = f"{db_path.stem}_backup_{now.strftime('%Y%m%d_%H%M%S')}"
    candidate = backup_dir / (f"{stem}.db" if n == 1 else f"{stem}_{n}.db")
    while os.path.lexists(candidate):
        n += 1
        candidate = backup_dir / f"{stem}_{n}.db"
    return candidate


# A backup's temporary untouched for this long belongs to a killed run: the copy itself writes
# it continuously, and the check after it takes minutes even for a large database.
STALE_PARTIAL_SECONDS = 3600


def remove_stale_partials(db_path: Path, backup_dir: Path, older_than: float = STALE_PARTIAL_SECONDS) -> list[str]:
    """Remove what killed backups of this database left in ``backup_dir``: our temporaries
    (``.<name>_backup_<time>.db.<random>.partial``; ``<name>_backup_<time>.db.partial`` from
    earlier versions) untouched for ``older_than`` seconds and not locked by a running backup."""
    prefix = f"{db_path.stem}_backup_"
    removed = remove_stale_temporaries(
        backup_dir, lambda target: target.startswith(prefix), older_than,
        also=lambda name: name.startswith(prefix) and name.endswith(".db" + TEMP_SUFFIX),
        companions=("-journal", "-wal", "-shm"))
    if removed:
        logger.info("removed %d unfinished backups of killed runs from %s: %s", len(removed), backup_dir,
                    ", ".join(removed))
    return removed


def backup_database(db_path: PathLike, backup_dir: PathLike, now: Optional[datetime] = None) -> BackupResult:
    """Copy the database with SQLite's online backup API into ``backup_dir`` as
    ``<name>_backup_YYYYmmdd_HHMMSS.db`` and verify the copy before giving it its name.

    The copy is taken in one step, inside one read transaction: in WAL mode that is a
    consistent snapshot even while DB_filler.py keeps writing, and it does not block it. It is
    written to a safe temporary (random name, created exclusively, locked while in use), and
    temporaries that killed backups left behind are removed first (remove_stale_partials)."""
    started = time.monotonic()
    path = Path(db_path)
    out_dir = Path(backup_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the backup folder {out_dir}: {exc}") from None
    remove_stale_partials(path, out_dir)
    stamp = now or datetime.now()
    target = _backup_name(path, out_dir, stamp)
    src = open_database(path)
    try:
        fd, partial = new_temporary(target)
    except OSError as exc:
        _close(src)
        raise InputError(f"cannot write a backup into {out_dir}: {exc}") from None
    try:
        lock_exclusively(fd)  # held until the end: tells remove_stale_partials it is in use
        integrity, fk, fts_ok, fts_message, images = _copy_and_verify(src, partial)
        problems = []
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        if fk:
            problems.append(f"{fk} foreign-key violations")
        if fts_ok is False:
            problems.append(f"search index: {fts_message}")
        if problems:
            raise DatabaseError(f"the backup of {path} did not verify ({'; '.join(problems)}); "
                                "check the source with the integrity command")
        os.fsync(fd)
        while True:
            try:
                publish_new(partial, target, durable=True)
                break
            except FileExistsError:  # another backup took the name meanwhile
                target = _backup_name(path, out_dir, stamp, 2)
    except sqlite3.Error as exc:
        raise DatabaseError(f"backup of {path} failed: {exc}") from None
    finally:
        os.close(fd)
        if os.path.lexists(partial):
            remove_quietly(partial)
        _close(src)
    result = BackupResult(str(path), str(target), _file_size(target), images, integrity, time.monotonic() - started)
    logger.info("backup of %s written to %s (%d images, %d bytes)", path, target, images, result.size_bytes)
    return result


def _copy_and_verify(src: sqlite3.Connection, partial: Path) -> tuple[str, int, Optional[bool], Optional[str], int]:
    try:
        dst = sqlite3.connect(str(partial))
    except sqlite3.Error as exc:
        raise InputError(f"cannot write a backup into {partial.parent}: {exc}") from None
    try:
        src.backup(dst)  # pages=-1: everything in one step, one snapshot
        # a backup is one self-contained file: no -wal beside it
        dst.execute("PRAGMA journal_mode = DELETE")
        integrity = "; ".join(str(r[0]) for r in dst.execute("PRAGMA integrity_check").fetchall())
        fk = len(dst.execute("PRAGMA foreign_key_check").fetchall())
        fts_ok, fts_message = _fts_check(dst)
        images = dst.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    finally:
        dst.close()
    return integrity, fk, fts_ok, fts_message, images


__all__ = [
    "DatabaseStats", "DatabaseSize", "LastModified", "OptimizeResult", "ClearResult", "ModelUsage",
    "IntegrityReport", "PruneResult", "DuplicateGroup", "DuplicatesReport", "BackupResult",
    "open_database", "database_stats", "database_size", "last_modified", "optimize_database",
    "clear_database", "metadata_sample", "search_metadata", "list_models_in_directory",
    "check_database_integrity", "prune_database", "remove_missing", "find_duplicates", "backup_database",
    "remove_stale_partials",
]
