"""Which images a statistic counts, and reading them: filters (compiled by the search
language), the selection frame (one row per image, compact columns), prompt texts,
embeddings and resources, with duplicate copies (same ``sha256``) counted once.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Iterator, Optional, Protocol, Sequence

import numpy as np
import pandas as pd

from .. import db
from ..errors import DatabaseError, InputError
from ..models import CANONICAL_OF
from ..scan import normalize_path
from ..search import FIELD_NAMES, And, CompiledQuery, Field, Node, Or, compile_tree, parse_query, tokenize
from .columns import Labels
from .counts import TEXT_COLUMNS, label

logger = logging.getLogger(__name__)

COMPARE_KEYS = ("folder", "model", "generator", "since", "until")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_COLUMNS = ("id", "format", "generator", "steps", "sampler", "scheduler", "cfg_scale", "denoising_strength",
            "width", "height", "model", "vae", "clip_skip", "created_at", "parse_status", "created_source")
# flags computed by SQLite, so the (long) texts are read only where they are used
_FLAGS = ("seed IS NOT NULL AS has_seed",
          "(prompt IS NOT NULL AND trim(prompt) != '') AS has_prompt",
          "(negative_prompt IS NOT NULL AND trim(negative_prompt) != '') AS has_negative")
# The hour of the file's mtime (local time, as created_at's) for an image dated by day only
# whose mtime falls on that day: the habits' time of day for it (analysis.timeline).
_MTIME_HOUR = ("CASE WHEN length(created_at) = 10 AND mtime_ns > 0 AND date(mtime_ns / 1000000000, 'unixepoch', "
               "'localtime') = created_at THEN CAST(strftime('%H', mtime_ns / 1000000000, 'unixepoch', "
               "'localtime') AS INTEGER) END AS mtime_hour")
# parameter columns read as labels: stripped once at load, empty strings become missing
_LABEL_COLUMNS = frozenset({*TEXT_COLUMNS, "format", "parse_status", "created_source"})
_NUMBER_COLUMNS = frozenset({"steps", "cfg_scale", "denoising_strength", "width", "height", "clip_skip"})
CHUNK_ROWS = 20_000  # rows read at a time: each chunk's Python objects are freed before the next



@dataclass(frozen=True)
class Filters:
    """Which images to analyse. Several values of one filter are alternatives (OR);
    different filters must all hold (AND), and so must every ``where`` query (the search
    language of ``parameter_statistic_DB.py search``). Dates are inclusive ``YYYY-MM-DD``.
    Every filter compiles through the search language's compiler, so a filter and the
    search field of the same name select the same images."""

    folders: tuple[str, ...] = ()  # a folder and its subfolders (absolute paths)
    models: tuple[str, ...] = ()  # case-insensitive, part of the name (search: model:TEXT)
    generators: tuple[str, ...] = ()  # case-insensitive, whole name (search: generator=NAME)
    since: Optional[str] = None
    until: Optional[str] = None
    where: tuple[str, ...] = ()  # search queries, e.g. 'model:pony steps>=30'

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not _DATE_RE.match(value):
                raise InputError(f"{name} date {value!r} is not YYYY-MM-DD (e.g. 2024-03-31)")
        self.compiled  # a query that cannot mean anything fails here, not halfway through a run

    @property
    def active(self) -> bool:
        return bool(self.folders or self.models or self.generators or self.since or self.until or self.where)

    @cached_property
    def compiled(self) -> CompiledQuery:
        parts: list[Optional[Node]] = [
            _any_of(Field("folder", ":", f) for f in self.folders),
            _any_of(Field("model", ":", m) for m in self.models),
            _any_of(Field("generator", "=", g) for g in self.generators),
            Field("since", ":", self.since) if self.since else None,
            Field("until", ":", self.until) if self.until else None,
        ]
        notes: list[str] = []
        for query in self.where:
            node, query_notes = parse_query(query)
            parts.append(node)
            notes += [f"--where {query!r}: {note}" for note in query_notes]
        kept = tuple(p for p in parts if p is not None)
        node = None if not kept else kept[0] if len(kept) == 1 else And(kept)
        return compile_tree(node, self.describe(), tuple(notes))

    @property
    def notes(self) -> tuple[str, ...]:
        """What the search language forgave in the ``where`` queries (unknown fields, …)."""
        return self.compiled.notes

    def sql(self) -> tuple[str, list]:
        """The WHERE clause over ``images`` and its parameters."""
        return self.compiled.where, list(self.compiled.params)

    def describe(self) -> str:
        parts = [f"folder {f}" for f in self.folders]
        parts += [f"model contains {m!r}" for m in self.models]
        parts += [f"generator {g}" for g in self.generators]
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        parts += [f"where {q!r}" for q in self.where]
        return "; ".join(parts) if parts else "none (whole database)"


def _any_of(fields: Iterable[Field]) -> Optional[Node]:
    alternatives = tuple(fields)
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else Or(alternatives)


# 'KEY=VALUE[;KEY=VALUE…]' subsets of --compare (before the search language came)
_COMPARE_PART_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)")


def _is_key_value_spec(spec: str) -> bool:
    """Whether a --compare subset is written as KEY=VALUE pairs rather than a search query:
    every part is KEY=… and either there are several, or the key is a comparison key or no
    search field at all (``colour=red`` is a mistyped pair; ``sampler=Euler`` is a search)."""
    parts = [p for p in spec.split(";") if p.strip()]
    keys = [m.group(1).lower() for m in map(_COMPARE_PART_RE.match, parts) if m]
    if not parts or len(keys) < len(parts):
        return False
    return len(parts) > 1 or keys[0] in COMPARE_KEYS or keys[0] not in FIELD_NAMES


def parse_compare_spec(spec: str) -> Filters:
    """One side of ``--compare``: 'folder=/a/b', 'generator=ComfyUI;since=2024-01-01', or a
    query of the search language naming at least one field ('model:pony steps>=30',
    'prompt:cat'), so that a mistyped pair is not silently read as prompt words."""
    if not _is_key_value_spec(spec):
        fields = [t.field.lower() for t in tokenize(spec, []) if t.field is not None]
        if fields and all(f in FIELD_NAMES for f in fields):
            return Filters(where=(spec,))
        raise InputError(_unreadable_spec(spec) + ", or a search query with a field (e.g. 'model:pony steps>=30' "
                         "or prompt:cat)")
    values: dict[str, list[str]] = {k: [] for k in COMPARE_KEYS}
    for part in spec.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in values or not value.strip():
            raise InputError(_unreadable_spec(spec))
        values[key].append(value.strip())
    for key in ("since", "until"):
        if len(values[key]) > 1:
            raise InputError(f"comparison subset {spec!r} names {key} twice")
    return Filters(folders=tuple(normalize_path(f) for f in values["folder"]),
                   models=tuple(values["model"]), generators=tuple(values["generator"]),
                   since=values["since"][0] if values["since"] else None,
                   until=values["until"][0] if values["until"] else None)


def _unreadable_spec(spec: str) -> str:
    return (f"cannot read comparison subset {spec!r}: use KEY=VALUE with KEY one of {', '.join(COMPARE_KEYS)} "
            "(e.g. folder=/images/2024 or since=2024-01-01)")

@dataclass(frozen=True)
class Selection:
    """The images to analyse (one DataFrame row per image, ``id`` as column) and how they
    were chosen."""

    frame: pd.DataFrame
    total_rows: int  # rows in the database
    matching_rows: int  # rows passing the filters, before de-duplication
    duplicates_dropped: int
    filters: Filters
    dedupe: bool

    @property
    def images(self) -> int:
        return len(self.frame)


def check_schema(con: sqlite3.Connection) -> None:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "images" not in tables:
        raise DatabaseError("the database has no images table yet (it is empty); "
                            "index a folder first: python DB_filler.py DIR -r")


def _read_as(column: str, raw_names: bool, present: frozenset[str] | set[str]) -> str:
    """The SQL that reads ``column`` for the statistics: its canonical value (one name per
    sampler, schedule, model, VAE) unless the as-written names are asked for."""
    canonical = None if raw_names else CANONICAL_OF.get(column)
    if canonical and canonical in present:
        return f"{canonical} AS {column}"
    return column if column in present else f"NULL AS {column}"


class ChunkReader(Protocol):
    """What else counts the selected rows while ``load_selection`` reads them: its SQL
    expressions (``COLUMNS``) are read in the same scan, and each chunk of their values (one
    sequence per expression) is given to ``add``."""

    COLUMNS: tuple[str, ...]

    def add(self, columns: Sequence[Sequence]) -> None: ...


def load_selection(con: sqlite3.Connection, filters: Filters = Filters(), dedupe: bool = True,
                   subset: Optional[Filters] = None, raw_names: bool = False,
                   also: Sequence[ChunkReader] = ()) -> Selection:
    """Read the columns the statistics need for the selected images (those passing
    ``filters`` and, for one side of a comparison, ``subset`` too). Sampler, scheduler, model
    and VAE are their canonical values, or as written with ``raw_names``. ``also``: readers of
    more columns of the same rows (coverage), fed in the same scan: a library of a million
    images is read from disk once, not once per statistic."""
    check_schema(con)
    where, args = _where(filters, subset)
    total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    matching = total if where == "1" else con.execute(f"SELECT COUNT(*) FROM images WHERE {where}", args).fetchone()[0]
    computed = (*_FLAGS, _MTIME_HOUR)
    names = [*_COLUMNS, *(flag.rsplit(" AS ", 1)[1] for flag in computed)]
    # a database that could not be upgraded (written by an older version, now read-only) lacks the
    # later columns: they read as NULL, the canonical ones as the names as written
    present = {row[1] for row in con.execute("PRAGMA table_info(images)")}
    columns = ", ".join(_read_as(c, raw_names, present) for c in _COLUMNS)
    where, args = _first_copies(where, args, dedupe)
    # a reader's bare column that this database lacks (read-only, not upgraded) reads as NULL
    more = [expression if not expression.isidentifier() or expression in present else f"NULL AS {expression}"
            for reader in also for expression in reader.COLUMNS]
    cur = con.execute(f"SELECT {', '.join([columns, *computed, *more])} FROM images WHERE {where} ORDER BY id", args)
    builder = _FrameBuilder(names)
    for rows in iter(lambda: cur.fetchmany(CHUNK_ROWS), []):
        values = list(zip(*rows))
        builder.add(values[:len(names)])
        start = len(names)
        for reader in also:
            reader.add(values[start:start + len(reader.COLUMNS)])
            start += len(reader.COLUMNS)
    frame = builder.frame()
    logger.info("selected %d images (%d rows match the filters, %d in the database)", len(frame), matching, total)
    return Selection(frame=frame, total_rows=total, matching_rows=matching,
                     duplicates_dropped=matching - len(frame), filters=filters, dedupe=dedupe)


def _to_hour(value: object) -> Optional[str]:
    """created_at to the hour ('YYYY-MM-DD HH:'), all the statistics read of it; a date
    without a time stays 'YYYY-MM-DD'."""
    return None if value is None else str(value)[:14]


class _FrameBuilder:
    """The selection frame from chunks of rows: numbers as float arrays, labels (model,
    sampler, …, and ``created_at`` to the hour as ``created_to_hour``) as categoricals; a
    million images take about 70 bytes each."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = list(names)
        self._labels = {name: Labels(_to_hour if name == "created_at" else label) for name in names
                        if name in _LABEL_COLUMNS or name == "created_at"}
        self._parts: dict[str, list] = {name: [] for name in names}

    def add(self, columns: Sequence[Sequence]) -> None:
        """One chunk, as columns (one sequence of values per name)."""
        for name, values in zip(self._names, columns):
            labels = self._labels.get(name)
            if labels:
                part = labels.codes(values)
            elif name in _NUMBER_COLUMNS or name == "mtime_hour":
                part = _floats(values)
            else:  # id, the has_ flags
                part = np.array(values, dtype=np.int64 if name == "id" else bool)
            self._parts[name].append(part)

    def frame(self) -> pd.DataFrame:
        columns = {}
        for name in self._names:
            part = self._parts.pop(name)
            if name in self._labels:
                columns["created_to_hour" if name == "created_at" else name] = self._labels[name].categorical(part)
            else:
                empty = np.array([], dtype=np.int64 if name == "id" else bool if name.startswith("has_") else float)
                columns[name] = np.concatenate(part) if part else empty
        return pd.DataFrame(columns)


