"""Time: images, models and samplers per month of ``created_at`` (trends), and when images are
made by weekday and hour (habits), each with how many images each date source dated.

Habits count only images with a time of day: a date without one (a date folder, a date-only
name) says nothing about the hour, unless the file's mtime falls on that very day, which a
copy or a restore would have moved (the image then counts as ``<source> + mtime``)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import pandas as pd

from ..models import CREATED_MTIME, CREATED_SOURCES
from .counts import sorted_counts, text_values

logger = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNRECORDED = "unrecorded"  # rows indexed before created_source existed (DB_filler.py --reparse records it)
VIA_MTIME = " + mtime"  # a date-only source whose time of day is the mtime's on that day

SourceCounts = tuple[tuple[str, int], ...]  # (created_source, images), most trusted source first


def _source_key(item: tuple[str, int]) -> tuple:
    base, via, _ = item[0].partition(VIA_MTIME)
    rank = CREATED_SOURCES.index(base) if base in CREATED_SOURCES else len(CREATED_SOURCES)
    return rank, bool(via), item[0]


def source_counts(sources: pd.Series) -> SourceCounts:
    """Images per source label, in the order of trust (``models.CREATED_SOURCES``), then others."""
    return tuple(sorted(((str(k), int(v)) for k, v in sources.value_counts().items()), key=_source_key))


def _sources(frame: pd.DataFrame) -> pd.Series:
    if "created_source" not in frame:
        return pd.Series(UNRECORDED, index=frame.index, dtype=object)
    return frame["created_source"].fillna(UNRECORDED).astype(str)


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
    month = _months(frame)
    undated = len(frame) - len(month)
    if month.empty:
        return Trends(undated=undated)
    sources = source_counts(_sources(frame).loc[month.index])
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
    text = frame["created_at"].fillna("").astype(str)
    day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    has_time = text.str.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:")
    hour = pd.to_numeric(text.str.slice(11, 13).where(has_time), errors="coerce")
    dated = day.notna()
    sources = _sources(frame)
    timed = dated & hour.notna() & (hour >= 0) & (hour <= 23)
    if "mtime_hour" in frame:
        same_day = pd.to_numeric(frame["mtime_hour"], errors="coerce")
        borrowed = dated & ~timed & (text.str.len() == 10) & same_day.notna()
        hour = hour.where(~borrowed, same_day)
        sources = sources.where(~borrowed, sources + VIA_MTIME)
        timed = timed | borrowed
    weekday = day[timed].dt.day_of_week.astype(int)
    by_day = weekday.value_counts().reindex(range(7), fill_value=0)
    hours = hour[timed].astype(int)
    by_hour = hours.value_counts().reindex(range(24), fill_value=0)
    grid = pd.crosstab(weekday, hours).reindex(index=range(7), columns=range(24), fill_value=0)
    return Habits(tuple(int(x) for x in by_day), tuple(int(x) for x in by_hour),
                  tuple(tuple(int(v) for v in r) for r in grid.to_numpy()), int((~dated).sum()),
                  source_counts(sources[timed]), source_counts(sources[dated & ~timed]))
