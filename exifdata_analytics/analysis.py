"""parameter_statistic's computations: the database -> pandas -> plain, typed results.

Nothing here prints, plots or writes files: ``analyse()`` returns an ``Analysis`` that
``reports`` and ``plots`` format. Everything is vectorised or sparse so that 100,000 images
stay within seconds and a few hundred MB (the original looped row by row over pandas and
built a dense TF-IDF matrix).

Conventions shared by every statistic:
* empty values are not a category (a missing sampler is simply not counted);
* images are counted once per content (``sha256``) unless ``dedupe`` is off, so a mirrored
  backup folder does not double the numbers; rows without a hash are always kept;
* filters (folder, model, generator, dates) apply to every statistic;
* ties are broken by the value (numbers numerically, text alphabetically) so reports are
  stable from run to run.
"""
from __future__ import annotations

import json
import logging
import math
import pickle
import re
import sqlite3
import time
from array import array
from collections import Counter
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from functools import cached_property
from operator import methodcaller
from typing import Iterator, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import db
from .errors import DatabaseError, InputError
from .parsers.tags import IndexedTags, find_tag
from .scan import normalize_path

logger = logging.getLogger(__name__)

# (report/plot name, column) in the order of the original's parameter_counts.txt, then ours
PARAMETERS: tuple[tuple[str, str], ...] = (
    ("Sampler", "sampler"),
    ("CFG scale", "cfg_scale"),
    ("Size", "size"),
    ("Model", "model"),
    ("VAE", "vae"),
    ("Denoising strength", "denoising_strength"),
    ("Steps", "steps"),
    ("Scheduler", "scheduler"),
    ("Generator", "generator"),
)
NUMERIC_COLUMNS = frozenset({"cfg_scale", "denoising_strength", "steps"})
LORA_KINDS = frozenset({"lora", "lycoris", "locon", "loha", "lokr", "dora"})
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COMPARE_KEYS = ("folder", "model", "generator", "since", "until")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_COLUMNS = ("id", "format", "generator", "steps", "sampler", "scheduler", "cfg_scale", "denoising_strength",
            "width", "height", "model", "vae", "created_at", "parse_status")
# flags computed by SQLite, so the (long) texts are read only where they are used
_FLAGS = ("seed IS NOT NULL AS has_seed",
          "(prompt IS NOT NULL AND trim(prompt) != '') AS has_prompt",
          "(negative_prompt IS NOT NULL AND trim(negative_prompt) != '') AS has_negative")
# parameter columns read as labels: stripped once at load, empty strings become missing
TEXT_COLUMNS = ("generator", "sampler", "scheduler", "model", "vae")
_LABEL_COLUMNS = frozenset({*TEXT_COLUMNS, "format", "parse_status"})
_NUMBER_COLUMNS = frozenset({"steps", "cfg_scale", "denoising_strength", "width", "height"})