def compact_frame(rows: dict[str, Sequence]) -> pd.DataFrame:
    """A selection frame from columns of values (``load_selection``'s columns, e.g. in tests)."""
    names = list(rows)
    builder = _FrameBuilder(names)
    builder.add([rows[n] for n in names])
    return builder.frame()


def _floats(values: Sequence) -> np.ndarray:
    try:
        return np.array(values, dtype=float)  # None becomes NaN
    except (TypeError, ValueError):  # text in a number column (hand-edited databases)
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def selection_sql(filters: Filters, dedupe: bool = True) -> tuple[str, list]:
    """A WHERE clause for the selected images in SQL: the filters, and with ``dedupe`` only the
    first indexed copy of each content (the lowest id per sha256; rows without a hash all
    stay), the same rows ``load_selection`` keeps."""
    where, args = filters.sql()
    return _first_copies(where, args, dedupe)


def _first_copies(where: str, args: list, dedupe: bool) -> tuple[str, list]:
    """``where`` narrowed, with ``dedupe``, to the first copy of each content among its rows.
    SQLite groups the hashes on its own pages: no set of a million hashes in Python."""
    if not dedupe:
        return where, args
    return (f"({where}) AND (sha256 IS NULL OR id IN (SELECT MIN(id) FROM images WHERE ({where}) "
            "AND sha256 IS NOT NULL GROUP BY sha256))"), args + args


