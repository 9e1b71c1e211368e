"""DB_filler's job: scan -> skip unchanged -> extract (ExifTool pool) -> hash + parse -> store.

Worker threads each own one ExifTool process for the duration of a batch, hash the batch's
files and parse their tags; the calling thread writes every finished batch in one
transaction, in submission order. At most ``2 * workers`` batches are in flight, so memory
does not grow with the size of the folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import db
from .errors import DatabaseError, InputError
from .exiftool import ExifToolPool, FileTags, MetadataReader
from .parsers import STATUS_ERROR, STATUS_NO_METADATA, STATUS_OK, STATUS_UNPARSED, parse_tags
from .parsers.base import Resource
from .parsers.tags import IndexedTags, find_tag, iter_tags
from .scan import FileEntry, ScanProblems, iter_image_files, normalize_path
from .stealth import STEALTH_TAG, read_stealth_text

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (files done so far, files to do)


@dataclass(frozen=True)
class FillOptions:
    root: str
    recursive: bool
    db_path: Path
    workers: int = 2
    batch_size: int = 100
    force: bool = False
    dry_run: bool = False
    prune: bool = False


@dataclass(frozen=True)
class FillSummary:
    root: str
    found: int = 0
    new: int = 0
    updated: int = 0
    moved: int = 0  # new paths re-linked to the row of a vanished file with the same content
    unchanged: int = 0
    with_generation_data: int = 0
    no_generation_data: int = 0
    unparsed: int = 0
    errors: int = 0
    vanished: int = 0
    pruned: int = 0
    prunable: int = 0  # rows of files gone from the folder (pruned only with --prune)
    scan_problems: int = 0
    elapsed: float = 0.0
    dry_run: bool = False
    exiftool_restarts: int = 0
    generators: dict = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.new + self.updated + self.moved

    @property
    def files_per_second(self) -> float:
        return self.found / self.elapsed if self.elapsed > 0 else 0.0


class FillInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM via the CLI) during a run; finished batches are stored."""

    def __init__(self, summary: FillSummary):
        super().__init__("interrupted")
        self.summary = summary


# -- per-file work -------------------------------------------------------------------------

def sha256_of(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()  # buffered, releases the GIL


_FORMAT_NAMES = {"EXTENDED WEBP": "WEBP", "JPG": "JPEG", "TIF": "TIFF"}


def container_format(tags: Optional[dict], path: str) -> Optional[str]:
    value = find_tag(tags, "FileType", ("File",)) if tags else None
    if not value:
        ext = os.path.splitext(path)[1].lstrip(".").upper()
        value = ext or None
    if value is None:
        return None
    value = str(value).upper()
    return _FORMAT_NAMES.get(value, value)


# Where the picture's own header puts its size (JPEG SOF, PNG IHDR, WebP VP8*, GIF, HEIF ispe…),
# before sizes that EXIF/XMP merely claim; IFD1 is the thumbnail, never the picture.
_PIXEL_SIZE_GROUPS = ("File", "PNG", "RIFF", "GIF", "QuickTime", "JXL", "BMP")


def pixel_size(tags: Optional[dict]) -> tuple[Optional[int], Optional[int]]:
    if not tags:
        return None, None
    size = find_tag(tags, "ImageSize", ("Composite",))  # rows read before ExifTool ran with -e
    if isinstance(size, str) and "x" in size:
        w, _, h = size.partition("x")
        try:
            return int(float(w)), int(float(h))
        except ValueError:
            pass
    w, h = find_tag(tags, "ImageWidth", _PIXEL_SIZE_GROUPS), find_tag(tags, "ImageHeight", _PIXEL_SIZE_GROUPS)
    if not (isinstance(w, int) and isinstance(h, int)):
        w, h = _not_thumbnail(tags, "ImageWidth"), _not_thumbnail(tags, "ImageHeight")
    return (w if isinstance(w, int) else None), (h if isinstance(h, int) else None)


def _not_thumbnail(tags: dict, name: str) -> Any:
    return next((v for k, v in iter_tags(tags, name) if not k.upper().startswith("IFD1:")), None)


# Tags that say when the picture was made, best first.
_DATE_TAGS = (
    ("DateTimeOriginal", None), ("CreateDate", None), ("DateCreated", None),
    ("CreationTime", ("PNG",)), ("DateTimeCreated", None),
)


def exif_date_to_iso(value: Any) -> Optional[str]:
    """'2024:05:01 12:30:00+02:00' -> '2024-05-01T12:30:00+02:00'; None when not a date."""
    if not isinstance(value, str):
        return None
    s = value.strip()
    if len(s) < 10 or not s[:4].isdigit() or s.startswith("0000"):
        return None
    date = s[:10].replace(":", "-")
    try:
        datetime.strptime(date, "%Y-%m-%d")
    except ValueError:
        return None
    rest = s[10:].strip().lstrip("T").strip()
    if not rest:
        return date
    if rest.endswith("Z"):
        rest = rest[:-1] + "+00:00"
    return f"{date}T{rest}"


def created_at(tags: Optional[dict], params: Optional[dict], mtime_ns: int) -> str:
    if tags:
        for name, groups in _DATE_TAGS:
            iso = exif_date_to_iso(find_tag(tags, name, groups))
            if iso:
                return iso
    if params:
        iso = exif_date_to_iso(params.get("Created Date"))
        if iso:
            return iso
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc).astimezone().isoformat(timespec="seconds")


