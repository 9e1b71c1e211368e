"""How well the parsers cover a database: images per parse status, per generator (with how many
of them have each main field) and per failure reason.

A pure query function over an open connection to our database; the CLI formats the result
(``parameter_statistic_DB.py coverage``). Failure reasons are the stable part of the
``error`` column — ``no known generation format (PNG:Comment: '…')`` counts as ``no known
generation format`` — so images fail together under one line per cause.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Optional

logger = logging.getLogger(__name__)

STATUS_ORDER = ("ok", "no_metadata", "unparsed", "error")
_PATH_TAIL_RE = re.compile(r"\s+(?:-\s+|in\s+|for\s+)?(?:[A-Za-z]:)?[\\/]\S.*$")


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

    @property
    def parsed(self) -> int:
        return dict(self.statuses).get("ok", 0)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "statuses": dict(self.statuses),
                "generators": [g.as_dict() for g in self.generators],
                "reasons": [r.as_dict() for r in self.reasons]}


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
    text = error.strip().split("; ")[0]
    cut = text.find(" (")
    if cut > 0:
        text = text[:cut]
    text = _PATH_TAIL_RE.sub("", text).rstrip(" :-")
    return text.strip()[:120] or "(no reason recorded)"


def parse_coverage(con: sqlite3.Connection) -> Coverage:
    """Counts over table ``images`` of an open database connection (read only)."""
    total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    by_status = {row[0]: row[1] for row in con.execute(
        "SELECT COALESCE(parse_status, '(none)'), COUNT(*) FROM images GROUP BY 1")}
    statuses = [(s, by_status.pop(s)) for s in STATUS_ORDER if s in by_status]
    statuses += sorted(by_status.items())

    generators = []
    for row in con.execute(
            "SELECT COALESCE(generator, '(unknown)'), COUNT(*),"
            " SUM(prompt IS NOT NULL AND prompt <> ''), SUM(negative_prompt IS NOT NULL AND negative_prompt <> ''),"
            " SUM(seed IS NOT NULL), SUM(steps IS NOT NULL), SUM(sampler IS NOT NULL AND sampler <> ''),"
            " SUM(cfg_scale IS NOT NULL), SUM(width IS NOT NULL AND height IS NOT NULL),"
            " SUM(model IS NOT NULL AND model <> '')"
            " FROM images WHERE parse_status = 'ok' GROUP BY 1"):
        generators.append(GeneratorCoverage(str(row[0]), *(int(v or 0) for v in row[1:])))
    generators.sort(key=lambda g: (-g.images, g.generator.lower()))

    grouped: dict[tuple[str, str], list] = {}
    for status, error, count, example in con.execute(
            "SELECT COALESCE(parse_status, '(none)'), error, COUNT(*), MIN(path) FROM images"
            " WHERE parse_status IS NULL OR parse_status NOT IN ('ok', 'no_metadata')"
            " GROUP BY 1, 2"):
        key = (status, failure_reason(error))
        entry = grouped.setdefault(key, [0, example])
        entry[0] += count
        if example is not None and (entry[1] is None or example < entry[1]):
            entry[1] = example
    reasons = sorted((FailureReason(s, r, n, ex) for (s, r), (n, ex) in grouped.items()),
                     key=lambda f: (-f.images, f.status, f.reason))
    return Coverage(total=total, statuses=tuple(statuses), generators=tuple(generators), reasons=tuple(reasons))