# -- selection -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """Which images to analyse. Several values of one filter are alternatives (OR);
    different filters must all hold (AND). Dates are inclusive ``YYYY-MM-DD``."""

    folders: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # case-insensitive, part of the name
    generators: tuple[str, ...] = ()  # case-insensitive, whole name
    since: Optional[str] = None
    until: Optional[str] = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not _DATE_RE.match(value):
                raise InputError(f"{name} date {value!r} is not YYYY-MM-DD (e.g. 2024-03-31)")

    @property
    def active(self) -> bool:
        return bool(self.folders or self.models or self.generators or self.since or self.until)

    def where(self) -> tuple[str, list]:
        clauses, args = [], []
        if self.folders:
            parts = []
            for folder in self.folders:
                clause, a = db.under_clause(folder)  # path-index range: every path below the folder
                parts.append(f"({clause})")
                args += a
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.models:
            clauses.append("(" + " OR ".join("model LIKE ? ESCAPE '\\'" for _ in self.models) + ")")
            args += [f"%{_like_escape(m)}%" for m in self.models]
        if self.generators:
            # lower() IN (…), not '= ? COLLATE NOCASE OR …': SQLite 3.40's OR optimisation
            # over the (binary) generator index returned no rows for the latter
            clauses.append(f"lower(generator) IN ({', '.join('?' for _ in self.generators)})")
            args += [g.lower() for g in self.generators]
        if self.since:
            clauses.append("substr(created_at, 1, 10) >= ?")
            args.append(self.since)
        if self.until:
            clauses.append("substr(created_at, 1, 10) <= ?")
            args.append(self.until)
        return (" AND ".join(clauses) or "1"), args

    def describe(self) -> str:
        parts = [f"folder {f}" for f in self.folders]
        parts += [f"model contains {m!r}" for m in self.models]
        parts += [f"generator {g}" for g in self.generators]
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        return "; ".join(parts) if parts else "none (whole database)"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_compare_spec(spec: str) -> Filters:
    """'folder=/a/b' or 'generator=ComfyUI;since=2024-01-01' -> Filters."""
    values: dict[str, list[str]] = {k: [] for k in COMPARE_KEYS}
    for part in spec.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in values or not value.strip():
            raise InputError(f"cannot read comparison subset {spec!r}: use KEY=VALUE with KEY one of "
                             f"{', '.join(COMPARE_KEYS)} (e.g. folder=/images/2024 or since=2024-01-01)")
        values[key].append(value.strip())
    for key in ("since", "until"):
        if len(values[key]) > 1:
            raise InputError(f"comparison subset {spec!r} names {key} twice")
    return Filters(folders=tuple(normalize_path(f) for f in values["folder"]),
                   models=tuple(values["model"]), generators=tuple(values["generator"]),
                   since=values["since"][0] if values["since"] else None,
                   until=values["until"][0] if values["until"] else None)


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


def load_selection(con: sqlite3.Connection, filters: Filters = Filters(), dedupe: bool = True,
                   subset: Optional[Filters] = None) -> Selection:
    """Read the columns the statistics need for the selected images (those passing
    ``filters`` and, for one side of a comparison, ``subset`` too)."""
    check_schema(con)
    where, args = _where(filters, subset)
    total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    names = [*_COLUMNS, *(flag.rsplit(" AS ", 1)[1] for flag in _FLAGS)]
    cur = con.execute(f"SELECT sha256, {', '.join(_COLUMNS)}, {', '.join(_FLAGS)} FROM images "
                      f"WHERE {where} ORDER BY id", args)
    # read in chunks and keep compact columns: numbers as numpy arrays, each distinct label
    # (model, sampler, …) as one shared string; 100,000 rows then take ~30 MB, not ~120 MB
    parts: dict[str, list] = {name: [] for name in names}
    labels: dict[str, str] = {}
    reader = _FirstCopies(cur, dedupe)
    for rows in reader:
        for name, values in zip(names, list(zip(*rows))[1:]):
            if name in _LABEL_COLUMNS:
                parts[name].extend(labels.setdefault(v, v) if v is not None else None for v in map(_label, values))
            elif name in _NUMBER_COLUMNS:
                parts[name].append(_floats(values))
            else:
                parts[name].extend(values)
    matching = reader.rows_read
    frame = pd.DataFrame({name: _column(name, parts.pop(name)) for name in names})
    logger.info("selected %d images (%d rows match the filters, %d in the database)", len(frame), matching, total)
    return Selection(frame=frame, total_rows=total, matching_rows=matching,
                     duplicates_dropped=matching - len(frame), filters=filters, dedupe=dedupe)


def _floats(values: Sequence) -> np.ndarray:
    try:
        return np.array(values, dtype=float)  # None becomes NaN
    except (TypeError, ValueError):  # text in a number column (hand-edited databases)
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def _column(name: str, part: list) -> pd.Series:
    if name in _NUMBER_COLUMNS:
        return pd.Series(np.concatenate(part) if part else np.array([], dtype=float))
    if name == "id":
        return pd.Series(np.array(part, dtype=np.int64))
    if name.startswith("has_"):
        return pd.Series(np.array(part, dtype=bool))
    return pd.Series(part, dtype=object)


def _where(filters: Filters, subset: Optional[Filters] = None) -> tuple[str, list]:
    where, args = filters.where()
    if subset is not None:
        where2, args2 = subset.where()
        where, args = f"({where}) AND ({where2})", args + args2
    return where, args


class _FirstCopies:
    """The rows of ``cursor`` (sha256 first, ordered by id) in chunks, keeping only the first
    indexed copy of each content when ``dedupe``; rows without a hash are all kept.
    ``rows_read`` counts every row, kept or not."""

    def __init__(self, cursor: sqlite3.Cursor, dedupe: bool):
        self.cursor = cursor
        self.dedupe = dedupe
        self.rows_read = 0

    def __iter__(self) -> Iterator[list]:
        seen: set[str] = set()
        while True:
            rows = self.cursor.fetchmany(5000)
            if not rows:
                return
            self.rows_read += len(rows)
            if self.dedupe:
                kept = []
                for row in rows:
                    if row[0] is None:
                        kept.append(row)
                    elif row[0] not in seen:
                        seen.add(row[0])
                        kept.append(row)
                rows = kept
            if rows:
                yield rows


def load_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
               subset: Optional[Filters] = None) -> pd.Series:
    """The non-empty ``prompt`` or ``negative_prompt`` texts of the selected images (the
    same images as ``load_selection``), indexed by image id."""
    if column not in ("prompt", "negative_prompt"):
        raise ValueError(column)
    where, args = _where(filters, subset)
    cur = con.execute(f"SELECT sha256, id, {column} FROM images WHERE {where} ORDER BY id", args)
    ids: list[int] = []
    texts: list[str] = []
    for rows in _FirstCopies(cur, dedupe):
        for _, image_id, text in rows:
            if isinstance(text, str) and text and not text.isspace():
                ids.append(image_id)
                texts.append(text)
    return pd.Series(texts, index=pd.Index(ids, dtype="int64"), dtype=object)


def load_embeddings(con: sqlite3.Connection, ids: Optional[pd.Index] = None) -> pd.Series:
    """image id -> tuple of the embedding names the image uses (from ``resources``)."""
    wanted = None if ids is None else set(ids.tolist())
    names: dict[int, set[str]] = {}
    for image_id, name in con.execute("SELECT image_id, name FROM resources WHERE lower(kind) = 'embedding'"):
        if (wanted is None or image_id in wanted) and isinstance(name, str) and name.strip():
            names.setdefault(image_id, set()).add(name.strip())
    values = np.empty(len(names), dtype=object)  # filled one by one: pandas would unpack the tuples
    for i, found in enumerate(names.values()):
        values[i] = tuple(sorted(found))
    return pd.Series(values, index=pd.Index(list(names), dtype="int64"), dtype=object)


def load_resources(con: sqlite3.Connection, ids: pd.Series) -> pd.DataFrame:
    """image_id, kind, name, weight of the selected images' resources."""
    wanted = set(ids.tolist())
    rows = [(image_id, kind, name.strip(), weight)
            for image_id, kind, name, weight in con.execute("SELECT image_id, lower(kind), name, weight FROM resources")
            if image_id in wanted and isinstance(name, str) and name.strip()]
    res = pd.DataFrame.from_records(rows, columns=["image_id", "kind", "name", "weight"])
    res["weight"] = pd.to_numeric(res["weight"], errors="coerce")
    return res


# -- value counts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """Value -> number of images, most frequent first."""

    name: str
    items: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(c for _, c in self.items)

    def top(self, n: int) -> tuple[tuple[str, int], ...]:
        return self.items[:n]


def format_number(value: float) -> str:
    """7.0 -> '7', 5.5 -> '5.5', 0.35 -> '0.35' (as the generators write them)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if float(value).is_integer():
        return str(int(value))
    return format(float(value), ".10g")


def _label(value) -> Optional[str]:
    """A text parameter as a category label: stripped; empty means missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _text_values(series: pd.Series) -> pd.Series:
    """The non-empty values of a text column (already stripped by load_selection)."""
    s = series.dropna()
    if series.name not in TEXT_COLUMNS:
        s = s.map(_label).dropna()
    return s


def _sorted_counts(vc: pd.Series, numeric: bool) -> list[tuple[object, int]]:
    """Count descending; ties by value (numerically for numbers)."""
    if numeric:
        pairs = [(float(k), int(v)) for k, v in vc.items()]
        return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))
    pairs = [(str(k), int(v)) for k, v in vc.items()]
    return sorted(pairs, key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))


