"""``import-legacy``: bring the images of a database written by the original ExifData Analytics
into ours.

The original keeps one row per *file name* in ``file_metadata(file_name PRIMARY KEY,
file_path, last_modified REAL, metadata TEXT, metadata_after_prompt TEXT)``. Its text is
ExifTool's plain output (``Tag Name : value`` lines, where ExifTool shows each line break
inside a value as ``.``), cut in two at the first ``Negative prompt:``; each half keeps only
lines containing ``': '`` and lower-cases the text before the first ``': '`` of each line. So
the first line of the second half is the negative prompt *and* the settings line, with the
negative prompt's start lower-cased.

Files that still exist are re-read with ExifTool (the same path as DB_filler). For the others
the infotext is rebuilt from the stored text and parsed by the parser registry (the A1111
parser, in practice); line breaks inside prompts and the case of the negative prompt's first
words cannot be recovered, and such rows carry ``parser = 'legacy:<parser>'``.
"""
from __future__ import annotations

import json
import logging
import ntpath
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from . import db
from .errors import InputError
from .filler import process_batch
from .models import STATUS_OK, ImageRecord
from .records import StatusTally, container_format, parsed_columns, pixel_size
from .scan import FileEntry, is_foreign_windows_path, normalize_path

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
LEGACY_TABLE = "file_metadata"
LEGACY_COLUMNS = ("file_name", "file_path", "last_modified", "metadata", "metadata_after_prompt")

# where the original's text keeps generation data, and the ExifTool key each one was
_GENERATION_KEYS = {
    "parameters": "PNG:Parameters", "user comment": "ExifIFD:UserComment", "comment": "PNG:Comment",
    "description": "PNG:Description", "image description": "IFD0:ImageDescription",
}
# other tags worth keeping under their ExifTool names (the filler's helpers look for these)
_KNOWN_KEYS = {
    "file type": "File:FileType", "image size": "Composite:ImageSize", "image width": "File:ImageWidth",
    "image height": "File:ImageHeight", "date/time original": "ExifIFD:DateTimeOriginal",
    "create date": "ExifIFD:CreateDate", "creation time": "PNG:CreationTime", "prompt": "PNG:Prompt",
    "workflow": "PNG:Workflow", "software": "PNG:Software", "make": "IFD0:Make", "camera model name": "IFD0:Model",
}
_STEPS_RE = re.compile(r"(?:^|\.)[ \t]*(steps):[ \t]*[-+]?\d", re.IGNORECASE)


@dataclass(frozen=True)
class LegacyRow:
    file_name: str
    file_path: str
    last_modified: Optional[float]
    metadata: Optional[str]
    metadata_after_prompt: Optional[str]


@dataclass(frozen=True)
class LegacyImportSummary:
    legacy_rows: int = 0
    reextracted: int = 0  # files found and read again with ExifTool
    from_text: int = 0  # files gone (or --text-only): parsed from the stored text
    with_generation_data: int = 0
    without_generation_data: int = 0
    unparsed: int = 0
    errors: int = 0
    already_present: int = 0  # paths our database already holds (kept; --force replaces them)
    vanished: int = 0
    elapsed: float = 0.0
    generators: tuple[tuple[str, int], ...] = field(default_factory=tuple)


# -- reading the old database --------------------------------------------------------------

def read_legacy(path: os.PathLike | str) -> list[LegacyRow]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"legacy database not found: {p}")
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open {p}: {exc}") from None
    try:
        try:
            cols = {r[1] for r in con.execute(f"PRAGMA table_info({LEGACY_TABLE})")}
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{p} is not an SQLite database ({exc})") from None
        if not cols:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            hint = " (it is a database of this version already)" if "images" in tables else ""
            raise InputError(f"{p} has no {LEGACY_TABLE} table, so it was not written by the original "
                             f"ExifData Analytics{hint}")
        missing = [c for c in LEGACY_COLUMNS if c not in cols]
        if "file_path" in missing:
            raise InputError(f"{p}: table {LEGACY_TABLE} has no file_path column; cannot import it")
        select = ", ".join(c if c in cols else "NULL" for c in LEGACY_COLUMNS)
        rows = [LegacyRow(*r) for r in con.execute(f"SELECT {select} FROM {LEGACY_TABLE} ORDER BY rowid")]
    finally:
        con.close()
    return rows