def _json_default(value: Any) -> Any:
    return str(value)


def parsed_columns(tags: Optional[dict], mtime_ns: int, extraction_error: Optional[str] = None
                   ) -> tuple[dict, tuple[Resource, ...]]:
    """The parsed columns of one image (generator … parser, created_at) and its resources."""
    empty = dict(generator=None, prompt=None, negative_prompt=None, steps=None, seed=None, sampler=None,
                 scheduler=None, cfg_scale=None, denoising_strength=None, width=None, height=None,
                 model=None, model_hash=None, vae=None, clip_skip=None, params_json=None, parser=None)
    if tags is None:
        cols = dict(empty, parse_status=STATUS_ERROR, error=extraction_error or "no metadata could be read",
                    created_at=created_at(None, None, mtime_ns))
        return cols, ()
    if not isinstance(tags, IndexedTags):
        tags = IndexedTags(tags)
    outcome = parse_tags(tags)
    exif_error = find_tag(tags, "Error", ("ExifTool",))
    if outcome.status == STATUS_OK and outcome.params is not None:
        p = outcome.params
        cols = dict(
            generator=p.generator, prompt=p.prompt, negative_prompt=p.negative_prompt, steps=p.steps,
            seed=p.seed, sampler=p.sampler, scheduler=p.scheduler, cfg_scale=_finite(p.cfg_scale),
            denoising_strength=_finite(p.denoising_strength), width=p.width, height=p.height,
            model=p.model, model_hash=p.model_hash, vae=p.vae, clip_skip=p.clip_skip,
            params_json=json.dumps(dict(p.params), ensure_ascii=False, default=_json_default),
            parser=outcome.parser, parse_status=STATUS_OK, error=None,
            created_at=created_at(tags, dict(p.params), mtime_ns),
        )
        return cols, tuple(p.resources)
    status, error = outcome.status, outcome.error
    if exif_error and status in (STATUS_NO_METADATA, STATUS_UNPARSED):
        status, error = STATUS_ERROR, f"ExifTool: {exif_error}"
    cols = dict(empty, parse_status=status, error=error, created_at=created_at(tags, None, mtime_ns))
    return cols, ()


def _finite(value: Optional[float]) -> Optional[float]:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def merged_tags(tags: Optional[dict], extra: Optional[dict]) -> Optional[dict]:
    """ExifTool's tags plus those our own readers found (stealth pixels)."""
    if not extra:
        return tags
    return {**(tags or {}), **extra}


def stealth_tags(path: str, fmt: Optional[str]) -> Optional[dict]:
    """Tags from data hidden in the pixels, for PNG/WebP files without text metadata."""
    if fmt not in ("PNG", "WEBP"):
        return None
    found = read_stealth_text(path)
    if found is None:
        return None
    return {STEALTH_TAG: found.text, "Stealth:Signature": found.signature}


def build_record(entry: FileEntry, ft: FileTags, sha256: Optional[str], indexed_at: str
                 ) -> tuple[db.ImageRecord, tuple[Resource, ...]]:
    tags = IndexedTags(ft.tags) if ft.tags is not None else None
    fmt = container_format(tags, entry.path)
    cols, resources = parsed_columns(tags, entry.mtime_ns, ft.error)
    extra = None
    if tags is not None and cols["parse_status"] == STATUS_NO_METADATA:
        # only files without any text metadata pay for decoding pixels
        extra = stealth_tags(entry.path, fmt)
        if extra:
            cols, resources = parsed_columns(merged_tags(tags, extra), entry.mtime_ns, ft.error)
    width, height = pixel_size(tags)
    record = db.ImageRecord(
        path=entry.path, file_name=os.path.basename(entry.path), folder=os.path.dirname(entry.path),
        size_bytes=entry.size, mtime_ns=entry.mtime_ns, sha256=sha256,
        format=fmt, image_width=width, image_height=height, raw_json=ft.raw_json,
        extra_json=json.dumps(extra, ensure_ascii=False) if extra else None, indexed_at=indexed_at, **cols,
    )
    return record, resources