def value_counts(frame: pd.DataFrame, name: str, column: str) -> Counts:
    """Counts of one parameter; numbers formatted as written, ``size`` as WxH."""
    if frame.empty:
        return Counts(name)
    if column == "size":
        sized = frame[["width", "height"]].dropna()
        sized = sized[(sized["width"] > 0) & (sized["height"] > 0)]
        if sized.empty:
            return Counts(name)
        vc = sized.groupby(["width", "height"]).size()
        pairs = sorted(((int(w), int(h), int(c)) for (w, h), c in vc.items()), key=lambda t: (-t[2], t[0], t[1]))
        return Counts(name, tuple((f"{w}x{h}", c) for w, h, c in pairs))
    if column in NUMERIC_COLUMNS:
        vc = frame[column].dropna()
        vc = vc[np.isfinite(vc)].value_counts(sort=False)
        return Counts(name, tuple((format_number(k), c) for k, c in _sorted_counts(vc, numeric=True)))
    vc = _text_values(frame[column]).value_counts(sort=False)
    return Counts(name, tuple(_sorted_counts(vc, numeric=False)))


def parameter_counts(frame: pd.DataFrame) -> tuple[Counts, ...]:
    return tuple(value_counts(frame, name, column) for name, column in PARAMETERS)


def _counts_from_counter(name: str, counter: Counter) -> Counts:
    return Counts(name, tuple(sorted(((str(k), int(v)) for k, v in counter.items() if v),
                                     key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))))


# -- prompt understanding ----------------------------------------------------------------------

# <lora:name:0.8>, <lyco:…>, <hypernet:…>: extra networks are resources, not words
_NETWORK_RE = re.compile(r"<[^<>:]*:[^<>]*>")
# ComfyUI's 'embedding:name' syntax
_EMBEDDING_SYNTAX_RE = re.compile(r"\bembedding:[^\s,()\[\]{}]+", re.IGNORECASE)
# composable-diffusion / regional separators, written in capitals
_SEPARATOR_RE = re.compile(r"\b(?:BREAK|AND)\b")
# an attention weight closing a group: '(tag:1.2)', '[tag:0.5]'
_WEIGHT_RE = re.compile(r":\s*-?(?:\d+\.?\d*|\.\d+)\s*(?=[)\]}])")
# '\(' and friends are literal brackets (e.g. 'hatsune miku \(vocaloid\)'): park them on
# private-use characters while unescaped brackets are dropped, then turn them back
_ESCAPED_RE = re.compile(r"\\([()\[\]{}])")
_PARKED = {"(": "\ue000", ")": "\ue001", "[": "\ue002", "]": "\ue003", "{": "\ue004", "}": "\ue005"}
_TRANSLATE = str.maketrans({**{c: " " for c in "()[]{}"}, "\r": ",", "\n": ",", "_": " ",
                            **{parked: c for c, parked in _PARKED.items()}})
_NUMBERISH_RE = re.compile(r"^[\d\s.:+\-]*$")
# words: two or more word characters, not only digits (no '25', '1.2' noise)
TOKEN_PATTERN = r"(?u)\b(?!\d+\b)\w\w+\b"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def clean_prompt(text: str, embeddings: Sequence[str] = ()) -> str:
    """A prompt as plain, lower-case text: extra networks and embeddings removed (they are
    resources), attention weights and brackets dropped, escaped brackets kept as literal
    characters, BREAK/AND and line breaks turned into tag separators (commas), underscores
    read as spaces (``long_hair`` = ``long hair``), whitespace collapsed.

    Written for speed (about a second for 100,000 prompts): each regex runs only on
    prompts that contain its trigger character."""
    if embeddings:
        text = _remove_names(text, tuple(embeddings))
    if "<" in text:
        text = _NETWORK_RE.sub(",", text)
    if "edding:" in text or "EDDING:" in text:
        text = _EMBEDDING_SYNTAX_RE.sub(",", text)
    if "BREAK" in text or "AND" in text:
        text = _SEPARATOR_RE.sub(",", text)
    if "\\" in text:
        text = _ESCAPED_RE.sub(lambda m: _PARKED[m.group(1)], text)
    if ":" in text:
        text = _WEIGHT_RE.sub("", text)
    return " ".join(text.translate(_TRANSLATE).split()).replace(" ,", ",").lower()


def clean_prompts(texts: pd.Series, embeddings: Optional[pd.Series] = None) -> pd.Series:
    """``clean_prompt`` over a Series; ``embeddings`` (same index, optional) holds per image
    the embedding names to remove."""
    values = texts.fillna("").astype(str).tolist()
    if embeddings is not None and not embeddings.empty:
        names = embeddings.reindex(texts.index)
        cleaned = [clean_prompt(t, n if isinstance(n, tuple) else ()) for t, n in zip(values, names.tolist())]
    else:
        cleaned = [clean_prompt(t) for t in values]
    return pd.Series(cleaned, index=texts.index, dtype=object)


_NAME_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def _remove_names(text: str, names: tuple[str, ...]) -> str:
    pattern = _NAME_PATTERNS.get(names)
    if pattern is None:
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        if len(_NAME_PATTERNS) < 10_000:
            _NAME_PATTERNS[names] = pattern
    return pattern.sub(",", text)


def _tag_ok(tag: str) -> bool:
    return bool(tag) and not _NUMBERISH_RE.match(tag)


def prompt_tags(cleaned: str) -> list[str]:
    """The comma-separated tags of one cleaned prompt, in order, without empty or numeric ones."""
    tags = (part.strip(" .;:") for part in cleaned.replace("|", ",").split(","))
    return [t for t in tags if _tag_ok(t)]


def tag_counts(cleaned: pd.Series, name: str) -> Counts:
    """Number of images using each tag (a tag repeated in one prompt counts once)."""
    counter: Counter = Counter()
    strip = methodcaller("strip", " .;:")
    for text in cleaned.tolist():
        if text:
            counter.update(set(map(strip, text.replace("|", ",").split(","))))
    for tag in [t for t in counter if not _tag_ok(t)]:  # few distinct values: filter after counting
        del counter[tag]
    return _counts_from_counter(name, counter)


