"""How well the parsers cover the images: per generator and parse status (and container format),
how many images have each main field, and why the others failed.

Computed in one place, in SQL, for both views: ``parse_coverage`` (the whole database, for
``parameter_statistic_DB.py coverage``) and ``coverage_table`` (the images a statistics run
selected, for coverage.txt). Failure reasons are the stable part of the ``error`` column —
``no known generation format (PNG:Comment: '…')`` counts as ``no known generation format`` —
so images fail together under one line per cause.
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from .models import SAVER_TEXT_DIFFERS_KEY, STATUS_NO_METADATA, STATUS_OK, STATUSES, UNREAD_NODES_KEY
from .names import canonical_sampler

logger = logging.getLogger(__name__)

STATUS_ORDER = STATUSES
# a match starts only where a run of blanks starts (searching from inside the run rescans it)
_PATH_TAIL_RE = re.compile(r"(?<!\s)\s+(?:-\s+|in\s+|for\s+)?(?:[A-Za-z]:)?[\\/]\S.*$")
# the part of an error a reason is read from: a reason is at most 120 characters, and no regex
# work grows with a longer (hostile or legacy) error text
_REASON_SCAN_CHARS = 1000

# every character Python's str.strip() removes, so SQL labels match the statistics' labels
_WHITESPACE = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())


def label_sql(column: str) -> str:
    """A text column as a category label in SQL: stripped, and empty means NULL."""
    return f"NULLIF(trim(CAST({column} AS TEXT), '{_WHITESPACE}'), '')"


@dataclass(frozen=True)
class CoverageField:
    label: str  # column heading of coverage.txt
    attribute: Optional[str]  # field of GeneratorCoverage (the database view), if it shows this one
    filled: str  # SQL: the image has this field


COVERAGE_FIELDS = (
    CoverageField("prompt", "with_prompt", "prompt IS NOT NULL AND trim(prompt) != ''"),
    CoverageField("negative", "with_negative_prompt", "negative_prompt IS NOT NULL AND trim(negative_prompt) != ''"),
    CoverageField("sampler", "with_sampler", f"{label_sql('sampler')} IS NOT NULL"),
    CoverageField("cfg", "with_cfg_scale", "cfg_scale IS NOT NULL"),
    CoverageField("steps", "with_steps", "steps IS NOT NULL"),
    CoverageField("seed", "with_seed", "seed IS NOT NULL"),
    CoverageField("size", "with_size", "width IS NOT NULL AND height IS NOT NULL"),
    CoverageField("model", "with_model", f"{label_sql('model')} IS NOT NULL"),
    CoverageField("vae", None, f"{label_sql('vae')} IS NOT NULL"),
    CoverageField("scheduler", None, f"{label_sql('scheduler')} IS NOT NULL"),
)


@dataclass(frozen=True)
class CoverageGroup:
    """The images of one generator, parse status and container format (labels; None when empty)."""

    generator: Optional[str]
    status: Optional[str]
    format: Optional[str]
    images: int
    filled: tuple[int, ...]  # per COVERAGE_FIELDS: images where the field is filled


def coverage_groups(con: sqlite3.Connection, where: str = "1", params: Sequence = ()) -> tuple[CoverageGroup, ...]:
    """Images per (generator, status, format) among the rows ``where`` selects, with the
    images that have each field of COVERAGE_FIELDS."""
    return count_coverage(con, where, params).groups()


@dataclass(frozen=True)
class UnknownSpelling:
    """A sampler or schedule as written that the names tables do not know: counted as written."""

    field: str  # 'sampler' or 'scheduler'
    spelling: str
    images: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class UnreadNode:
    """A ComfyUI node class that a traced setting or prompt was linked to but could not be read
    from (an LLM's text, a custom node we do not know), with the images it cost."""

    node_class: str
    images: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SaverDisagreement:
    """A field where a ComfyUI save node's A1111-style text disagreed with the graph (the graph's
    value is the one stored), with the images where it did."""

    field: str
    images: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CoverageCounter:
    """The coverage of rows read in chunks (``add``): per (generator, status, format) the images
    and the images with each field of COVERAGE_FIELDS, the unknown sampler and schedule
    spellings, the unread ComfyUI nodes and the saver disagreements, all from one scan of the
    images. ``COLUMNS`` are the SQL expressions each row gives ``add``, in order."""

    COLUMNS = (label_sql("generator"), "parse_status", label_sql("format"),
               *(f"({f.filled})" for f in COVERAGE_FIELDS), "sampler", "scheduler",
               *(f"CASE WHEN instr(params_json, '\"{key}\"') AND json_valid(params_json) "
                 f"THEN params_json -> '$.\"{key}\"' END" for key in (UNREAD_NODES_KEY, SAVER_TEXT_DIFFERS_KEY)))

    def __init__(self) -> None:
        self._groups: dict[tuple, np.ndarray] = {}  # (generator, status, format) -> [images, *filled]
        self._spellings: Counter = Counter()  # (sampler, scheduler) as written -> images
        self._listed = (Counter(), Counter())  # unread node classes, disagreeing fields -> images

    def add(self, columns: Sequence[Sequence]) -> None:
        """One chunk, as columns (one sequence per expression of ``COLUMNS``)."""
        n_fields = len(COVERAGE_FIELDS)
        generator, status, fmt = columns[:3]
        if not len(generator):
            return
        number: dict[tuple, int] = {}
        codes = np.fromiter((number.setdefault(key, len(number)) for key in zip(generator, status, fmt)),
                            dtype=np.int64, count=len(generator))
        keys = list(number)
        filled = np.array(columns[3:3 + n_fields], dtype=np.int64).reshape(n_fields, -1)
        sums = np.vstack([np.bincount(codes, minlength=len(keys)),
                          *(np.bincount(codes, weights=f, minlength=len(keys)).astype(np.int64) for f in filled)])
        for i, key in enumerate(keys):
            known = self._groups.get(key)
            self._groups[key] = sums[:, i] if known is None else known + sums[:, i]
        sampler, scheduler = columns[3 + n_fields:5 + n_fields]
        self._spellings.update(pair for pair in zip(sampler, scheduler) if pair != (None, None))
        for counted, texts in zip(self._listed, columns[5 + n_fields:]):
            for text in texts:
                if text is not None:
                    counted.update(_listed_values(json.loads(text)))

    def groups(self) -> tuple[CoverageGroup, ...]:
        return tuple(CoverageGroup(gen, status, fmt, int(sums[0]), tuple(int(v) for v in sums[1:]))
                     for (gen, status, fmt), sums in self._groups.items())

    def unknown(self) -> tuple[UnknownSpelling, ...]:
        """Spellings of samplers and schedules missing from names/samplers.csv and schedules.csv,
        most images first: what to add to the tables."""
        found: Counter = Counter()
        for (sampler, scheduler), n in self._spellings.items():
            name = canonical_sampler(sampler, scheduler)
            if name.sampler is not None and not name.sampler_known:
                found[("sampler", name.sampler)] += n
            if name.schedule is not None and not name.schedule_known:
                found[("scheduler", name.schedule)] += n
        return tuple(UnknownSpelling(f, s, n) for (f, s), n in
                     sorted(found.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1].casefold())))

    def unread(self) -> tuple[UnreadNode, ...]:
        """The node classes the ComfyUI parser recorded as unread (``params["Unread nodes"]``),
        most images first: the next gaps of the parser, seen from the user's own library."""
        return tuple(UnreadNode(cls, n) for cls, n in _most_first(self._listed[0]))

    def disagreements(self) -> tuple[SaverDisagreement, ...]:
        """The fields where save nodes' text disagreed with the graph (``params["Saver text differs"]``)."""
        return tuple(SaverDisagreement(f, n) for f, n in _most_first(self._listed[1]))

    def table(self) -> CoverageTable:
        return coverage_table(self.groups(), self.unknown(), self.unread(), self.disagreements())


