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
import io
import json
import logging
import ntpath
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Optional, Sequence, Union

from . import db
from .errors import InputError
from .parquet import require_pyarrow, write_parquet
from .safe_files import atomic_write, remove_quietly
from .scan import is_foreign_windows_path, is_within
from .search import CompiledQuery, compile_query, count, iter_rows

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
FORMAT_NAMES = ("csv", "json", "jsonl", "parquet")
_EXTENSIONS = ".csv, .json, .jsonl or .parquet"

# every images column except the bulky raw ExifTool data, in table order
BASE_COLUMNS = ("id",) + tuple(c for c in db.IMAGE_COLUMNS if c not in ("raw_json", "extra_json", "params_json"))
_SELECT = BASE_COLUMNS + ("params_json",)
_SIDECAR_DROP = ("id", "folder", "mtime_ns", "indexed_at", "parser")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def csv_safe(value: Any) -> Any:
    """A cell value a spreadsheet will show as text, never evaluate. Numbers stay numbers,
    and so does a number kept as text (a seed past 64 bits): no formula there."""
    if isinstance(value, str) and value and not _PLAIN_NUMBER.fullmatch(value):
        if value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START[:4]):
            return "'" + value
    return value


def format_for(path: Union[str, os.PathLike]) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"cannot tell the export format of {path}: name the file {_EXTENSIONS} "
                         f"(or name the format: --format {'/'.join(FORMAT_NAMES)})")
    return FORMATS[ext]


def check_format(name: str) -> str:
    if name not in FORMAT_NAMES:
        raise InputError(f"unknown export format {name!r}: use one of {', '.join(FORMAT_NAMES)}")
    return name


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


def _csv_row(record: dict[str, Any], header: Sequence[str], formula_escape: bool = True) -> list[Any]:
    out = []
    for key in header:
        value = record.get(key)
        if key == "params":
            value = json.dumps(value, ensure_ascii=False) if value is not None else None
        elif key == "resources":
            value = "; ".join(
                f"{r['kind']}:{r['name']}" + (f":{r['weight']:g}" if isinstance(r.get("weight"), (int, float)) else "")
                for r in value) or None
        out.append(csv_safe(value) if formula_escape else value)
    return out


# JSON readers that hold numbers as doubles (JavaScript, jq 1.6, pandas.read_json) round
# integers past 2**53 - 1: those (ComfyUI seeds, mtime_ns) are written as strings of digits
JSON_SAFE_INTEGER = 2**53 - 1


def exact_json(value: Any) -> Any:
    """``value`` with every integer beyond ±(2**53 - 1), at any depth, as a string of its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) > JSON_SAFE_INTEGER else value
    if isinstance(value, dict):
        return {k: exact_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact_json(v) for v in value]
    return value


def _check_target(path: Path, overwrite: bool, con: sqlite3.Connection) -> None:
    if path.is_dir():
        raise InputError(f"{path} is a folder; name a file ending in {_EXTENSIONS}")
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


@dataclass(frozen=True)
class ExportOptions:
    """How an export writes: which images (``query``, ``scope``), in which order, with or
    without ExifTool's raw JSON, and whether CSV text cells are escaped for spreadsheets."""
    query: Union[str, CompiledQuery] = ""
    scope: str = "prompt"
    sort: str = "path"
    include_raw: bool = False
    formula_escape: bool = True


def export_file(con: sqlite3.Connection, out_path: Union[str, os.PathLike], query: Union[str, CompiledQuery] = "",
                *, scope: str = "prompt", sort: str = "path", include_raw: bool = False, overwrite: bool = False,
                formula_escape: bool = True, fmt: Optional[str] = None,
                progress: Optional[Progress] = None) -> ExportResult:
    """Write the images matching ``query`` to ``out_path`` in format ``fmt`` (default: the one
    its extension names), whole or not at all."""
    started = time.monotonic()
    path = Path(out_path).expanduser()
    fmt = check_format(fmt) if fmt else format_for(path)
    if fmt == "parquet":
        require_pyarrow()  # before anything is written
    options = ExportOptions(query, scope, sort, include_raw, formula_escape)
    compiled = _compiled(options)
    _check_target(path, overwrite, con)
    try:
        with atomic_write(path, "wb", durable=True) as fh:
            written = _write(con, fh, fmt, options, compiled, progress, bom=True)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc}") from None
    logger.info("exported %d rows to %s (%s)", written, path, fmt)
    return ExportResult(str(path), fmt, written, time.monotonic() - started, compiled.notes)