@dataclass(frozen=True)
class Vocabulary:
    """Documents x words occurrence counts of a set of cleaned prompts (sparse)."""

    index: pd.Index  # the Series index of each document (row)
    terms: np.ndarray
    matrix: object  # scipy.sparse csr matrix
    columns: dict  # term -> column

    def rows_with(self, term: str) -> Optional[np.ndarray]:
        col = self.columns.get(term)
        if col is None:
            return None
        csc = self._by_column
        return csc.indices[csc.indptr[col]:csc.indptr[col + 1]]

    @cached_property
    def _by_column(self):
        return self.matrix.tocsc()  # built once, only when keywords are looked up


class _Columns(dict):
    """term -> column, numbering new terms as they come."""

    def __missing__(self, term: str) -> int:
        column = self[term] = len(self)
        return column


def count_matrix(cleaned: pd.Series) -> Optional[Vocabulary]:
    """The sparse documents x words count matrix (what scikit-learn's CountVectorizer builds,
    with TOKEN_PATTERN and no lower-casing: the texts are cleaned already). Built here so the
    intermediate index arrays stay compact (4 bytes per entry instead of Python int lists):
    100,000 prompts take ~20 MB instead of ~150 MB. None when there is no word at all."""
    from scipy.sparse import csr_matrix  # scikit-learn's own dependency

    docs = cleaned[cleaned != ""]
    vocabulary = _Columns()
    indices, counts, indptr = array("i"), array("i"), array("q", [0])
    findall, column_of = _TOKEN_RE.findall, vocabulary.__getitem__
    for doc in docs.tolist():
        terms = Counter(findall(doc))
        indices.extend(map(column_of, terms.keys()))  # map/extend: no Python loop per word
        counts.extend(terms.values())
        indptr.append(len(indices))
    if not vocabulary:  # no prompts, or only numbers and single letters
        return None
    matrix = csr_matrix((np.frombuffer(counts, dtype=np.int32), np.frombuffer(indices, dtype=np.int32),
                         np.frombuffer(indptr, dtype=np.int64)), shape=(len(docs), len(vocabulary)))
    terms = np.array(list(vocabulary), dtype=object)
    return Vocabulary(docs.index, terms, matrix, dict(vocabulary))


def _ranked(terms: Sequence[str], scores: np.ndarray) -> list[tuple[str, float]]:
    terms = np.asarray(terms, dtype=object)
    order = np.lexsort((terms, -scores))  # score descending, then term
    return [(str(terms[i]), scores[i].item()) for i in order if scores[i] > 0]


def word_counts_from_matrix(vocab: Optional[Vocabulary], name: str) -> Counts:
    """Occurrences of each word over all prompts together, as the original counted."""
    if vocab is None:
        return Counts(name)
    totals = np.asarray(vocab.matrix.sum(axis=0)).ravel()
    return Counts(name, tuple((t, int(c)) for t, c in _ranked(vocab.terms, totals)))


def word_counts(cleaned: pd.Series, name: str) -> Counts:
    """Occurrences of each word (same words as the matrix), without building a matrix."""
    counter: Counter = Counter()
    texts = cleaned.tolist()
    for start in range(0, len(texts), 5000):  # in slices: a token list of all texts at once is large
        counter.update(_TOKEN_RE.findall("\n".join(texts[start:start + 5000])))
    return _counts_from_counter(name, counter)


def tfidf_scores(vocab: Optional[Vocabulary], top_n: int = 50) -> tuple[tuple[str, float], ...]:
    """Summed TF-IDF of each prompt word over all prompts (scikit-learn; the same numbers as
    TfidfVectorizer with English stop words, from the sparse count matrix already built)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

    if vocab is None:
        return ()
    keep = np.array([t not in ENGLISH_STOP_WORDS for t in vocab.terms], dtype=bool)
    if not keep.any():
        return ()
    counts = vocab.matrix[:, np.flatnonzero(keep)]
    weights = TfidfTransformer().fit_transform(counts)  # smooth idf, l2 rows: TfidfVectorizer's defaults
    sums = np.asarray(weights.sum(axis=0)).ravel()
    return tuple(_ranked(vocab.terms[keep], sums)[:top_n])


# -- keywords ---------------------------------------------------------------------------------

def normalise_keyword(keyword: str) -> str:
    """A keyword read like a prompt (brackets, weights, underscores, case), so it compares
    with cleaned prompts."""
    return clean_prompt(keyword).strip(" ,")


def keyword_pattern(keyword: str) -> re.Pattern:
    """Whole words or a whole phrase, case-insensitive: 'cat' matches 'a cat,' and '(cat:1.2)'
    but not 'catgirl' or 'scattering'."""
    words = normalise_keyword(keyword).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords from a comma-separated string or a file's text (one per line or comma-separated;
    '#' starts a comment line). Duplicates (ignoring case) are dropped, order kept."""
    seen, out = set(), []
    for line in text.splitlines() or [text]:
        if line.lstrip().startswith("#"):
            continue
        for part in line.split(","):
            word = part.strip()
            key = normalise_keyword(word)
            if key and key not in seen:
                seen.add(key)
                out.append(word)
    return tuple(out)


def keyword_hits(keyword: str, cleaned: pd.Series, vocab: Optional[Vocabulary] = None) -> pd.Index:
    """Index of the cleaned prompts that contain the keyword. The word matrix narrows the
    candidates to prompts holding every word of the keyword; the regex confirms phrases."""
    norm = normalise_keyword(keyword)
    if not norm or cleaned.empty:
        return cleaned.index[:0]
    words = sorted(set(_TOKEN_RE.findall(norm)))
    candidates = cleaned
    if vocab is not None and words:
        rows = None
        for word in words:
            found = vocab.rows_with(word)
            if found is None:
                return cleaned.index[:0]
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
        if words == [norm]:  # a single plain word: the matrix is the answer
            return vocab.index[np.sort(rows)]
        candidates = cleaned.loc[vocab.index[np.sort(rows)]]
    pattern = keyword_pattern(keyword)
    return candidates.index[[bool(pattern.search(t)) for t in candidates.tolist()]]