def count_coverage(con: sqlite3.Connection, where: str = "1", params: Sequence = ()) -> CoverageCounter:
    """The coverage of the rows ``where`` selects, in one scan."""
    counter = CoverageCounter()
    cur = con.execute(f"SELECT {', '.join(CoverageCounter.COLUMNS)} FROM images WHERE {where}", list(params))
    for rows in iter(lambda: cur.fetchmany(20_000), []):
        counter.add(list(zip(*rows)))
    return counter


def _listed_values(value: Any) -> list[str]:
    """The values a params_json list holds (a scalar is itself), as text: what is not a
    string as its JSON."""
    items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
    return [v if isinstance(v, str) else json.dumps(v) for v in items]


def _most_first(counts: Counter) -> list[tuple[str, int]]:
    """Most images first, ties by value."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _by_count(counts: dict[str, int]) -> list[str]:
    """Most images first, ties by name."""
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))]


# -- the statistics' view: coverage.txt ------------------------------------------------------

@dataclass(frozen=True)
class CoverageRow:
    generator: str  # generator name, or '(none)' for files without generation data
    status: str  # parse_status
    images: int
    by_format: tuple[tuple[str, int], ...]
    filled: tuple[tuple[str, int], ...]  # field -> images where it is filled


@dataclass(frozen=True)
class CoverageTable:
    rows: tuple[CoverageRow, ...] = ()
    formats: tuple[str, ...] = ()
    unknown: tuple[UnknownSpelling, ...] = ()
    unread: tuple[UnreadNode, ...] = ()
    disagreements: tuple[SaverDisagreement, ...] = ()

    @property
    def images(self) -> int:
        return sum(r.images for r in self.rows)


def coverage_table(groups: Sequence[CoverageGroup], unknown: Sequence[UnknownSpelling] = (),
                   unread: Sequence[UnreadNode] = (),
                   disagreements: Sequence[SaverDisagreement] = ()) -> CoverageTable:
    """Files per generator and parse status (and container format), with how often each
    field was found: shows at a glance what the parsers do not understand yet."""
    if not groups:
        return CoverageTable()
    per_format: dict[str, int] = {}
    merged: dict[tuple[str, str], list] = {}
    for g in groups:
        fmt = g.format or "?"
        per_format[fmt] = per_format.get(fmt, 0) + g.images
        entry = merged.setdefault((g.generator or "(none)", g.status or "?"), [0, {}, [0] * len(COVERAGE_FIELDS)])
        entry[0] += g.images
        formats, filled = entry[1], entry[2]
        formats[fmt] = formats.get(fmt, 0) + g.images
        for i, n in enumerate(g.filled):
            filled[i] += n
    formats_order = tuple(_by_count(per_format))
    rows = [CoverageRow(gen, status, images, tuple((f, fmts.get(f, 0)) for f in formats_order),
                        tuple((field.label, n) for field, n in zip(COVERAGE_FIELDS, filled)))
            for (gen, status), (images, fmts, filled) in merged.items()]
    rows.sort(key=lambda r: (r.generator == "(none)", -r.images, r.generator.casefold(), r.status))
    return CoverageTable(tuple(rows), formats_order, tuple(unknown), tuple(unread), tuple(disagreements))


# -- the database's view: parameter_statistic_DB.py coverage ----------------------------------

@dataclass(frozen=True)
class GeneratorCoverage:
    """Images parsed as one generator, and how many of them have each main field."""

    generator: str
    images: int
    with_prompt: int
    with_negative_prompt: int
    with_seed: int
    with_steps: int
    with_sampler: int
    with_cfg_scale: int
    with_size: int
    with_model: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FailureReason:
    """Images that were not parsed for one reason (status unparsed/error)."""

    status: str
    reason: str
    images: int
    example: Optional[str]  # one path, to look at

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Coverage:
    total: int
    statuses: tuple[tuple[str, int], ...]  # (parse_status, images), ok first
    generators: tuple[GeneratorCoverage, ...]  # most images first
    reasons: tuple[FailureReason, ...]  # most images first
    unknown: tuple[UnknownSpelling, ...] = ()  # sampler/schedule spellings the names tables lack
    unread: tuple[UnreadNode, ...] = ()  # ComfyUI node classes traced values could not be read from
    disagreements: tuple[SaverDisagreement, ...] = ()  # fields where save nodes' text contradicted the graph

    @property
    def parsed(self) -> int:
        return dict(self.statuses).get(STATUS_OK, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "statuses": dict(self.statuses),
                "generators": [g.as_dict() for g in self.generators],
                "reasons": [r.as_dict() for r in self.reasons],
                "unknown_spellings": [u.as_dict() for u in self.unknown],
                "unread_comfyui_nodes": [u.as_dict() for u in self.unread],
                "saver_text_disagreements": [d.as_dict() for d in self.disagreements]}


def failure_reason(error: Optional[str]) -> str:
    """The stable part of an ``error`` value: details in parentheses, paths and the second
    and later of several joined reasons are dropped.

    >>> failure_reason("no known generation format (PNG:Comment: 'GIMP')")
    'no known generation format'
    >>> failure_reason("Error: File format error - /photos/x.png")
    'Error: File format error'
    """
    if not error or not error.strip():
        return "(no reason recorded)"
    text = error.strip()[:_REASON_SCAN_CHARS].split("; ")[0]
    cut = text.find(" (")
    if cut > 0:
        text = text[:cut]
    text = _PATH_TAIL_RE.sub("", text).rstrip(" :-")
    return text.strip()[:120] or "(no reason recorded)"


def parse_coverage(con: sqlite3.Connection) -> Coverage:
    """Counts over table ``images`` of an open database connection (read only)."""
    counted = count_coverage(con)
    groups = counted.groups()
    by_status: dict[str, int] = {}
    parsed: dict[str, list[int]] = {}
    for g in groups:
        status = g.status or "(none)"
        by_status[status] = by_status.get(status, 0) + g.images
        if g.status == STATUS_OK:
            sums = parsed.setdefault(g.generator or "(unknown)", [0] * (len(COVERAGE_FIELDS) + 1))
            sums[0] += g.images
            for i, n in enumerate(g.filled, 1):
                sums[i] += n
    statuses = [(s, by_status.pop(s)) for s in STATUS_ORDER if s in by_status]
    statuses += sorted(by_status.items())
    shown = [(f.attribute, i) for i, f in enumerate(COVERAGE_FIELDS, 1) if f.attribute]
    generators = sorted((GeneratorCoverage(gen, sums[0], **{attr: sums[i] for attr, i in shown})
                         for gen, sums in parsed.items()), key=lambda g: (-g.images, g.generator.lower()))

    grouped: dict[tuple[str, str], list] = {}
    for status, error, count, example in con.execute(
            "SELECT COALESCE(parse_status, '(none)'), error, COUNT(*), MIN(path) FROM images"
            " WHERE parse_status IS NULL OR parse_status NOT IN (?, ?) GROUP BY 1, 2",
            (STATUS_OK, STATUS_NO_METADATA)):
        key = (status, failure_reason(error))
        entry = grouped.setdefault(key, [0, example])
        entry[0] += count
        if example is not None and (entry[1] is None or example < entry[1]):
            entry[1] = example
    reasons = sorted((FailureReason(s, r, n, ex) for (s, r), (n, ex) in grouped.items()),
                     key=lambda f: (-f.images, f.status, f.reason))
    return Coverage(total=sum(n for _, n in statuses), statuses=tuple(statuses), generators=tuple(generators),
                    reasons=tuple(reasons), unknown=counted.unknown(), unread=counted.unread(),
                    disagreements=counted.disagreements())
