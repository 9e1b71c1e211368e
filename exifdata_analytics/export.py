"""Exports of the images a search selects: CSV, JSON or JSONL (chosen by the file's extension),
and JSON sidecar files beside the images.

CSV is written for spreadsheets: UTF-8 with a byte-order mark (so Excel reads the prompts
right), and text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, …)
are prefixed with ``'`` (OWASP's advice for CSV injection). Every file is written under a
safe temporary name and renamed when complete (``safe_files.atomic_write``), so a failed or
interrupted export leaves no half-written file behind and a planted symlink is never
written through. An export never replaces the database it reads (nor its -wal/-shm), and a
sidecar never lands outside its target: beside its own image, or inside ``--out``.
"""
from __future__ import annotations

import csv
import json
import logging
import ntpath
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from . import db
from .errors import InputError
from .safe_files import atomic_write, remove_quietly
from .scan import is_foreign_windows_path, is_within
from .search import CompiledQuery, compile_query, count, iter_rows

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# every images column except the bulky raw ExifTool data, in table order
BASE_COLUMNS = ("id",) + tuple(c for c in db.IMAGE_COLUMNS if c not in ("raw_json", "extra_json", "params_json"))
_SELECT = BASE_COLUMNS + ("params_json",)
_SIDECAR_DROP = ("id", "folder", "mtime_ns", "indexed_at", "parser")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_safe(value: Any) -> Any:
    """A cell value a spreadsheet will show as text, never evaluate. Numbers stay numbers."""
    if isinstance(value, str) and value:
        if value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START[:4]):
            return "'" + value
    return value


def format_for(path: Union[str, os.PathLike]) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"cannot tell the export format of {path}: name the file .csv, .json or .jsonl")
    return FORMATS[ext]


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    rows: int
    elapsed: float
    notes: tuple[str, ...] = ()