@dataclass(frozen=True)
class KeywordResult:
    keyword: str
    count: int
    top_models: tuple[tuple[str, int], ...]
    top_samplers: tuple[tuple[str, int], ...]


def keyword_analysis(frame: pd.DataFrame, hits: Mapping[str, Sequence], top_models: int = 3,
                     top_samplers: int = 3) -> tuple[KeywordResult, ...]:
    """Per keyword (``hits``: keyword -> ids of the images whose prompt contains it, in the
    user's order): the image count and the most used models and samplers. Sorted by
    count (most first), ties in the order given."""
    results = []
    for keyword, ids in hits.items():
        found = frame[frame["id"].isin(ids)]
        models = value_counts(found, "Model", "model").top(top_models)
        samplers = value_counts(found, "Sampler", "sampler").top(top_samplers)
        results.append(KeywordResult(keyword, int(len(found)), models, samplers))
    results.sort(key=lambda r: -r.count)  # stable: ties keep the user's order
    return tuple(results)


@dataclass(frozen=True)
class PromptStatistics:
    """What the prompts alone give: words, TF-IDF, tags and the images of each keyword.
    Computed by ``prompt_statistics``, possibly in a helper process (inputs and result pickle)."""

    words: Counts
    tfidf: tuple[tuple[str, float], ...]
    tags: Counts
    keyword_hits: tuple[tuple[str, tuple[int, ...]], ...]


def prompt_statistics(cleaned: pd.Series, keywords: Sequence[str] = (), tfidf_top: int = 50) -> PromptStatistics:
    """Words, TF-IDF, tags and keyword hits (as the ``cleaned`` Series' index: image ids)."""
    vocab = count_matrix(cleaned)
    hits = tuple((k, tuple(int(i) for i in keyword_hits(k, cleaned, vocab))) for k in keywords
                 if normalise_keyword(k))
    return PromptStatistics(word_counts_from_matrix(vocab, "prompt words"), tfidf_scores(vocab, tfidf_top),
                            tag_counts(cleaned, "prompt tags"), hits)


def cleaned_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
                  subset: Optional[Filters] = None) -> pd.Series:
    """``load_texts`` cleaned for counting (``clean_prompts``), embeddings removed."""
    texts = load_texts(con, column, filters, dedupe, subset)
    if texts.empty:
        return texts
    return clean_prompts(texts, load_embeddings(con, texts.index))


def snapshot_fingerprint(con: sqlite3.Connection) -> tuple:
    """What identifies the state of the images table a read transaction sees: two readers with
    equal fingerprints counted the same rows (DB_filler inserts rows with new ids, and a
    re-extracted file gets a new indexed_at and mtime)."""
    return tuple(con.execute("SELECT COUNT(*), MAX(id), MAX(indexed_at), TOTAL(mtime_ns) FROM images").fetchone())


def prompt_statistics_from(db_path: str, filters: Filters, dedupe: bool, keywords: Sequence[str] = (),
                           tfidf_top: int = 50) -> tuple[tuple, PromptStatistics]:
    """``prompt_statistics`` of the selected images, read from the database file with a
    connection of its own in one read transaction, with the fingerprint of that snapshot: the
    job the CLI's helper process runs while the main process reads everything else (SQLite in
    WAL mode serves both readers at once)."""
    con = open_database(db_path)
    try:
        con.execute("BEGIN")
        fingerprint = snapshot_fingerprint(con)
        cleaned = cleaned_texts(con, "prompt", filters, dedupe)
        con.execute("COMMIT")
    finally:
        con.close()
    return fingerprint, prompt_statistics(cleaned, keywords, tfidf_top)


# -- resources ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoraStat:
    name: str
    images: int
    mean_weight: Optional[float]


@dataclass(frozen=True)
class LoraUsage:
    images_with_lora: int
    loras: tuple[LoraStat, ...] = ()
    by_model: tuple[tuple[str, str, int], ...] = ()  # (LoRA, model, images)
    other: tuple[Counts, ...] = ()  # embeddings, hypernetworks, … one Counts per kind


def lora_usage(frame: pd.DataFrame, resources: pd.DataFrame) -> LoraUsage:
    if resources.empty:
        return LoraUsage(0)
    loras = resources[resources["kind"].isin(LORA_KINDS)]
    stats: list[LoraStat] = []
    by_model: list[tuple[str, str, int]] = []
    if not loras.empty:
        grouped = loras.groupby("name").agg(images=("image_id", "nunique"), mean_weight=("weight", "mean"))
        stats = [LoraStat(str(n), int(r.images), None if pd.isna(r.mean_weight) else float(r.mean_weight))
                 for n, r in grouped.iterrows()]
        stats.sort(key=lambda s: (-s.images, s.name.casefold(), s.name))
        models = frame[["id", "model"]].rename(columns={"id": "image_id"})
        joined = loras.drop_duplicates(["image_id", "name"]).merge(models, on="image_id")
        joined = joined[joined["model"].notna() & (joined["model"].astype(str).str.strip() != "")]
        if not joined.empty:
            vc = joined.groupby(["name", "model"]).size()
            by_model = sorted(((str(n), str(m), int(c)) for (n, m), c in vc.items()),
                              key=lambda t: (-t[2], t[0].casefold(), t[1].casefold()))
    other = []
    rest = resources[~resources["kind"].isin(LORA_KINDS)]
    for kind in sorted(rest["kind"].dropna().unique()):
        sub = rest[rest["kind"] == kind].drop_duplicates(["image_id", "name"])
        vc = sub["name"].astype(str).value_counts(sort=False)
        other.append(Counts(str(kind), tuple(_sorted_counts(vc, numeric=False))))
    return LoraUsage(int(loras["image_id"].nunique()) if not loras.empty else 0, tuple(stats),
                     tuple(by_model), tuple(other))


# -- combinations ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrossTab:
    """Images per (row value, column value); ``pairs`` lists every combination, most used
    first; ``grid`` the counts of the ``rows`` x ``cols`` most used values (for a heatmap)."""

    row_name: str
    col_name: str
    pairs: tuple[tuple[str, str, int], ...] = ()
    rows: tuple[str, ...] = ()
    cols: tuple[str, ...] = ()
    grid: tuple[tuple[int, ...], ...] = ()