def export_stream(con: sqlite3.Connection, stream: BinaryIO, fmt: str, options: ExportOptions = ExportOptions(),
                  progress: Optional[Progress] = None) -> ExportResult:
    """Write the images ``options`` select to the binary ``stream`` (standard output) in ``fmt``.
    CSV gets no byte-order mark here: the reader is a program, not a spreadsheet."""
    started = time.monotonic()
    fmt = check_format(fmt)
    if fmt == "parquet":
        require_pyarrow()
    compiled = _compiled(options)
    written = _write(con, stream, fmt, options, compiled, progress, bom=False)
    stream.flush()
    return ExportResult("-", fmt, written, time.monotonic() - started, compiled.notes)


def _compiled(options: ExportOptions) -> CompiledQuery:
    q = options.query
    return q if isinstance(q, CompiledQuery) else compile_query(q, options.scope)


def _write(con: sqlite3.Connection, fh: BinaryIO, fmt: str, options: ExportOptions, compiled: CompiledQuery,
           progress: Optional[Progress], bom: bool) -> int:
    total = count(con, compiled)
    written = 0
    records = iter_records(con, compiled, sort=options.sort, include_raw=options.include_raw)
    if fmt == "parquet":
        try:
            return write_parquet(con, fh, (compiled.where, compiled.params), BASE_COLUMNS, options.include_raw,
                                 records, lambda done: _tick(done, total, progress))
        finally:
            records.close()
    # newline='' for CSV: the csv module writes its own line ends; prompts keep theirs inside quotes
    text = io.TextIOWrapper(fh, encoding="utf-8-sig" if bom and fmt == "csv" else "utf-8",
                            newline="" if fmt == "csv" else "\n", write_through=False)
    try:
        if fmt == "csv":
            header = list(BASE_COLUMNS) + ["params", "resources"] + (["raw_json"] if options.include_raw else [])
            writer = csv.writer(text)
            writer.writerow(header)
            for record in records:
                writer.writerow(_csv_row(record, header, options.formula_escape))
                written = _tick(written, total, progress)
        else:
            if fmt == "json":
                text.write("[")
            for record in records:
                line = json.dumps(exact_json(record), ensure_ascii=False, default=str)
                if fmt == "json":
                    text.write(("\n" if written == 0 else ",\n") + line)
                else:
                    text.write(line + "\n")
                written = _tick(written, total, progress)
            if fmt == "json":
                text.write("\n]\n" if written else "]\n")
        text.flush()
    finally:
        records.close()
        text.detach()  # the caller owns (and closes) the binary stream
    return written


def _tick(done: int, total: int, progress: Optional[Progress]) -> int:
    done += 1
    if progress and (done % 500 == 0 or done == total):
        progress(done, total)
    return done


remove_unfinished = remove_quietly  # the name maintenance and older callers use


# -- sidecars ------------------------------------------------------------------------------

SIDECAR_SUFFIX = ".json"
SIDECAR_FORMATS = ("json", "txt")
# the core settings of an A1111 infotext, in the order A1111 writes them: key -> column
_INFOTEXT_KEYS = (("Steps", "steps"), ("Sampler", "sampler"), ("Schedule type", "scheduler"),
                  ("CFG scale", "cfg_scale"), ("Seed", "seed"), ("Size", None), ("Model hash", "model_hash"),
                  ("Model", "model"), ("VAE", "vae"), ("Denoising strength", "denoising_strength"),
                  ("Clip skip", "clip_skip"))


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
    format: str = "json"


def sidecar_record(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in _SIDECAR_DROP}
    out["exported_by"] = "ExifData Analytics"
    return exact_json(out)


def infotext(record: dict[str, Any]) -> str:
    """The image's parameters as A1111 infotext (what A1111 writes into its ``<image>.txt``):
    the prompt, ``Negative prompt: …``, then the settings line. An image A1111's parser read
    keeps every key/value it had, in its order; any other gets the core settings from its
    columns (steps, sampler, schedule, CFG, seed, size, model, VAE, denoising, clip skip)."""
    from .samples.infotext import a1111_infotext  # A1111's own writer; here, not at import: samples loads Pillow

    params = record.get("params")
    if record.get("parser") == "a1111" and isinstance(params, dict) and params:
        settings = dict(params)
    else:
        settings = {}
        for key, column in _INFOTEXT_KEYS:
            if column is None:
                if record.get("width") and record.get("height"):
                    settings[key] = f"{record['width']}x{record['height']}"
            elif record.get(column) not in (None, ""):
                settings[key] = record[column]
    return a1111_infotext(record.get("prompt") or "", record.get("negative_prompt") or None, settings) + "\n"


