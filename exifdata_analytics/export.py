"""Exports of the images a search selects: CSV, JSON or JSONL (chosen by the file's extension),
and JSON sidecar files beside the images.

CSV is written for spreadsheets: UTF-8 with a byte-order mark (so Excel reads the prompts
right), and text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, …)
are prefixed with ``'`` (OWASP's advice for CSV injection). Every file is written under a
temporary name and renamed when complete, so a failed or interrupted export leaves no
half-written file behind.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from . import db
from .errors import InputError
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


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def _open_target(path: Path, overwrite: bool) -> Path:
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists; pass --force to overwrite it or choose another name")
    if path.is_dir():
        raise InputError(f"{path} is a folder; name a file ending in .csv, .json or .jsonl")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder for {path}: {exc}") from None
    return _partial(path)


def export_file(con: sqlite3.Connection, out_path: Union[str, os.PathLike], query: Union[str, CompiledQuery] = "",
                *, scope: str = "prompt", sort: str = "path", include_raw: bool = False, overwrite: bool = False,
                progress: Optional[Progress] = None) -> ExportResult:
    """Write the images matching ``query`` to ``out_path`` in the format its extension names."""
    started = time.monotonic()
    path = Path(out_path).expanduser()
    fmt = format_for(path)
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    total = count(con, compiled)
    tmp = _open_target(path, overwrite)
    written = 0
    try:
        records = iter_records(con, compiled, sort=sort, include_raw=include_raw)
        if fmt == "csv":
            # newline='': the csv module writes its own line ends; prompts keep theirs inside quotes
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                header = list(BASE_COLUMNS) + ["params", "resources"] + (["raw_json"] if include_raw else [])
                writer = csv.writer(fh)
                writer.writerow(header)
                for record in records:
                    writer.writerow(_csv_row(record, header))
                    written = _tick(written, total, progress)
        else:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
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
        os.replace(tmp, path)
    except OSError as exc:
        remove_unfinished(tmp)
        raise InputError(f"cannot write {path}: {exc}") from None
    except BaseException:
        remove_unfinished(tmp)
        raise
    logger.info("exported %d rows to %s (%s)", written, path, fmt)
    return ExportResult(str(path), fmt, written, time.monotonic() - started, compiled.notes)


def _tick(done: int, total: int, progress: Optional[Progress]) -> int:
    done += 1
    if progress and (done % 500 == 0 or done == total):
        progress(done, total)
    return done


def remove_unfinished(path: Path) -> None:
    """Remove a half-written output file (export, backup); never fails."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("could not remove the unfinished file %s", path, exc_info=True)


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


def sidecar_path(image_path: str, out_dir: Optional[Path], common_root: Optional[str]) -> Path:
    """``<image file name>.json``: beside the image, or at the same relative place under out_dir.
    The full image name is kept (``a.png.json``) so a.png and a.jpg never share a sidecar."""
    if out_dir is None:
        return Path(image_path + SIDECAR_SUFFIX)
    rel = os.path.relpath(image_path, common_root) if common_root else os.path.basename(image_path)
    return out_dir / (rel + SIDECAR_SUFFIX)


def _common_root(con: sqlite3.Connection, compiled: CompiledQuery) -> Optional[str]:
    folders = [r[0] for r in con.execute(f"SELECT DISTINCT folder FROM images WHERE {compiled.where}",
                                         compiled.params)]
    if not folders:
        return None
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives (Windows)
        return None


def export_sidecars(con: sqlite3.Connection, query: Union[str, CompiledQuery] = "", *, scope: str = "prompt",
                    out_dir: Optional[Union[str, os.PathLike]] = None, force: bool = False, dry_run: bool = False,
                    include_all: bool = False, examples: int = 5, progress: Optional[Progress] = None
                    ) -> SidecarResult:
    """One JSON sidecar per matching image (only images with generation data unless
    ``include_all``); existing sidecars are kept unless ``force``."""
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if not include_all:
        compiled = CompiledQuery(compiled.text, f"({compiled.where}) AND parse_status = 'ok'", compiled.params,
                                 compiled.notes)
    total = count(con, compiled)
    target_dir = Path(out_dir).expanduser().resolve() if out_dir is not None else None
    root = _common_root(con, compiled) if target_dir is not None else None
    written = existing = missing = failed = 0
    shown: list[str] = []
    first_error = None
    done = 0
    for record in iter_records(con, compiled):
        done += 1
        if progress and (done % 200 == 0 or done == total):
            progress(done, total)
        image = record["path"]
        target = sidecar_path(image, target_dir, root)
        if target_dir is None and not os.path.exists(image):
            missing += 1
            continue
        if target.exists() and not force:
            existing += 1
            continue
        if dry_run:
            written += 1
        else:
            try:
                _write_json_atomic(target, sidecar_record(record))
                written += 1
            except OSError as exc:
                failed += 1
                first_error = first_error or f"{target}: {exc}"
                logger.warning("cannot write sidecar %s: %s", target, exc)
                continue
        if len(shown) < examples:
            shown.append(str(target))
    logger.info("sidecars: %d written, %d existing kept, %d images missing, %d failed (dry run %s)",
                written, existing, missing, failed, dry_run)
    return SidecarResult(total, written, existing, missing, failed, dry_run,
                         str(target_dir) if target_dir else None, tuple(shown), first_error)


def _write_json_atomic(target: Path, data: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(target)
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        remove_unfinished(tmp)
        raise