def _labels(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in NUMERIC_COLUMNS:
        s = frame[column].dropna()
        s = s[np.isfinite(s)]
        return s.map(format_number)
    return _text_values(frame[column])


def crosstab(frame: pd.DataFrame, row: tuple[str, str], col: tuple[str, str],
             max_rows: int = 12, max_cols: int = 10) -> CrossTab:
    (row_name, row_col), (col_name, col_col) = row, col
    if frame.empty:
        return CrossTab(row_name, col_name)
    both = pd.concat([_labels(frame, row_col).rename("r"), _labels(frame, col_col).rename("c")],
                     axis=1, join="inner")
    if both.empty:
        return CrossTab(row_name, col_name)
    vc = both.groupby(["r", "c"]).size()
    pairs = sorted(((str(r), str(c), int(n)) for (r, c), n in vc.items()),
                   key=lambda t: (-t[2], t[0].casefold(), t[1].casefold()))
    row_order = [k for k, _ in _sorted_counts(both["r"].value_counts(sort=False), numeric=False)][:max_rows]
    col_order = [k for k, _ in _sorted_counts(both["c"].value_counts(sort=False), numeric=False)][:max_cols]
    table = vc.unstack(fill_value=0).reindex(index=row_order, columns=col_order, fill_value=0)
    grid = tuple(tuple(int(v) for v in r) for r in table.to_numpy())
    return CrossTab(row_name, col_name, tuple(pairs), tuple(row_order), tuple(col_order), grid)


# -- time ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trends:
    """Per month of ``created_at``: images, and images of the most used models and samplers."""

    months: tuple[str, ...] = ()
    images: tuple[int, ...] = ()
    models: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (model, per-month counts)
    samplers: tuple[tuple[str, tuple[int, ...]], ...] = ()
    top_model: tuple[Optional[tuple[str, int]], ...] = ()  # per month
    top_sampler: tuple[Optional[tuple[str, int]], ...] = ()
    undated: int = 0


def _months(frame: pd.DataFrame) -> pd.Series:
    month = frame["created_at"].fillna("").astype(str).str.slice(0, 7)
    return month[month.str.match(r"^\d{4}-\d{2}$")]


def _month_range(present: Sequence[str]) -> list[str]:
    first, last = pd.Period(present[0], "M"), pd.Period(present[-1], "M")
    if (last - first).n > 600:  # a stray 1970 date must not create fifty years of empty months
        return list(present)
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _per_month(frame: pd.DataFrame, month: pd.Series, column: str, months: list[str], top: int
               ) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[Optional[tuple[str, int]], ...]]:
    labels = _text_values(frame.loc[month.index, column])
    if labels.empty:
        return (), tuple(None for _ in months)
    joined = pd.DataFrame({"m": month.loc[labels.index], "v": labels})
    table = joined.groupby(["v", "m"]).size().unstack(fill_value=0).reindex(columns=months, fill_value=0)
    overall = [k for k, _ in _sorted_counts(table.sum(axis=1), numeric=False)][:top]
    series = tuple((name, tuple(int(x) for x in table.loc[name])) for name in overall)
    best: list[Optional[tuple[str, int]]] = []
    for m in months:
        col = table[m]
        col = col[col > 0]
        if col.empty:
            best.append(None)
        else:
            name, count = _sorted_counts(col, numeric=False)[0]
            best.append((str(name), int(count)))
    return series, tuple(best)


def monthly_trends(frame: pd.DataFrame, top: int = 5) -> Trends:
    if frame.empty:
        return Trends()
    month = _months(frame)
    undated = len(frame) - len(month)
    if month.empty:
        return Trends(undated=undated)
    present = sorted(month.unique())
    months = _month_range(present)
    images = month.value_counts().reindex(months, fill_value=0)
    models, top_model = _per_month(frame, month, "model", months, top)
    samplers, top_sampler = _per_month(frame, month, "sampler", months, top)
    return Trends(tuple(months), tuple(int(x) for x in images), models, samplers, top_model, top_sampler, undated)


@dataclass(frozen=True)
class Habits:
    """When images are made: by weekday (Monday first) and hour of ``created_at``."""

    weekday: tuple[int, ...] = (0,) * 7
    hour: tuple[int, ...] = (0,) * 24
    grid: tuple[tuple[int, ...], ...] = ((0,) * 24,) * 7  # weekday x hour
    undated: int = 0


def weekday_hour(frame: pd.DataFrame) -> Habits:
    if frame.empty:
        return Habits()
    text = frame["created_at"].fillna("").astype(str)
    day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    has_time = text.str.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:")
    hour = pd.to_numeric(text.str.slice(11, 13).where(has_time), errors="coerce")
    dated = day.notna()
    weekday = day[dated].dt.day_of_week.astype(int)
    by_day = weekday.value_counts().reindex(range(7), fill_value=0)
    timed = dated & hour.notna() & (hour >= 0) & (hour <= 23)
    hours = hour[timed].astype(int)
    by_hour = hours.value_counts().reindex(range(24), fill_value=0)
    grid = pd.crosstab(day[timed].dt.day_of_week, hours).reindex(index=range(7), columns=range(24), fill_value=0)
    return Habits(tuple(int(x) for x in by_day), tuple(int(x) for x in by_hour),
                  tuple(tuple(int(v) for v in r) for r in grid.to_numpy()), int((~dated).sum()))


# -- parse coverage ----------------------------------------------------------------------------------

COVERAGE_FIELDS = (("prompt", "has_prompt"), ("negative", "has_negative"), ("sampler", "sampler"),
                   ("cfg", "cfg_scale"), ("steps", "steps"), ("seed", "has_seed"), ("size", "size"),
                   ("model", "model"), ("vae", "vae"), ("scheduler", "scheduler"))


@dataclass(frozen=True)
class CoverageRow:
    generator: str  # generator name, or '(none)' for files without generation data
    status: str  # parse_status
    images: int
    by_format: tuple[tuple[str, int], ...]
    filled: tuple[tuple[str, int], ...]  # field -> images where it is filled


@dataclass(frozen=True)
class Coverage:
    rows: tuple[CoverageRow, ...] = ()
    formats: tuple[str, ...] = ()

    @property
    def images(self) -> int:
        return sum(r.images for r in self.rows)


