"""Time: images, models and samplers per month of ``created_at`` (trends), and when images are
made by weekday and hour (habits), each with how many images each date source dated.

Habits count only images with a time of day: a date without one (a date folder, a date-only
name) says nothing about the hour, unless the file's mtime falls on that very day, which a
copy or a restore would have moved (the image then counts as ``<source> + mtime``)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ..models import CREATED_MTIME, CREATED_SOURCES
from .columns import distinct_values, filled, per_value
from .counts import sorted_counts, text_values

logger = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNRECORDED = "unrecorded"  # rows indexed before created_source existed (DB_filler.py --reparse records it)
VIA_MTIME = " + mtime"  # a date-only source whose time of day is the mtime's on that day

_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")

SourceCounts = tuple[tuple[str, int], ...]  # (created_source, images), most trusted source first


def _source_key(item: tuple[str, int]) -> tuple:
    base, via, _ = item[0].partition(VIA_MTIME)
    rank = CREATED_SOURCES.index(base) if base in CREATED_SOURCES else len(CREATED_SOURCES)
    return rank, bool(via), item[0]


def source_counts(sources: pd.Series, via_mtime: Optional[pd.Series] = None) -> SourceCounts:
    """Images per source label, in the order of trust (``models.CREATED_SOURCES``), then others;
    ``via_mtime``: images whose time of day is their mtime's, counted as '<source> + mtime'."""
    pairs = [(str(k), int(v)) for k, v in sources.value_counts().items() if v]
    if via_mtime is not None:
        pairs += [(str(k) + VIA_MTIME, int(v)) for k, v in via_mtime.value_counts().items() if v]
    return tuple(sorted(pairs, key=_source_key))


def date_sources(frame: pd.DataFrame) -> pd.Series:
    """Where each image's date came from (``created_source``; ``UNRECORDED`` where no source was kept)."""
    if "created_source" not in frame:
        return pd.Series(UNRECORDED, index=frame.index, dtype=object)
    return filled(frame["created_source"], UNRECORDED)


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
    sources: SourceCounts = ()  # the dated images by the source of their date


def _month(created: str) -> Optional[str]:
    """'YYYY-MM' of a created_at, None if it has none."""
    return created[:7] if _MONTH_RE.match(created[:7]) else None


def months_of(frame: pd.DataFrame) -> pd.Series:
    """The month ('YYYY-MM') of each dated image, from ``created_to_hour`` (the frame's
    created_at to the hour); the undated images are left out."""
    return per_value(frame["created_to_hour"], _month).dropna()


def _month_range(present: Sequence[str]) -> list[str]:
    first, last = pd.Period(present[0], "M"), pd.Period(present[-1], "M")
    if (last - first).n > 600:  # a stray 1970 date must not create fifty years of empty months
        return list(present)
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _per_month(frame: pd.DataFrame, month: pd.Series, column: str, months: list[str], top: int
               ) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[Optional[tuple[str, int]], ...]]:
    labels = text_values(frame.loc[month.index, column])
    if labels.empty:
        return (), tuple(None for _ in months)
    joined = pd.DataFrame({"m": month.loc[labels.index], "v": labels})
    table = joined.groupby(["v", "m"]).size().unstack(fill_value=0).reindex(columns=months, fill_value=0)
    overall = [k for k, _ in sorted_counts(table.sum(axis=1), numeric=False)][:top]
    series = tuple((name, tuple(int(x) for x in table.loc[name])) for name in overall)
    best: list[Optional[tuple[str, int]]] = []
    for m in months:
        col = table[m]
        col = col[col > 0]
        if col.empty:
            best.append(None)
        else:
            name, count = sorted_counts(col, numeric=False)[0]
            best.append((str(name), int(count)))
    return series, tuple(best)


def monthly_trends(frame: pd.DataFrame, top: int = 5) -> Trends:
    if frame.empty:
        return Trends()
    month = months_of(frame)
    undated = len(frame) - len(month)
    if month.empty:
        return Trends(undated=undated)
    sources = source_counts(date_sources(frame).loc[month.index])
    present = sorted(month.unique())
    months = _month_range(present)
    images = month.value_counts().reindex(months, fill_value=0)
    models, top_model = _per_month(frame, month, "model", months, top)
    samplers, top_sampler = _per_month(frame, month, "sampler", months, top)
    return Trends(tuple(months), tuple(int(x) for x in images), models, samplers, top_model, top_sampler, undated,
                  sources)


@dataclass(frozen=True)
class Habits:
    """When images are made: by weekday (Monday first) and hour of ``created_at``, over the
    images whose date has a time of day."""

    weekday: tuple[int, ...] = (0,) * 7
    hour: tuple[int, ...] = (0,) * 24
    grid: tuple[tuple[int, ...], ...] = ((0,) * 24,) * 7  # weekday x hour
    undated: int = 0  # no usable date at all
    sources: SourceCounts = ()  # the images counted, by the source of their time of day
    date_only: SourceCounts = ()  # left out: dated by day only, by source

    @property
    def images(self) -> int:
        return sum(n for _, n in self.sources)

    @property
    def mtime_only(self) -> int:
        """Images counted whose only date is the file's mtime (a copy or a restore moves it)."""
        return sum(n for name, n in self.sources if name == CREATED_MTIME)

    @property
    def left_out(self) -> int:
        return sum(n for _, n in self.date_only)


def weekday_hour(frame: pd.DataFrame) -> Habits:
    if frame.empty:
        return Habits()
    # day, hour and "a day only" computed once per distinct created_at to the hour, then per image
    text, codes = distinct_values(frame["created_to_hour"], missing="")
    day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    has_time = text.str.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:")
    hour = pd.to_numeric(text.str.slice(11, 13).where(has_time), errors="coerce").to_numpy(dtype=float)[codes]
    weekday = day.dt.day_of_week.to_numpy(dtype=float, na_value=np.nan)[codes]
    dated = day.notna().to_numpy()[codes]
    sources = date_sources(frame)
    timed = dated & ~np.isnan(hour) & (hour >= 0) & (hour <= 23)
    if "mtime_hour" in frame:
        same_day = pd.to_numeric(frame["mtime_hour"], errors="coerce").to_numpy(dtype=float)
        borrowed = dated & ~timed & (text.str.len() == 10).to_numpy()[codes] & ~np.isnan(same_day)
        hour = np.where(borrowed, same_day, hour)
    else:
        borrowed = np.zeros(len(frame), dtype=bool)
    own = timed
    timed = timed | borrowed
    grid = np.bincount(weekday[timed].astype(np.int64) * 24 + hour[timed].astype(np.int64),
                       minlength=7 * 24).reshape(7, 24)
    return Habits(tuple(int(x) for x in grid.sum(axis=1)), tuple(int(x) for x in grid.sum(axis=0)),
                  tuple(tuple(int(v) for v in r) for r in grid), int((~dated).sum()),
                  source_counts(sources[own], sources[borrowed]), source_counts(sources[dated & ~timed]))
