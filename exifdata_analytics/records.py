"""One file's tags -> one row of ``images`` (an ``ImageRecord``) and its resources.

The parts of a record that do not come from a parser live here too: the container format,
the pixel size from the picture's own header, the creation date (computed by ``dates``), the
content hash, the tags hidden in the pixels (stealth), and ``StatusTally``, the one count of
outcomes that a fill, a re-parse and a legacy import report.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from .dates import creation_time
from .exiftool import FileTags
from .models import (COLUMNS_BY_NAME, RECIPE_COLUMNS, STATUS_ERROR, STATUS_NO_METADATA, STATUS_OK,
                     STATUS_UNPARSED, ImageRecord, Resource)
from .motion import motion_of
from .parsers import parse_tags
from .parsers.tags import IndexedTags, find_tag, iter_tags
from .safe_files import sha256_of_file
from .scan import FileEntry
from .stealth import STEALTH_TAG, read_stealth_text

logger = logging.getLogger(__name__)


# No image generator writes files this large; past it a file is refused unread (an error row)
# rather than hashed and handed to ExifTool, which spent minutes in the zeros of a sparse
# 2 GB PNG. Below it, hashing stops within one chunk when the run is interrupted.
MAX_FILE_BYTES = 2 * 1024**3


def sha256_of(path: str, stop: Optional[threading.Event] = None) -> str:
    """The content hash of a regular file (checked at open, bounded by its size then);
    NotRegularFileError, FileTooLargeError, or ReadStopped once ``stop`` is set."""
    return sha256_of_file(path, stop, max_bytes=MAX_FILE_BYTES)


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


def _json_default(value: Any) -> Any:
    return str(value)


# the recipe columns of a row that has none (no generation data, or none could be read)
_NO_RECIPE = dict.fromkeys((*RECIPE_COLUMNS, "params_json", "parser"))
# recipe columns holding reals: NaN/Infinity from a graph are stored as NULL
_REAL_RECIPE = frozenset(name for name in RECIPE_COLUMNS if COLUMNS_BY_NAME[name].sql_type == "REAL")


def parsed_columns(tags: Optional[dict], mtime_ns: Optional[int], extraction_error: Optional[str] = None, *,
                   path: str) -> tuple[dict, tuple[Resource, ...]]:
    """The parsed columns of one image (the recipe, params_json, parser, parse_status, error,
    created_at, created_source) and its resources. ``path`` is the file's: its name and
    folders may date it."""
    if tags is None:
        cols = dict(_NO_RECIPE, parse_status=STATUS_ERROR, error=extraction_error or "no metadata could be read")
        return _dated(cols, None, None, path, mtime_ns), ()
    if not isinstance(tags, IndexedTags):
        tags = IndexedTags(tags)
    outcome = parse_tags(tags)
    exif_error = find_tag(tags, "Error", ("ExifTool",))
    if outcome.status == STATUS_OK and outcome.params is not None:
        p = outcome.params
        cols = {name: getattr(p, name) for name in RECIPE_COLUMNS}
        for name in _REAL_RECIPE:
            cols[name] = _finite(cols[name])
        cols.update(params_json=json.dumps(dict(p.params), ensure_ascii=False, default=_json_default),
                    parser=outcome.parser, parse_status=STATUS_OK, error=None)
        return _dated(cols, tags, p.params, path, mtime_ns), tuple(p.resources)
    status, error = outcome.status, outcome.error
    if exif_error and status in (STATUS_NO_METADATA, STATUS_UNPARSED):
        status, error = STATUS_ERROR, f"ExifTool: {exif_error}"
    cols = dict(_NO_RECIPE, parse_status=status, error=error)
    return _dated(cols, tags, None, path, mtime_ns), ()


def _dated(cols: dict, tags: Optional[dict], params: Optional[dict], path: str, mtime_ns: Optional[int]) -> dict:
    cols["created_at"], cols["created_source"] = creation_time(tags, params, path, mtime_ns, cols.get("seed"))
    return cols


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
                 ) -> tuple[ImageRecord, tuple[Resource, ...]]:
    tags = IndexedTags(ft.tags) if ft.tags is not None else None
    fmt = container_format(tags, entry.path)
    cols, resources = parsed_columns(tags, entry.mtime_ns, ft.error, path=entry.path)
    extra = None
    if tags is not None and cols["parse_status"] == STATUS_NO_METADATA:
        # only files without any text metadata pay for decoding pixels
        extra = stealth_tags(entry.path, fmt)
        if extra:
            cols, resources = parsed_columns(merged_tags(tags, extra), entry.mtime_ns, ft.error, path=entry.path)
    width, height = pixel_size(tags)
    motion = motion_of(tags)
    record = ImageRecord(
        path=entry.path, file_name=os.path.basename(entry.path), folder=os.path.dirname(entry.path),
        size_bytes=entry.size, mtime_ns=entry.mtime_ns, sha256=sha256,
        format=fmt, image_width=width, image_height=height, raw_json=ft.raw_json,
        duration_s=motion.duration_s, frame_rate=motion.frame_rate, frame_count=motion.frame_count,
        extra_json=json.dumps(extra, ensure_ascii=False) if extra else None, indexed_at=indexed_at, **cols,
    )
    return record, resources


@dataclass
class StatusTally:
    """Records counted by outcome, and the images with generation data per generator."""

    ok: int = 0
    no_metadata: int = 0
    unparsed: int = 0
    errors: int = 0
    generators: Counter = field(default_factory=Counter)

    def add(self, status: str, generator: Optional[str]) -> None:
        if status == STATUS_OK:
            self.ok += 1
            self.generators[generator or "?"] += 1
        elif status == STATUS_NO_METADATA:
            self.no_metadata += 1
        elif status == STATUS_UNPARSED:
            self.unparsed += 1
        else:
            self.errors += 1

    def add_records(self, records) -> None:
        """Count ``(ImageRecord, resources)`` pairs as a batch returns them; each file that could
        not be read or understood gets a line in the log with its reason (the run's summary
        points there)."""
        for record, _ in records:
            self.add(record.parse_status, record.generator)
            if record.parse_status == STATUS_UNPARSED:
                logger.info("not recognised: %s: %s", record.path, record.error or "(no reason recorded)")
            elif record.parse_status not in (STATUS_OK, STATUS_NO_METADATA):
                logger.warning("failed: %s: %s", record.path, record.error or "(no reason recorded)")

    def by_generator(self) -> tuple[tuple[str, int], ...]:
        """Most images first, then by name."""
        return tuple(sorted(self.generators.items(), key=lambda kv: (-kv[1], kv[0])))