# -- rebuilding ExifTool's tags from the stored text ---------------------------------------

def _lines(text: Optional[str]) -> list[tuple[str, str]]:
    out = []
    for line in (text or "").split("\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            out.append((key.strip(), value))
    return out


def _camel(key: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z]+", key) if w) or "Unknown"


def _split_settings(text: str) -> tuple[str, str]:
    """'a cat.Steps: 20, …' -> ('a cat', 'Steps: 20, …'): the settings start at the last
    'Steps:' that begins a line ('.' is how ExifTool showed the line break)."""
    matches = list(_STEPS_RE.finditer(text))
    if not matches:
        return text, ""
    m = matches[-1]
    return text[:m.start()], "Steps" + text[m.end(1):]


def _line_breaks(text: str) -> str:
    """ExifTool showed line breaks as '.'; after a comma a '.' can only have been a line break
    (prompts are comma lists), elsewhere it stays a '.'."""
    return text.replace(",.", ",\n")


def rebuild_tags(metadata: Optional[str], metadata_after_prompt: Optional[str]) -> dict[str, Any]:
    """An ExifTool-like tag dict from the original's two text columns, with the generation
    text (infotext) put back together."""
    before, after = _lines(metadata), _lines(metadata_after_prompt)
    tags: dict[str, Any] = {}
    for key, value in before + after[1:]:
        name = _KNOWN_KEYS.get(key.lower()) or "Legacy:" + _camel(key)
        tags.setdefault(name, value.strip())
    gen_key, infotext = None, None
    if after and before:
        # the text was cut inside the generation tag: its start is the last line before the cut
        gen_key, prompt = before[-1]
        prompt = prompt.strip()
        if prompt.endswith("."):  # the line break before 'Negative prompt:'
            prompt = prompt[:-1]
        negative, settings = _split_settings(f"{after[0][0]}: {after[0][1]}".strip())
        infotext = (f"{_line_breaks(prompt)}\nNegative prompt: {_line_breaks(negative.strip())}"
                    + (f"\n{settings}" if settings else ""))
    else:
        for key, value in before:
            if key.lower() in _GENERATION_KEYS:
                prompt, settings = _split_settings(value.strip())
                gen_key, infotext = key, _line_breaks(prompt) + (f"\n{settings}" if settings else "")
                break
    if gen_key is not None and infotext is not None:
        target = _GENERATION_KEYS.get(gen_key.lower()) or _KNOWN_KEYS.get(gen_key.lower()) or "Legacy:" + _camel(gen_key)
        tags.pop("Legacy:" + _camel(gen_key), None)
        tags[target] = infotext
    return tags


def _legacy_path(stored: str, legacy_db: Path) -> str:
    """The absolute path of a stored file_path: relative ones are tried against the legacy
    database's folder (where the original ran) and the current folder."""
    if is_foreign_windows_path(stored):
        return stored  # a Windows path read on another system: keep it as the user knew it
    expanded = os.path.expanduser(stored)
    if os.path.isabs(expanded):
        return normalize_path(expanded)
    for base in (legacy_db.parent, Path.cwd()):
        candidate = normalize_path(str(base / expanded))
        if os.path.exists(candidate):
            return candidate
    return normalize_path(str(legacy_db.parent / expanded))


def _split_path(path: str) -> tuple[str, str]:
    mod = ntpath if is_foreign_windows_path(path) else os.path
    return mod.basename(path), mod.dirname(path)


def record_from_text(row: LegacyRow, path: str, indexed_at: str) -> tuple[ImageRecord, tuple]:
    """Our row for a legacy row whose file is gone: parsed from the stored text."""
    tags = rebuild_tags(row.metadata, row.metadata_after_prompt)
    mtime_ns = int(round(row.last_modified * 1e9)) if isinstance(row.last_modified, (int, float)) else 0
    cols, resources = parsed_columns(tags, mtime_ns, path=path)
    if cols.get("parser"):
        cols["parser"] = f"legacy:{cols['parser']}"
    else:
        cols["parser"] = "legacy"
    if cols["parse_status"] != STATUS_OK:
        why = cols.get("error")
        cols["error"] = ("file not found; only the original's stored text was available"
                         + (f": {why}" if why else ""))
    width, height = pixel_size(tags)
    file_name, folder = _split_path(path)
    extra = {"Legacy:Metadata": row.metadata, "Legacy:MetadataAfterPrompt": row.metadata_after_prompt}
    record = ImageRecord(
        path=path, file_name=file_name or row.file_name, folder=folder, size_bytes=None, mtime_ns=mtime_ns,
        sha256=None, format=container_format(tags, path), image_width=width, image_height=height,
        raw_json=None, extra_json=json.dumps(extra, ensure_ascii=False), indexed_at=indexed_at, **cols,
    )
    return record, resources


# -- the import ----------------------------------------------------------------------------

def import_legacy(legacy_db: os.PathLike | str, db_path: os.PathLike | str, *, workers: int = 2,
                  batch_size: int = 100, force: bool = False, reextract: bool = True,
                  progress: Optional[Progress] = None, reader_factory: Optional[Callable[[int], Any]] = None
                  ) -> LegacyImportSummary:
    started = time.monotonic()
    legacy_path = Path(legacy_db).expanduser()
    target = Path(db_path).expanduser()
    if target.exists() and legacy_path.exists() and target.resolve() == legacy_path.resolve():
        raise InputError("the legacy database and the target database are the same file; pass --db NEW.db")
    rows = read_legacy(legacy_path)
    con = db.connect(target)
    tally = dict(reextracted=0, from_text=0, present=0, vanished=0)
    outcomes = StatusTally()
    try:
        existing = {r[0]: (r[1], r[2]) for r in con.execute("SELECT path, size_bytes, mtime_ns FROM images")}
        to_read: list[FileEntry] = []
        from_text: list[tuple[LegacyRow, str]] = []
        seen: set[str] = set()
        for row in rows:
            path = _legacy_path(str(row.file_path or row.file_name), legacy_path)
            if path in seen:
                continue
            seen.add(path)
            try:
                st = os.stat(path) if reextract else None
            except OSError:
                st = None
            if st is not None and os.path.isfile(path):
                if not force and existing.get(path) == (st.st_size, st.st_mtime_ns):
                    tally["present"] += 1
                    continue
                to_read.append(FileEntry(path, st.st_size, st.st_mtime_ns))
            elif path in existing and not force:
                tally["present"] += 1
            else:
                from_text.append((row, path))
        total = len(to_read) + len(from_text)
        done = 0
        if progress:
            progress(0, total)

        def store(records) -> None:
            nonlocal done
            db.write_batch(con, records)
            outcomes.add_records(records)
            done += len(records)
            if progress:
                progress(done, total)

        indexed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        size = max(1, batch_size)
        for i in range(0, len(from_text), size):
            records = [record_from_text(r, p, indexed_at) for r, p in from_text[i:i + size]]
            store(records)
            tally["from_text"] += len(records)
        if to_read:
            from .exiftool import ExifToolPool

            make_reader = reader_factory or (lambda n: ExifToolPool(workers=n))
            with make_reader(max(1, workers)) as reader:
                for i in range(0, len(to_read), size):
                    result = process_batch(reader, to_read[i:i + size])
                    tally["vanished"] += result.vanished
                    store(result.records)
                    tally["reextracted"] += len(result.records)
        db.refresh_canonical_names(con)
    finally:
        con.close()
    summary = LegacyImportSummary(
        legacy_rows=len(rows), reextracted=tally["reextracted"], from_text=tally["from_text"],
        with_generation_data=outcomes.ok, without_generation_data=outcomes.no_metadata, unparsed=outcomes.unparsed,
        errors=outcomes.errors, already_present=tally["present"], vanished=tally["vanished"],
        elapsed=time.monotonic() - started, generators=outcomes.by_generator(),
    )
    logger.info("legacy import from %s into %s: %s", legacy_path, target, summary)
    return summary


__all__ = ["LegacyRow", "LegacyImportSummary", "read_legacy", "rebuild_tags", "record_from_text",
           "import_legacy", "LEGACY_TABLE", "LEGACY_COLUMNS"]