def _shared_stems(con: sqlite3.Connection) -> set[tuple[str, str]]:
    """(folder, stem) of the indexed images whose folder holds another image of the same stem
    (a.png and a.jpg), compared without case as Windows and macOS do."""
    seen: dict[tuple[str, str], int] = {}
    for folder, name in con.execute("SELECT folder, file_name FROM images"):
        key = (folder, os.path.splitext(name)[0].casefold())
        seen[key] = seen.get(key, 0) + 1
    return {key for key, n in seen.items() if n > 1}


def sidecar_name(image_path: str, fmt: str = "json", shared: frozenset = frozenset()) -> str:
    """The sidecar's file name: ``a.png.json``; for txt A1111's own ``a.txt``, or ``a.png.txt``
    when the folder holds another image named a (``shared``, from the database), so that two
    images never share a sidecar."""
    mod = _path_module(image_path)
    folder, name = mod.split(image_path)
    if fmt == "json":
        return name + SIDECAR_SUFFIX
    stem = mod.splitext(name)[0]
    return (name if (folder, stem.casefold()) in shared else stem) + ".txt"


class OutsideTarget(OSError):
    """A sidecar whose path would lead out of the folder it belongs in: not written."""


def _path_module(path: str):
    return ntpath if is_foreign_windows_path(path) else os.path


def sidecar_path(image_path: str, out_dir: Optional[Path], common_root: Optional[str],
                 name: Optional[str] = None) -> Path:
    """``<image file name>.json``: beside the image, or at the same relative place under out_dir.
    The full image name is kept (``a.png.json``) so a.png and a.jpg never share a sidecar.
    OutsideTarget when the place cannot be inside its folder: beside an image whose path is
    not one of this machine (a Windows path from the original's database), or a relative
    place that climbs out of out_dir."""
    if out_dir is None:
        if is_foreign_windows_path(image_path) or not os.path.isabs(image_path):
            raise OutsideTarget(f"{image_path} is not a path of this machine; pass --out DIR")
        return Path(os.path.dirname(image_path), name or sidecar_name(image_path))
    mod = _path_module(image_path)
    try:
        rel = mod.relpath(image_path, common_root) if common_root else mod.basename(image_path)
    except ValueError:  # another drive than the common root (Windows paths)
        rel = mod.basename(image_path)
    # a Windows path's parts are split on both separators; this system's on its own
    parts = re.split(r"[\\/]", rel) if mod is ntpath else rel.split(os.sep)
    if any(part in ("..", "") for part in parts) or (mod is ntpath and ":" in parts[0]):
        raise OutsideTarget(f"the sidecar of {image_path} would not be under {out_dir}")
    return out_dir.joinpath(*parts[:-1], name or sidecar_name(image_path))


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
                    include_all: bool = False, examples: int = 5, progress: Optional[Progress] = None,
                    fmt: str = "json") -> SidecarResult:
    """One JSON sidecar per matching image (only images with generation data unless
    ``include_all``); existing sidecars are kept unless ``force``. A sidecar is written only
    inside its target: under ``out_dir`` (every symlink resolved), or beside its image in a
    folder that lies, resolved, under the common folder of every indexed image (so a symlink
    crawled into the database cannot send sidecars elsewhere); the others count as failed.
    ``fmt``: ``json`` (every column) or ``txt`` (A1111 infotext, see ``infotext``)."""
    if fmt not in SIDECAR_FORMATS:
        raise InputError(f"unknown sidecar format {fmt!r}: use {' or '.join(SIDECAR_FORMATS)}")
    shared = frozenset(_shared_stems(con)) if fmt == "txt" else frozenset()
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
                target = sidecar_path(image, target_dir, root, sidecar_name(image, fmt, shared))
                _check_inside(target, str(target_dir) if target_dir is not None else (root or "/"))
                if os.path.realpath(target) in protected:
                    raise OutsideTarget(f"{target} is a file of the database; not written")
                if os.path.lexists(target) and not force:
                    existing += 1
                    continue
                if not dry_run:
                    _write_sidecar(target, record, fmt, str(target_dir) if target_dir else None)
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
                         str(target_dir) if target_dir else None, tuple(shown), first_error, fmt)


def _write_sidecar(target: Path, record: dict, fmt: str, out_dir: Optional[str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if out_dir is not None:  # the folders just made (or found) must still be inside out_dir
        _check_inside(target, out_dir)
    with atomic_write(target, encoding="utf-8", newline="\n") as fh:
        if fmt == "txt":
            fh.write(infotext(record))
        else:
            json.dump(sidecar_record(record), fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")