def _where(filters: Filters, subset: Optional[Filters] = None) -> tuple[str, list]:
    where, args = filters.sql()
    if subset is not None:
        where2, args2 = subset.sql()
        where, args = f"({where}) AND ({where2})", args + args2
    return where, args


TEXT_CHUNK_ROWS = CHUNK_ROWS  # texts read at a time: a chunk's strings take a few MB whatever the library's size


def iter_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
               subset: Optional[Filters] = None,
               rows: int = TEXT_CHUNK_ROWS) -> Iterator[tuple[list[int], list[str], list[tuple[str, ...]]]]:
    """The non-empty ``prompt`` or ``negative_prompt`` texts of the selected images (the same
    images as ``load_selection``) in id order, ``rows`` at a time: (image ids, texts, and per
    text the sorted names of the embeddings its image uses)."""
    if column not in ("prompt", "negative_prompt"):
        raise ValueError(column)
    where, args = _first_copies(*_where(filters, subset), dedupe)
    cur = con.execute(f"SELECT id, {column}, (SELECT group_concat(name, char(31)) FROM resources "
                      "WHERE resources.image_id = images.id AND lower(resources.kind) = 'embedding') "
                      f"FROM images WHERE ({where}) AND {column} IS NOT NULL AND trim({column}) != '' ORDER BY id",
                      args)
    while True:
        batch = cur.fetchmany(rows)
        if not batch:
            return
        ids, texts, names = [], [], []
        for image_id, text, embeddings in batch:
            if isinstance(text, str) and text and not text.isspace():
                ids.append(image_id)
                texts.append(text)
                names.append(_embedding_names(embeddings))
        yield ids, texts, names