def _filled(frame: pd.DataFrame, column: str) -> pd.Series:
    if column == "size":
        return frame["width"].notna() & frame["height"].notna()
    if column.startswith("has_"):
        return frame[column].astype(bool)
    return frame[column].notna()  # numbers, or labels already stripped to None when empty


def parse_coverage(frame: pd.DataFrame) -> Coverage:
    """Files per generator and parse status (and container format), with how often each
    field was found: shows at a glance what the parsers do not understand yet."""
    if frame.empty:
        return Coverage()
    work = pd.DataFrame({
        "generator": frame["generator"].fillna("(none)").astype(str),
        "status": frame["parse_status"].fillna("?").astype(str),
        "format": frame["format"].fillna("?").astype(str),
    })
    for label, column in COVERAGE_FIELDS:
        work[label] = _filled(frame, column)
    formats = tuple(k for k, _ in _sorted_counts(work["format"].value_counts(sort=False), numeric=False))
    rows = []
    for (gen, status), grp in work.groupby(["generator", "status"], sort=False):
        fmt = grp["format"].value_counts()
        rows.append(CoverageRow(
            str(gen), str(status), int(len(grp)),
            tuple((f, int(fmt.get(f, 0))) for f in formats),
            tuple((label, int(grp[label].sum())) for label, _ in COVERAGE_FIELDS),
        ))
    rows.sort(key=lambda r: (r.generator == "(none)", -r.images, r.generator.casefold(), r.status))
    return Coverage(tuple(rows), formats)


# -- camera photos ---------------------------------------------------------------------------------

CAMERA_FIELDS = ("Camera", "Lens", "ISO", "Aperture", "Exposure time", "Focal length")


def _clean_exif(value) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    if not text or len(text) > 80 or "{" in text or text.lower() in ("unknown", "n/a", "none", "0"):
        return None  # ComfyUI hides its workflow JSON in EXIF Make/Model: not a camera
    return text


def camera_fields(tags: dict) -> dict[str, Optional[str]]:
    """Camera, lens, ISO, aperture, exposure and focal length from one ExifTool tag dict."""
    make = _clean_exif(find_tag(tags, "Make"))
    model = _clean_exif(find_tag(tags, "Model"))
    if make and model:
        camera = model if model.lower().startswith(make.split()[0].lower()) else f"{make} {model}"
    else:
        camera = model or make
    # LensID/Aperture/ShutterSpeed are Composite tags: only in rows read before ExifTool ran with -e
    lens = next((v for v in (_clean_exif(find_tag(tags, n))
                             for n in ("LensModel", "LensID", "Lens", "LensType", "LensInfo")) if v), None)
    iso = _clean_exif(find_tag(tags, "ISO"))
    fnumber = _clean_exif(find_tag(tags, "FNumber") or find_tag(tags, "Aperture")
                          or find_tag(tags, "ApertureValue"))
    if fnumber:
        try:
            fnumber = "f/" + format_number(float(fnumber))
        except ValueError:
            pass
    exposure = _clean_exif(find_tag(tags, "ExposureTime") or find_tag(tags, "ShutterSpeed")
                           or find_tag(tags, "ShutterSpeedValue"))
    if exposure and not exposure.endswith("s"):
        exposure += " s"
    focal = _clean_exif(find_tag(tags, "FocalLength"))
    if focal:
        number = re.match(r"^\s*([\d.]+)", focal)
        if number:
            focal = format_number(float(number.group(1))) + " mm"
    return {"Camera": camera, "Lens": lens, "ISO": iso, "Aperture": fnumber, "Exposure time": exposure,
            "Focal length": focal}


@dataclass(frozen=True)
class CameraStats:
    images: int = 0
    fields: tuple[Counts, ...] = ()


def camera_stats(con: sqlite3.Connection, ids: pd.Series) -> CameraStats:
    """Distributions for ordinary photos: rows without generation data whose EXIF names a camera."""
    if ids.empty:
        return CameraStats()
    counters = {name: Counter() for name in CAMERA_FIELDS}
    wanted = set(int(i) for i in ids)
    photos = 0
    cur = con.execute("SELECT id, raw_json FROM images WHERE generator IS NULL AND raw_json LIKE '%Make\"%'")
    for image_id, raw in cur:
        if image_id not in wanted or not raw:
            continue
        try:
            tags = json.loads(raw)
        except ValueError:
            continue
        if isinstance(tags, list):
            tags = tags[0] if tags and isinstance(tags[0], dict) else {}
        if not isinstance(tags, dict):
            continue
        values = camera_fields(IndexedTags(tags))
        if not values["Camera"]:
            continue
        photos += 1
        for name, value in values.items():
            if value:
                counters[name][value] += 1
    if not photos:
        return CameraStats()
    return CameraStats(photos, tuple(_counts_from_counter(name, counters[name]) for name in CAMERA_FIELDS))


# -- comparison ---------------------------------------------------------------------------------------

COMPARE_PARAMETERS = (("Model", "model"), ("Sampler", "sampler"), ("CFG scale", "cfg_scale"), ("Size", "size"),
                      ("Steps", "steps"), ("Scheduler", "scheduler"), ("Generator", "generator"))


@dataclass(frozen=True)
class Comparison:
    label_a: str
    label_b: str
    images_a: int
    images_b: int
    # (parameter, ((value, count in A, count in B), …)) ordered by combined share
    parameters: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...] = ()


def _side_by_side(a: Counts, b: Counts, n_a: int, n_b: int, top: int) -> tuple[tuple[str, int, int], ...]:
    da, dbb = dict(a.items), dict(b.items)
    keys = set(da) | set(dbb)

    def share(k: str) -> float:
        return (da.get(k, 0) / n_a if n_a else 0.0) + (dbb.get(k, 0) / n_b if n_b else 0.0)

    ordered = sorted(keys, key=lambda k: (-share(k), k.casefold(), k))[:top]
    return tuple((k, da.get(k, 0), dbb.get(k, 0)) for k in ordered)