def _resources_for(con: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for i in range(0, len(ids), 500):
        part = list(ids[i:i + 500])
        for r in con.execute(f"SELECT image_id, kind, name, hash, weight, source FROM resources "
                             f"WHERE image_id IN ({','.join('?' for _ in part)}) ORDER BY id", part):
            out.setdefault(r[0], []).append({"kind": r[1], "name": r[2], "hash": r[3], "weight": r[4],
                                             "source": r[5]})
    return out


def iter_records(con: sqlite3.Connection, query: Union[str, CompiledQuery] = "", *, sort: str = "path",
                 include_raw: bool = False, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """One dict per matching image: its columns, ``params`` (decoded params_json) and
    ``resources``; ``raw_json`` too when asked."""
    columns = _SELECT + (("raw_json",) if include_raw else ())
    rows = iter_rows(con, query, columns, sort=sort)
    try:
        while True:
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    break
            if not batch:
                return
            resources = _resources_for(con, [r["id"] for r in batch])
            for row in batch:
                record = {c: row[c] for c in BASE_COLUMNS}
                try:
                    record["params"] = json.loads(row["params_json"]) if row["params_json"] else None
                except json.JSONDecodeError:
                    record["params"] = row["params_json"]
                record["resources"] = resources.get(row["id"], [])
                if include_raw:
                    record["raw_json"] = row["raw_json"]
                yield record
    finally:
        # closed here, while the connection is open: left to the garbage collector after an
        # interrupt, the cursor would be finalized on a closed database (a traceback on exit)
        rows.close()


def _csv_row(record: dict[str, Any], header: Sequence[str]) -> list[Any]:
    out = []
    for key in header:
        value = record.get(key)
        if key == "params":
            value = json.dumps(value, ensure_ascii=False) if value is not None else None
        elif key == "resources":
            value = "; ".join(
                f"{r['kind']}:{r['name']}" + (f":{r['weight']:g}" if isinstance(r.get("weight"), (int, float)) else "")
                for r in value) or None
        out.append(csv_safe(value))
    return out


def _check_target(path: Path, overwrite: bool, con: sqlite3.Connection) -> None:
    if path.is_dir():
        raise InputError(f"{path} is a folder; name a file ending in .csv, .json or .jsonl")
    if os.path.lexists(path) and not overwrite:
        raise InputError(f"{path} already exists; pass --force to overwrite it or choose another name")
    if _is_database_file(path, con):
        raise InputError(f"{path} is the database being exported (or one of its files); choose another name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder for {path}: {exc}") from None


def database_files(con: sqlite3.Connection) -> list[str]:
    """The files of the connection's main database: the database and its -wal, -shm, -journal."""
    row = next((r for r in con.execute("PRAGMA database_list") if r[1] == "main"), None)
    if row is None or not row[2]:
        return []
    return [row[2] + suffix for suffix in ("", "-wal", "-shm", "-journal")]


def _is_database_file(path: Path, con: sqlite3.Connection) -> bool:
    real = os.path.realpath(path)
    for name in database_files(con):
        if real == os.path.realpath(name):
            return True
        try:
            if os.path.samefile(path, name):  # a hard link to it
                return True
        except OSError:
            pass
    return False


def export_file(con: sqlite3.Connection, out_path: Union[str, os.PathLike], query: Union[str, CompiledQuery] = "",
                *, scope: str = "prompt", sort: str = "path", include_raw: bool = False, overwrite: bool = False,
                progress: Optional[Progress] = None) -> ExportResult:
    """Write the images matching ``query`` to ``out_path`` in the format its extension names."""
    started = time.monotonic()
    path = Path(out_path).expanduser()
    fmt = format_for(path)
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    total = count(con, compiled)
    _check_target(path, overwrite, con)
    written = 0
    records = iter_records(con, compiled, sort=sort, include_raw=include_raw)
    try:
        if fmt == "csv":
            # newline='': the csv module writes its own line ends; prompts keep theirs inside quotes
            with atomic_write(path, encoding="utf-8-sig", newline="", durable=True) as fh:
                header = list(BASE_COLUMNS) + ["params", "resources"] + (["raw_json"] if include_raw else [])
                writer = csv.writer(fh)
                writer.writerow(header)
                for record in records:
                    writer.writerow(_csv_row(record, header))
                    written = _tick(written, total, progress)
        else:
            with atomic_write(path, encoding="utf-8", newline="\n", durable=True) as fh:
                if fmt == "json":
                    fh.write("[")
                for record in records:
                    text = json.dumps(record, ensure_ascii=False, default=str)
                    if fmt == "json":
                        fh.write(("\n" if written == 0 else ",\n") + text)
                    else:
                        fh.write(text + "\n")
                    written = _tick(written, total, progress)
                if fmt == "json":
                    fh.write("\n]\n" if written else "]\n")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc}") from None
    finally:
        records.close()
    logger.info("exported %d rows to %s (%s)", written, path, fmt)
    return ExportResult(str(path), fmt, written, time.monotonic() - started, compiled.notes)


def _tick(done: int, total: int, progress: Optional[Progress]) -> int:
    done += 1
    if progress and (done % 500 == 0 or done == total):
        progress(done, total)
    return done


remove_unfinished = remove_quietly  # the name maintenance and older callers use


# -- sidecars ------------------------------------------------------------------------------

SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class SidecarResult:
    selected: int
    written: int
    skipped_existing: int
    skipped_missing_image: int
    failed: int
    dry_run: bool
    out_dir: Optional[str]
    examples: tuple[str, ...]  # a few sidecar paths written (or that would be)
    first_error: Optional[str] = None


def sidecar_record(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in _SIDECAR_DROP}
    out["exported_by"] = "ExifData Analytics"
    return out


class OutsideTarget(OSError):
    """A sidecar whose path would lead out of the folder it belongs in: not written."""


def _path_module(path: str):
    return ntpath if is_foreign_windows_path(path) else os.path


def sidecar_path(image_path: str, out_dir: Optional[Path], common_root: Optional[str]) -> Path:
    """``<image file name>.json``: beside the image, or at the same relative place under out_dir.
    The full image name is kept (``a.png.json``) so a.png and a.jpg never share a sidecar.
    OutsideTarget when the place cannot be inside its folder: beside an image whose path is
    not one of this machine (a Windows path from the original's database), or a relative
    place that climbs out of out_dir."""
    if out_dir is None:
        if is_foreign_windows_path(image_path) or not os.path.isabs(image_path):
            raise OutsideTarget(f"{image_path} is not a path of this machine; pass --out DIR")
        return Path(image_path + SIDECAR_SUFFIX)
    mod = _path_module(image_path)
    try:
        rel = mod.relpath(image_path, common_root) if common_root else mod.basename(image_path)
    except ValueError:  # another drive than the common root (Windows paths)
        rel = mod.basename(image_path)
    # a Windows path's parts are split on both separators; this system's on its own
    parts = re.split(r"[\\/]", rel) if mod is ntpath else rel.split(os.sep)
    if any(part in ("..", "") for part in parts) or (mod is ntpath and ":" in parts[0]):
        raise OutsideTarget(f"the sidecar of {image_path} would not be under {out_dir}")
    return out_dir.joinpath(*parts[:-1], parts[-1] + SIDECAR_SUFFIX)


def _common_root(con: sqlite3.Connection, compiled: Optional[CompiledQuery]) -> Optional[str]:
    """The folder the selected images (None: all images) share."""
    where, params = (compiled.where, compiled.params) if compiled is not None else ("1", ())
    folders = [r[0] for r in con.execute(f"SELECT DISTINCT folder FROM images WHERE {where}", params)]
    if not folders:
        return None
    modules = {_path_module(f) for f in folders}
    if len(modules) > 1:  # Windows paths and this machine's together: nothing in common
        return None
    try:
        return modules.pop().commonpath(folders)
    except ValueError:  # different drives (Windows), or absolute and relative paths mixed
        return None


def _check_inside(target: Path, folder: str) -> None:
    """OutsideTarget unless ``target``'s folder, with every symlink resolved, is ``folder`` or
    under it (``folder`` resolved too)."""
    if not is_within(os.path.realpath(target.parent), os.path.realpath(folder)):
        raise OutsideTarget(f"{target} would be written outside {folder} (through a symlink?); not written")


def export_sidecars(con: sqlite3.Connection, query: Union[str, CompiledQuery] = "", *, scope: str = "prompt",
                    out_dir: Optional[Union[str, os.PathLike]] = None, force: bool = False, dry_run: bool = False,
                    include_all: bool = False, examples: int = 5, progress: Optional[Progress] = None
                    ) -> SidecarResult:
    """One JSON sidecar per matching image (only images with generation data unless
    ``include_all``); existing sidecars are kept unless ``force``. A sidecar is written only
    inside its target: under ``out_dir`` (every symlink resolved), or beside its image in a
    folder that lies, resolved, under the common folder of every indexed image (so a symlink
    crawled into the database cannot send sidecars elsewhere); the others count as failed."""
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if not include_all:
        compiled = CompiledQuery(compiled.text, f"({compiled.where}) AND parse_status = 'ok'", compiled.params,
                                 compiled.notes)
    total = count(con, compiled)
    target_dir = Path(out_dir).expanduser().resolve() if out_dir is not None else None
    root = _common_root(con, compiled) if target_dir is not None else _common_root(con, None)
    protected = {os.path.realpath(name) for name in database_files(con)}
    written = existing = missing = failed = 0
    shown: list[str] = []
    first_error = None
    done = 0
    records = iter_records(con, compiled)
    try:
        for record in records:
            done += 1
            if progress and (done % 200 == 0 or done == total):
                progress(done, total)
            image = record["path"]
            if target_dir is None and (is_foreign_windows_path(image) or not os.path.isabs(image)
                                       or not os.path.isfile(image)):
                missing += 1  # not (or no longer) an image file of this machine
                continue
            try:
                target = sidecar_path(image, target_dir, root)
                _check_inside(target, str(target_dir) if target_dir is not None else (root or "/"))
                if os.path.realpath(target) in protected:
                    raise OutsideTarget(f"{target} is a file of the database; not written")
                if os.path.lexists(target) and not force:
                    existing += 1
                    continue
                if not dry_run:
                    _write_json_atomic(target, sidecar_record(record), str(target_dir) if target_dir else None)
            except OSError as exc:
                failed += 1
                first_error = first_error or (str(exc) if isinstance(exc, OutsideTarget) else f"{image}: {exc}")
                logger.warning("cannot write the sidecar of %s: %s", image, exc)
                continue
            written += 1
            if len(shown) < examples:
                shown.append(str(target))
    finally:
        records.close()
    logger.info("sidecars: %d written, %d existing kept, %d images missing, %d failed (dry run %s)",
                written, existing, missing, failed, dry_run)
    return SidecarResult(total, written, existing, missing, failed, dry_run,
                         str(target_dir) if target_dir else None, tuple(shown), first_error)


def _write_json_atomic(target: Path, data: dict, out_dir: Optional[str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if out_dir is not None:  # the folders just made (or found) must still be inside out_dir
        _check_inside(target, out_dir)
    with atomic_write(target, encoding="utf-8", newline="\n") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
        fh.write("\n")
