"""The one declaration of what the database stores about an image.

``IMAGE_COLUMNS`` is the table of the ``images`` columns: name, Python type, SQL declaration,
group and meaning. Everything else is derived from it:

* ``ImageRecord``: one row of ``images`` (every column but ``id``), in column order;
* ``GenerationParams``: what a parser returns, the *recipe* columns plus the long tail
  (``params``, stored as ``params_json``) and the image's resources (table ``resources``);
* ``RECIPE_COLUMNS`` / ``RECORD_COLUMNS``: the names, for SQL statements and for filling rows.

The schema itself is written by the migrations in ``db`` (a migration is history and never
changes); ``tests/test_models.py`` checks that a new database's ``PRAGMA table_info(images)``
equals this table. A new column is: one row here, one migration, and the parsers that fill it.
"""
from __future__ import annotations

import logging
from dataclasses import MISSING, dataclass, field, make_dataclass
from typing import Any, Mapping, Optional

logger = logging.getLogger(__name__)

# parse_status values: what became of an image's metadata
STATUS_OK = "ok"  # a parser recognised it: the recipe columns are filled
STATUS_NO_METADATA = "no_metadata"  # no generation metadata at all (photos, plain PNGs)
STATUS_UNPARSED = "unparsed"  # looks like generation data, but no parser understood it (``error`` says why)
STATUS_ERROR = "error"  # the file or its metadata could not be read (``error`` says why)
STATUSES = (STATUS_OK, STATUS_NO_METADATA, STATUS_UNPARSED, STATUS_ERROR)

# A key of params_json that the ComfyUI parser writes and coverage counts: the node classes that a
# traced setting or prompt was linked to but could not be read from (the parser's next gaps).
UNREAD_NODES_KEY = "Unread nodes"
# Another: the fields where a save node's A1111-style text disagrees with the graph (the graph's
# values are kept; the text's are under params["infotext"]).
SAVER_TEXT_DIFFERS_KEY = "Saver text differs"

# created_source values: where created_at came from (``dates``), most trusted first
CREATED_EMBEDDED = "embedded"  # EXIF/XMP/IPTC/PNG dates in the file
CREATED_GENERATOR = "generator"  # a time the generation metadata records
CREATED_FILE_NAME = "file_name"  # a date (and time) in the base name
CREATED_FOLDER = "folder"  # a date folder
CREATED_MTIME = "mtime"  # the file's modification time
CREATED_SOURCES = (CREATED_EMBEDDED, CREATED_GENERATOR, CREATED_FILE_NAME, CREATED_FOLDER, CREATED_MTIME)

# column groups
ROWID = "rowid"  # the integer key SQLite assigns
FILE = "file"  # what the file system and the container say
RECIPE = "recipe"  # what a parser read: the generation parameters (GenerationParams)
STORED = "stored"  # the record of the reading: JSON documents, dates, outcome, bookkeeping
CANONICAL = "canonical"  # one name per thing, derived from the recipe (``names``), never written over it


@dataclass(frozen=True)
class Column:
    name: str
    type: Any  # the Python type of the value (None allowed unless the SQL says NOT NULL)
    sql: str  # the declaration after the name in CREATE TABLE
    group: str
    doc: str

    @property
    def sql_type(self) -> str:
        """The declared SQL type ('' for an untyped column)."""
        word = self.sql.split(" ", 1)[0] if self.sql else ""
        return word if word.isupper() and word not in ("NOT", "PRIMARY") else ""

    @property
    def not_null(self) -> bool:
        return "NOT NULL" in self.sql or "PRIMARY KEY" in self.sql