@dataclass(frozen=True)
class Move:
    """A new path whose content is that of a row whose file is gone: the file was moved."""

    entry: FileEntry
    image_id: int
    old_path: str


class MoveFinder:
    """Finds, for new files, rows with the same content (sha256 and size) whose file no
    longer exists, so a moved file is re-linked instead of read again. Thread-safe: one
    read-only connection per worker thread.

    Rows inside the scan (``root``, ``recursive``) are candidates only when the scan did not
    find their file (``gone``); every other such row exists. Asking the file system about
    each of them made a folder holding many copies of one image quadratic (100,000 copies:
    every new file checked every earlier copy)."""

    def __init__(self, db_path: Path, root: str, recursive: bool, gone: Sequence[str] = ()):
        self.db_path = db_path
        self._scope = db.scope_clause(root, recursive)
        self._gone = list(gone)
        self._gone_by_digest: Optional[dict[str, list]] = None
        self._local = threading.local()
        self._connections: list = []
        self._lock = threading.Lock()

    def _gone_rows(self, con) -> dict[str, list]:
        with self._lock:
            if self._gone_by_digest is None:
                index: dict[str, list] = {}
                for start in range(0, len(self._gone), 500):
                    chunk = self._gone[start:start + 500]
                    for row in con.execute("SELECT id, path, size_bytes, sha256 FROM images WHERE sha256 IS NOT NULL "
                                           f"AND path IN ({','.join('?' for _ in chunk)})", chunk):
                        index.setdefault(row["sha256"], []).append(row)
                self._gone_by_digest = index
            return self._gone_by_digest

    def _con(self):
        con = getattr(self._local, "con", None)
        if con is None:
            con = db.connect(self.db_path, readonly=True)
            self._local.con = con
            with self._lock:
                self._connections.append(con)
        return con

    def find(self, candidates: Sequence[tuple[FileEntry, str]]) -> list[Move]:
        if not candidates:
            return []
        by_digest: dict[str, list[FileEntry]] = {}
        for entry, digest in candidates:
            by_digest.setdefault(digest, []).append(entry)
        digests = list(by_digest)
        con = self._con()
        scope, scope_args = self._scope
        rows = con.execute(
            f"SELECT id, path, size_bytes, sha256 FROM images WHERE sha256 IN ({','.join('?' for _ in digests)}) "
            f"AND NOT ({scope})", digests + scope_args).fetchall()
        gone = self._gone_rows(con)
        rows += [row for digest in digests for row in gone.get(digest, ())]
        moves, claimed = [], set()
        for row in rows:
            if row["id"] in claimed or os.path.lexists(row["path"]):
                continue  # a copy, not a move: the original is still there
            for entry in by_digest.get(row["sha256"], []):
                if entry.size == row["size_bytes"] and entry.path not in {m.entry.path for m in moves}:
                    moves.append(Move(entry, row["id"], row["path"]))
                    claimed.add(row["id"])
                    break
        return moves

    def close(self) -> None:
        with self._lock:
            for con in self._connections:
                con.close()
            self._connections.clear()


@dataclass(frozen=True)
class _BatchResult:
    records: list
    vanished: int
    moves: tuple[Move, ...] = ()


def process_batch(reader: MetadataReader, entries: Sequence[FileEntry],
                  move_finder: Optional[MoveFinder] = None, new_paths: frozenset = frozenset()) -> _BatchResult:
    """Hash, extract and parse one batch (runs in a worker thread). New files whose content
    belongs to a row whose file is gone come back as moves, without running ExifTool."""
    digests: dict[str, Optional[str]] = {}
    read_errors: dict[str, str] = {}
    vanished = 0
    present = []
    for entry in entries:
        try:
            digests[entry.path] = sha256_of(entry.path)
        except FileNotFoundError:
            logger.warning("%s disappeared during the run; not stored", entry.path)
            vanished += 1
            continue
        except OSError as exc:
            digests[entry.path] = None
            read_errors[entry.path] = f"cannot read file: {exc}"
        present.append(entry)
    moves: list[Move] = []
    if move_finder is not None:
        moves = move_finder.find([(e, digests[e.path]) for e in present
                                  if e.path in new_paths and digests.get(e.path)])
    moved = {m.entry.path for m in moves}
    # a file we cannot read (permissions, I/O error) is not sent to ExifTool: our reason
    # ("Permission denied") says more than its "Error opening file"
    to_read = [e for e in present if e.path not in moved and e.path not in read_errors]
    results = dict(zip((e.path for e in to_read), reader.read([e.path for e in to_read]))) if to_read else {}
    indexed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    records = []
    for entry in present:
        if entry.path in moved:
            continue
        ft = results.get(entry.path) or FileTags(entry.path, error=read_errors[entry.path])
        records.append(build_record(entry, ft, digests[entry.path], indexed_at))
    return _BatchResult(records, vanished, tuple(moves))