def _embedding_names(joined: Optional[str]) -> tuple[str, ...]:
    if not joined:
        return ()
    return tuple(sorted({n.strip() for n in joined.split("\x1f") if n.strip()}))


def load_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
               subset: Optional[Filters] = None) -> pd.Series:
    """All of ``iter_texts``' texts, indexed by image id."""
    return texts_series(iter_texts(con, column, filters, dedupe, subset))


def texts_series(chunks: Iterable[tuple]) -> pd.Series:
    """Chunks of (image ids, texts, …) as one Series of the texts, indexed by image id."""
    ids: list[int] = []
    texts: list[str] = []
    for chunk_ids, chunk_texts, *_ in chunks:
        ids.extend(chunk_ids)
        texts.extend(chunk_texts)
    return pd.Series(texts, index=pd.Index(ids, dtype="int64"), dtype=object)


def load_resources(con: sqlite3.Connection, ids: pd.Series, raw_names: bool = False) -> pd.DataFrame:
    """image_id, kind, name, weight of the selected images' resources; the name is the
    resource's canonical name (one per file) unless ``raw_names``. Read in chunks; kind and
    name are categoricals (``columns.Labels``)."""
    wanted = np.unique(ids.to_numpy(dtype=np.int64))
    name = "name" if raw_names else "COALESCE(canonical_name, name)"
    cur = con.execute(f"SELECT image_id, lower(kind), {name}, weight FROM resources")
    labels = {"kind": Labels(lambda kind: kind if isinstance(kind, str) else None),
              "name": Labels(lambda n: label(n) if isinstance(n, str) else None)}
    parts: dict[str, list] = {"image_id": [], "kind": [], "name": [], "weight": []}
    for rows in iter(lambda: cur.fetchmany(CHUNK_ROWS), []):
        image_ids, kinds, names, weights = zip(*rows)
        image_ids = np.array([i if isinstance(i, int) else -1 for i in image_ids], dtype=np.int64)
        name_codes = labels["name"].codes(names)
        keep = np.isin(image_ids, wanted) & (name_codes >= 0)
        if keep.any():
            parts["image_id"].append(image_ids[keep])
            parts["kind"].append(labels["kind"].codes(kinds)[keep])
            parts["name"].append(name_codes[keep])
            parts["weight"].append(pd.to_numeric(pd.Series(weights, dtype=object)[keep], errors="coerce")
                                   .to_numpy(dtype=float))
    return pd.DataFrame({
        "image_id": np.concatenate(parts["image_id"]) if parts["image_id"] else np.array([], dtype=np.int64),
        "kind": labels["kind"].categorical(parts["kind"]),
        "name": labels["name"].categorical(parts["name"]),
        "weight": np.concatenate(parts["weight"]) if parts["weight"] else np.array([], dtype=float)})


def snapshot_fingerprint(con: sqlite3.Connection) -> tuple:
    """What identifies the state of the images table a read transaction sees: two readers with
    equal fingerprints counted the same rows (DB_filler inserts rows with new ids, and a
    re-extracted file gets a new indexed_at and mtime)."""
    return tuple(con.execute("SELECT COUNT(*), MAX(id), MAX(indexed_at), TOTAL(mtime_ns) FROM images").fetchone())


@contextmanager
def read_snapshot(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction (unless the caller holds one already): every query inside sees the
    same rows even while DB_filler.py commits."""
    own = not con.in_transaction
    if own:
        con.execute("BEGIN")
    try:
        yield con
    finally:
        if own and con.in_transaction:
            con.execute("COMMIT")


def open_database(path) -> sqlite3.Connection:
    """The database, read-only (statistics never write)."""
    con = db.connect(path, readonly=True)
    check_schema(con)
    return con