IMAGE_COLUMNS: tuple[Column, ...] = (
    Column("id", int, "INTEGER PRIMARY KEY", ROWID, "row id; resources refer to it"),
    Column("path", str, "TEXT NOT NULL UNIQUE", FILE, "absolute, normalized path of the file"),
    Column("file_name", str, "TEXT NOT NULL", FILE, "base name"),
    Column("folder", str, "TEXT NOT NULL", FILE, "parent directory"),
    Column("size_bytes", Optional[int], "INTEGER", FILE, "file size, for incremental re-scans"),
    Column("mtime_ns", Optional[int], "INTEGER", FILE, "modification time in ns, for incremental re-scans"),
    Column("sha256", Optional[str], "TEXT", FILE, "content hash (duplicates, moved files)"),
    Column("format", Optional[str], "TEXT", FILE, "container: PNG, JPEG, WEBP, …"),
    Column("image_width", Optional[int], "INTEGER", FILE, "pixel width"),
    Column("image_height", Optional[int], "INTEGER", FILE, "pixel height"),
    Column("generator", Optional[str], "TEXT", RECIPE,
           "normalized tool name (A1111, Forge, ComfyUI, …); NULL without generation data"),
    Column("prompt", Optional[str], "TEXT", RECIPE, "prompt as the tool wrote it (line breaks kept)"),
    Column("negative_prompt", Optional[str], "TEXT", RECIPE, "negative prompt as the tool wrote it"),
    Column("steps", Optional[int], "INTEGER", RECIPE, "sampling steps"),
    # no type: ComfyUI seeds reach 2**64-1, past SQLite's INTEGER; those stay exact as TEXT
    Column("seed", Optional[int], "", RECIPE, "seed (untyped: seeds past 2**63 are kept exactly, as text)"),
    Column("sampler", Optional[str], "TEXT", RECIPE, "sampler as written (A1111 before 1.9 includes the schedule)"),
    Column("scheduler", Optional[str], "TEXT", RECIPE, "schedule as written (A1111 1.9+ 'Schedule type')"),
    Column("cfg_scale", Optional[float], "REAL", RECIPE, "CFG scale"),
    Column("denoising_strength", Optional[float], "REAL", RECIPE, "denoising strength (img2img, hires)"),
    Column("width", Optional[int], "INTEGER", RECIPE, "generation width (not the pixel width)"),
    Column("height", Optional[int], "INTEGER", RECIPE, "generation height (not the pixel height)"),
    Column("model", Optional[str], "TEXT", RECIPE, "checkpoint as written"),
    Column("model_hash", Optional[str], "TEXT", RECIPE, "checkpoint hash as written"),
    Column("vae", Optional[str], "TEXT", RECIPE, "VAE as written"),
    Column("clip_skip", Optional[int], "INTEGER", RECIPE, "CLIP skip"),
    Column("params_json", Optional[str], "TEXT", STORED, "every parsed key/value as JSON (the long tail)"),
    Column("raw_json", Optional[str], "TEXT", STORED, "ExifTool's JSON for the file, unmodified"),
    Column("extra_json", Optional[str], "TEXT", STORED,
           "tags our own readers found where ExifTool cannot look (stealth pixels, a legacy import's text)"),
    Column("created_at", Optional[str], "TEXT", STORED,
           "when the image was made, from the best source (created_source); ISO 8601, YYYY-MM-DD for a day only"),
    Column("parse_status", str, "TEXT NOT NULL", STORED, "ok / no_metadata / unparsed / error"),
    Column("error", Optional[str], "TEXT", STORED, "why the status is not ok"),
    Column("parser", Optional[str], "TEXT", STORED, "the parser that read the recipe"),
    Column("indexed_at", str, "TEXT NOT NULL", STORED, "when the row was written (UTC, ISO 8601)"),
    # schema 2
    Column("canonical_sampler", Optional[str], "TEXT", CANONICAL,
           "the sampler algorithm in A1111's vocabulary (Euler a, DPM++ 2M, …), whatever the tool wrote"),
    Column("canonical_scheduler", Optional[str], "TEXT", CANONICAL,
           "the schedule (Karras, Normal, …): from scheduler, or implied by the sampler's spelling"),
    Column("canonical_model", Optional[str], "TEXT", CANONICAL,
           "the checkpoint as one entity (folders, extension and case dropped; linked by hash), "
           "under its most used spelling"),
    Column("canonical_vae", Optional[str], "TEXT", CANONICAL, "the VAE as one entity, under its most used spelling"),
    Column("created_source", Optional[str], "TEXT", STORED,
           "where created_at came from: embedded, generator, file_name, folder or mtime"),
    # schema 5: videos and animations (NULL for a still image)
    Column("duration_s", Optional[float], "REAL", FILE, "play time in seconds of a video or animation"),
    Column("frame_rate", Optional[float], "REAL", FILE,
           "frames per second: the video track's, or an animation's frames over its duration"),
    Column("frame_count", Optional[int], "INTEGER", FILE, "frames of an animation (GIF, APNG, WebP) or video"),
)

COLUMNS_BY_NAME: Mapping[str, Column] = {c.name: c for c in IMAGE_COLUMNS}
# every column of a row as written (all but id), in table order
RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in IMAGE_COLUMNS if c.group != ROWID)
RECIPE_COLUMNS: tuple[str, ...] = tuple(c.name for c in IMAGE_COLUMNS if c.group == RECIPE)
CANONICAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in IMAGE_COLUMNS if c.group == CANONICAL)
# as-written column -> the canonical column beside it ('sampler' -> 'canonical_sampler')
CANONICAL_OF: Mapping[str, str] = {name.removeprefix("canonical_"): name for name in CANONICAL_COLUMNS}


@dataclass(frozen=True)
class Resource:
    """A network or model an image was made with (LoRA, embedding, checkpoint, …)."""

    kind: str  # 'lora', 'lycoris', 'embedding', 'hypernetwork', 'checkpoint', 'vae', …
    name: str
    hash: Optional[str] = None
    weight: Optional[float] = None
    source: str = ""  # where it was found: 'prompt', 'Lora hashes', 'Civitai resources', …
    # the resource as one entity (``names``); derived, so not part of what a parser found
    canonical_name: Optional[str] = field(default=None, compare=False)


def _derived(name: str, doc: str, spec: list, **options) -> type:
    cls = make_dataclass(name, spec, frozen=True, **options)
    cls.__module__ = __name__  # make_dataclass would name the caller's caller; pickling needs this module
    cls.__doc__ = doc
    return cls


# Keyword-only, and a column that may be NULL defaults to None: code that builds records
# (tests, benchmarks, importers) names what it knows and need not change for a new column.
ImageRecord = _derived(
    "ImageRecord", "One row of ``images`` (every column but ``id``), in column order.",
    [(c.name, c.type) if c.not_null else (c.name, c.type, field(default=None))
     for c in IMAGE_COLUMNS if c.group != ROWID], kw_only=True)

# The recipe columns, all optional but the generator, then the long tail and the resources.
GenerationParams = _derived(
    "GenerationParams", "The generation recipe of one image, in the database's column vocabulary. "
                        "``width``/``height`` are the generation size, not the pixel size; ``params`` holds "
                        "every parsed key/value, including the long tail (hires, ADetailer, …).",
    [(c.name, c.type, field(default=MISSING if c.name == "generator" else None))
     for c in IMAGE_COLUMNS if c.group == RECIPE]
    + [("params", Mapping[str, Any], field(default_factory=dict)),
       ("resources", tuple[Resource, ...], field(default=()))])