class _LazyReader:
    """Starts the real reader (the ExifTool pool) on the first read, so a run that finds only
    moved files starts no ExifTool at all."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._reader = None
        self._lock = threading.Lock()

    def read(self, paths):
        with self._lock:
            if self._reader is None:
                reader = self._factory()
                reader.__enter__()
                self._reader = reader
        return self._reader.read(paths)

    def abort_all(self) -> None:
        abort = getattr(self._reader, "abort_all", None)
        if abort:
            abort()

    @property
    def restarts(self) -> int:
        return getattr(self._reader, "restarts", 0)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.__exit__(None, None, None)


# -- the run -------------------------------------------------------------------------------

def _is_under_any(path: str, folders: Sequence[str]) -> bool:
    return any(path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def fill(options: FillOptions, progress: Optional[Progress] = None,
         reader_factory: Optional[Callable[[int], Any]] = None) -> FillSummary:
    """Index ``options.root`` into the database. Raises ExifDataError subclasses for fatal
    problems and FillInterrupted on Ctrl-C (finished batches are kept)."""
    started = time.monotonic()
    root = normalize_path(options.root)
    if not os.path.isdir(root):
        raise InputError(f"'{options.root}' does not exist or is not a folder; check the path")
    problems = ScanProblems()
    entries = list(iter_image_files(root, options.recursive, problems))
    logger.info("found %d image files under %s (recursive=%s)", len(entries), root, options.recursive)

    if options.dry_run:
        existing = {}
        if Path(options.db_path).exists():
            con = db.connect(options.db_path, readonly=True)
            try:
                existing = db.file_states_under(con, root, options.recursive)
            finally:
                con.close()
    else:
        con = db.connect(options.db_path)
        existing = db.file_states_under(con, root, options.recursive)

    todo = [e for e in entries
            if options.force or existing.get(e.path) != (e.size, e.mtime_ns)]
    scanned = {e.path for e in entries}
    stale = [p for p in existing if p not in scanned and not _is_under_any(p, problems.unreadable_dirs)]
    counts = dict(found=len(entries), unchanged=len(entries) - len(todo), prunable=len(stale),
                  scan_problems=problems.count, root=root, dry_run=options.dry_run)

    if options.dry_run:
        new = sum(1 for e in todo if e.path not in existing)
        return FillSummary(new=new, updated=len(todo) - new, elapsed=time.monotonic() - started, **counts)

    tally = dict(new=0, updated=0, moved=0, with_generation_data=0, no_generation_data=0, unparsed=0, errors=0,
                 vanished=0, pruned=0)
    generators: dict[str, int] = {}
    restarts = 0

    def summary() -> FillSummary:
        return FillSummary(elapsed=time.monotonic() - started, generators=dict(generators),
                           exiftool_restarts=restarts, **counts, **tally)

    try:
        if progress:
            progress(0, len(todo))
        if todo:
            make_reader = reader_factory or (lambda n: ExifToolPool(workers=n))
            reader = _LazyReader(lambda: make_reader(options.workers))
            # --force means "read everything again", so no shortcut through moved rows then
            move_finder = None if options.force else MoveFinder(options.db_path, root, options.recursive, stale)
            try:
                _extract_all(con, reader, move_finder, todo, existing, options, tally, generators, progress)
            finally:
                restarts = reader.restarts
                reader.close()
                if move_finder is not None:
                    move_finder.close()
        if options.prune and stale:
            tally["pruned"] = db.delete_paths(con, stale)
            logger.info("pruned %d rows of files no longer under %s", tally["pruned"], root)
    except KeyboardInterrupt:
        raise FillInterrupted(summary()) from None
    except sqlite3.Error as exc:  # disk full, read-only file…: one clear message; stored batches stay
        raise DatabaseError(db.explain_sqlite_error(Path(options.db_path), exc)) from None
    finally:
        con.close()
    result = summary()
    logger.info("run finished: %s", result)
    return result


def _extract_all(con, reader, move_finder, todo, existing, options, tally, generators, progress) -> None:
    batch_size = max(1, options.batch_size)
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    new_paths = frozenset(e.path for e in todo if e.path not in existing)
    max_in_flight = max(1, options.workers) * 2
    done = 0
    pending: deque[Future] = deque()
    executor = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="exiftool")
    try:
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and len(pending) < max_in_flight:
                pending.append(executor.submit(process_batch, reader, batches[next_batch], move_finder, new_paths))
                next_batch += 1
            result = pending.popleft().result()
            db.write_batch(con, result.records)
            records = list(result.records)
            if result.moves:
                relinked = db.relink(con, [(m.image_id, m.old_path, m.entry.path, m.entry.size, m.entry.mtime_ns)
                                           for m in result.moves])
                tally["moved"] += sum(relinked)
                done += sum(relinked)
                lost = [m.entry for m, ok in zip(result.moves, relinked) if not ok]
                if lost:  # another batch re-linked that row first: read these files normally
                    extra = process_batch(reader, lost).records
                    db.write_batch(con, extra)
                    records += extra
            for record, _ in records:
                tally["updated" if record.path in existing else "new"] += 1
                status = record.parse_status
                if status == STATUS_OK:
                    tally["with_generation_data"] += 1
                    generators[record.generator or "?"] = generators.get(record.generator or "?", 0) + 1
                elif status == STATUS_NO_METADATA:
                    tally["no_generation_data"] += 1
                elif status == STATUS_UNPARSED:
                    tally["unparsed"] += 1
                else:
                    tally["errors"] += 1
            tally["vanished"] += result.vanished
            done += len(records) + result.vanished
            if progress:
                progress(done, len(todo))
    except BaseException:
        # stop quickly: kill running ExifTool batches, drop queued ones; stored batches stay
        abort = getattr(reader, "abort_all", None)
        if abort:
            abort()
        for fut in pending:
            fut.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


# -- reparse -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReparseSummary:
    rows: int = 0
    changed_status: int = 0
    ok: int = 0
    no_generation_data: int = 0
    unparsed: int = 0
    errors: int = 0
    skipped_without_raw: int = 0
    elapsed: float = 0.0


def reparse(db_path: Path, root: Optional[str] = None, progress: Optional[Progress] = None,
            chunk: int = 1000) -> ReparseSummary:
    """Re-run the parsers over the stored ``raw_json`` (no ExifTool), one transaction per chunk."""
    started = time.monotonic()
    con = db.connect(db_path)
    tally = dict(rows=0, changed_status=0, ok=0, no_generation_data=0, unparsed=0, errors=0,
                 skipped_without_raw=0)
    try:
        root = normalize_path(root) if root else None
        total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0] if root is None else None
        for rows in db.iter_raw(con, root, chunk):
            updates = []
            for row in rows:
                if not row["raw_json"]:
                    tally["skipped_without_raw"] += 1
                    continue
                try:
                    tags = merged_tags(json.loads(row["raw_json"]),
                                       json.loads(row["extra_json"]) if row["extra_json"] else None)
                except json.JSONDecodeError:
                    tally["skipped_without_raw"] += 1
                    continue
                cols, resources = parsed_columns(tags, row["mtime_ns"] or 0)
                updates.append((row["id"], cols, resources))
                key = {STATUS_OK: "ok", STATUS_NO_METADATA: "no_generation_data",
                       STATUS_UNPARSED: "unparsed"}.get(cols["parse_status"], "errors")
                tally[key] += 1
            ids = [u[0] for u in updates]
            if ids:
                old_status = dict(con.execute(
                    f"SELECT id, parse_status FROM images WHERE id IN ({','.join('?' for _ in ids)})", ids).fetchall())
                tally["changed_status"] += sum(1 for i, c, _ in updates if old_status.get(i) != c["parse_status"])
            db.update_parsed(con, updates)
            tally["rows"] += len(rows)
            if progress:
                progress(tally["rows"], total or tally["rows"])
    except sqlite3.Error as exc:
        raise DatabaseError(db.explain_sqlite_error(Path(db_path), exc)) from None
    finally:
        con.close()
    return ReparseSummary(elapsed=time.monotonic() - started, **tally)