def compare(a: Selection, b: Selection, label_a: str, label_b: str, top: int = 15,
            tags_a: Optional[Counts] = None, tags_b: Optional[Counts] = None) -> Comparison:
    params = []
    for name, column in COMPARE_PARAMETERS:
        rows = _side_by_side(value_counts(a.frame, name, column), value_counts(b.frame, name, column),
                             a.images, b.images, top)
        params.append((name, rows))
    if tags_a is not None and tags_b is not None:
        params.append(("Prompt tags", _side_by_side(tags_a, tags_b, a.images, b.images, top)))
    return Comparison(label_a, label_b, a.images, b.images, tuple(params))


# -- everything ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnalysisOptions:
    keywords: tuple[str, ...] = ()
    top_models: int = 3
    top_samplers: int = 3
    filters: Filters = field(default_factory=Filters)
    dedupe: bool = True
    compare: Optional[tuple[str, str]] = None  # two subset specs, e.g. ('folder=/a', 'folder=/b')
    tfidf_top: int = 50


@dataclass(frozen=True)
class Analysis:
    db_path: str
    options: AnalysisOptions
    total_rows: int
    matching_rows: int
    images: int
    duplicates_dropped: int
    with_prompt: int
    parameters: tuple[Counts, ...]
    prompt_words: Counts
    negative_words: Counts
    prompt_tags: Counts
    negative_tags: Counts
    tfidf: tuple[tuple[str, float], ...]
    keywords: tuple[KeywordResult, ...]
    lora: LoraUsage
    model_sampler: CrossTab
    sampler_cfg: CrossTab
    trends: Trends
    habits: Habits
    coverage: Coverage
    camera: CameraStats
    comparison: Optional[Comparison] = None

    def parameter(self, name: str) -> Counts:
        return next(c for c in self.parameters if c.name == name)


def analyse(con: sqlite3.Connection, options: AnalysisOptions, db_path: str = "",
            executor: Optional[Executor] = None) -> Analysis:
    """Every statistic of parameter_statistic for the selected images.

    With an ``executor`` (the CLI passes a helper process), the prompt statistics, the
    costliest part, are computed there from the database file while this process computes
    everything else."""
    # one read transaction: every statistic counts the same rows even while DB_filler writes
    own_transaction = not con.in_transaction
    if own_transaction:
        con.execute("BEGIN")
    try:
        return _analyse(con, options, db_path, executor)
    finally:
        if own_transaction and con.in_transaction:
            con.execute("COMMIT")


def _analyse(con: sqlite3.Connection, options: AnalysisOptions, db_path: str,
             executor: Optional[Executor]) -> Analysis:
    fingerprint = snapshot_fingerprint(con)
    future = None
    if executor is not None and db_path:
        try:
            future = executor.submit(prompt_statistics_from, db_path, options.filters, options.dedupe,
                                     options.keywords, options.tfidf_top)
        except (BrokenExecutor, RuntimeError) as exc:  # RuntimeError: the executor was shut down
            logger.warning("the helper process is not available (%s); working in this process", exc)
    selection = load_selection(con, options.filters, options.dedupe)
    frame = selection.frame
    resources = load_resources(con, frame["id"])
    negatives = cleaned_texts(con, "negative_prompt", options.filters, options.dedupe)
    rest = dict(
        parameters=parameter_counts(frame),
        negative_words=word_counts(negatives, "negative prompt words"),
        negative_tags=tag_counts(negatives, "negative prompt tags"),
        lora=lora_usage(frame, resources),
        model_sampler=crosstab(frame, ("Model", "model"), ("Sampler", "sampler")),
        sampler_cfg=crosstab(frame, ("Sampler", "sampler"), ("CFG scale", "cfg_scale"), max_cols=12),
        trends=monthly_trends(frame),
        habits=weekday_hour(frame),
        coverage=parse_coverage(frame),
        camera=camera_stats(con, frame["id"]),
        comparison=_comparison(con, options) if options.compare else None,
    )
    del negatives, resources
    waited = time.perf_counter()
    stats = None
    collected = _collect(future)
    if future is not None:
        logger.info("waited %.2f s for the helper's prompt statistics", time.perf_counter() - waited)
    if collected is not None:
        helper_fingerprint, stats = collected
        if helper_fingerprint != fingerprint:
            # the database changed between the two snapshots: count the prompts here, in ours
            logger.info("the database changed during the run; prompt statistics recomputed in one snapshot")
            stats = None
    if stats is None:
        stats = prompt_statistics(cleaned_texts(con, "prompt", options.filters, options.dedupe), options.keywords,
                                  options.tfidf_top)
    return Analysis(
        db_path=db_path,
        options=options,
        total_rows=selection.total_rows,
        matching_rows=selection.matching_rows,
        images=selection.images,
        duplicates_dropped=selection.duplicates_dropped,
        with_prompt=int(frame["has_prompt"].sum()),
        prompt_words=stats.words,
        prompt_tags=stats.tags,
        tfidf=stats.tfidf,
        keywords=keyword_analysis(frame, dict(stats.keyword_hits), options.top_models, options.top_samplers),
        **rest,
    )


def _collect(future: Optional[Future]) -> Optional[tuple[tuple, PromptStatistics]]:
    """The helper's result, or None when it failed (then this process computes it)."""
    if future is None:
        return None
    try:
        return future.result()
    except (BrokenExecutor, OSError, EOFError, pickle.PicklingError) as exc:
        logger.warning("the helper process failed (%s); computing the prompt statistics here", exc)
        return None


def _comparison(con: sqlite3.Connection, options: AnalysisOptions) -> Comparison:
    spec_a, spec_b = options.compare  # type: ignore[misc]
    sides = []
    for spec in (spec_a, spec_b):
        subset = parse_compare_spec(spec)
        sel = load_selection(con, options.filters, options.dedupe, subset=subset)
        prompts = cleaned_texts(con, "prompt", options.filters, options.dedupe, subset=subset)
        sides.append((sel, tag_counts(prompts, "prompt tags")))
    (a, tags_a), (b, tags_b) = sides
    return compare(a, b, spec_a, spec_b, tags_a=tags_a, tags_b=tags_b)


def open_database(path) -> sqlite3.Connection:
    """The database, read-only (statistics never write)."""
    con = db.connect(path, readonly=True)
    check_schema(con)
    return con

