"""Numeric parameters along their value axis: CFG scale, steps, denoising strength, clip skip,
and the generation size as megapixels and as aspect ratio, each with its quartiles, mean and
distribution (``parameter_distributions.txt``; ``parameter_counts.txt`` keeps counting by
value, most frequent first, as the original did).

Where the values come from: the recipe columns ``cfg_scale``, ``steps``,
``denoising_strength``, ``clip_skip``; megapixels are ``width * height / 1e6`` and the aspect
ratio ``width / height`` of the *generation* size (not the pixel size of the file).

Values that cannot be settings are left out and counted (``left_out``): infinities, numbers
outside ``NumericParameter.low..high`` (CFG above 100, negative steps, a denoising strength
above 1, …) and fractions where only whole numbers are settings (20.5 steps). A size is left
out when either side is outside 8..16384 px or not whole. NaN is no value (``without``):
SQLite stores a NaN as NULL, and the selection frame holds NULL, and text in a number column
of a hand-edited database, as NaN.

Quantiles use numpy's default "linear" method (Hyndman & Fan's type 7, also pandas' and R's
default): of the n sorted values x[0] <= … <= x[n-1], the quantile p lies at position
h = (n - 1) * p and is x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).
Q1, median, Q3 are p = 0.25, 0.5, 0.75; the median of an even count is therefore the mean of
the two middle values, of a single value that value.

The distribution: values are grouped at three decimals (whole numbers for steps and clip
skip), so 0.35 and 0.35000000001 from a graph are one value. With at most ``MAX_VALUES``
distinct values, each is listed with its images, in value order. With more, about
``TARGET_BINS`` bins of one "nice" width (1, 2, 2.5 or 5 times a power of ten; whole numbers
for whole-number parameters), edges at multiples of the width, each bin [low, high). Values
further than 3 interquartile ranges from the quartiles (Tukey's "far out" values) are gathered,
from the first bin edge past that fence, in one open-ended bin at each end, so one 10,000-step
image does not squeeze every other image into one bar; with an interquartile range of 0 the
bins span min..max.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from .counts import format_number

logger = logging.getLogger(__name__)

MAX_VALUES = 25  # distinct values listed one by one; more are binned
TARGET_BINS = 20
SMALL_SAMPLE = 10  # fewer images than this: the reports say the quartiles are rough
FAR_OUT = 3.0  # interquartile ranges beyond the quartiles that start the open-ended bins
DECIMALS = 3  # values are grouped (and shown) at this many decimals
SIDE_PX = (8, 16384)  # a generation side: one latent cell .. the largest any front end offers
RATIO_TOLERANCE = 0.01  # relative distance within which a ratio carries a usual ratio's name


@dataclass(frozen=True)
class NumericParameter:
    """A numeric parameter read from one column: which values can be settings."""

    name: str
    column: str
    low: float  # inclusive
    high: float  # inclusive
    integer: bool  # only whole numbers are settings


NUMERIC_PARAMETERS: tuple[NumericParameter, ...] = (
    NumericParameter("CFG scale", "cfg_scale", 0, 100, False),
    NumericParameter("Steps", "steps", 1, 10000, True),  # ComfyUI's KSampler allows up to 10,000
    NumericParameter("Denoising strength", "denoising_strength", 0, 1, False),
    NumericParameter("Clip skip", "clip_skip", 1, 24, True),  # ComfyUI's CLIPSetLastLayer reaches -24
)
MEGAPIXELS = "Megapixels"
ASPECT_RATIO = "Aspect ratio"

# (width, height) ratios front ends offer by these names; SDXL's buckets 7:9, 13:19, 4:7, 5:12 too
USUAL_RATIOS: tuple[tuple[int, int], ...] = (
    (1, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4), (9, 16), (16, 9), (7, 9), (9, 7), (13, 19), (19, 13),
    (4, 7), (7, 4), (5, 12), (12, 5), (1, 2), (2, 1), (3, 5), (5, 3), (5, 8), (8, 5), (9, 21), (21, 9),
)


@dataclass(frozen=True)
class ValueCount:
    """One bar of a distribution: a single value (``kind`` 'value', low == high), a bin
    [low, high) ('bin'), or the open-ended bins of far-out values: 'below' (every value under
    ``high``; low is the smallest) and 'above' (every value from ``low``; high is the largest)."""

    kind: str
    low: float
    high: float
    images: int
    name: str = ""  # a value's usual name (aspect ratio '2:3', or '~16:9' when near one)

    @property
    def label(self) -> str:
        if self.kind == "value":
            text = format_number(self.low)
            return f"{text} ({self.name})" if self.name else text
        if self.kind == "below":
            return f"< {format_number(self.high)}"
        if self.kind == "above":
            return f">= {format_number(self.low)}"
        return f"[{format_number(self.low)}, {format_number(self.high)})"


@dataclass(frozen=True)
class Distribution:
    """One numeric parameter of the selected images: how many have a usable value, its
    quartiles (numpy's "linear" method, see the module), mean and distribution."""

    name: str
    source: str  # the columns the value comes from
    images: int  # images with a usable value
    without: int  # images without a value
    left_out: int  # images whose value cannot be a setting
    minimum: Optional[float] = None
    q1: Optional[float] = None
    median: Optional[float] = None
    q3: Optional[float] = None
    maximum: Optional[float] = None
    mean: Optional[float] = None
    values: tuple[ValueCount, ...] = ()
    bin_width: Optional[float] = None  # None: each distinct value is listed

    @property
    def binned(self) -> bool:
        return self.bin_width is not None

    @property
    def small_sample(self) -> bool:
        return 0 < self.images < SMALL_SAMPLE


def quartiles(values: np.ndarray) -> tuple[float, float, float]:
    """Q1, median, Q3 by numpy's default "linear" method (see the module)."""
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75], method="linear")
    return float(q1), float(median), float(q3)


def ratio_name(ratio: float) -> str:
    """'2:3' for a width/height of 2/3 (at ``DECIMALS``), '~16:9' within ``RATIO_TOLERANCE``
    of a usual ratio (1360x768 is 1.771, 16:9 1.778), '' when near none."""
    w, h = min(USUAL_RATIOS, key=lambda r: abs(math.log(ratio * r[1] / r[0])))
    if abs(ratio * h / w - 1) > RATIO_TOLERANCE:
        return ""
    return f"{w}:{h}" if round(w / h, DECIMALS) == round(ratio, DECIMALS) else f"~{w}:{h}"


def _nice_width(raw: float, integer: bool) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k (2.5 not for whole numbers) that is >= ``raw``."""
    raw = max(raw, 1.0 if integer else 10.0 ** -DECIMALS)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer and power >= 1 else (1, 2, 2.5, 5, 10)
    return next(round(m * power, 12) for m in steps if m * power >= raw * (1 - 1e-12))


def _bins(values: np.ndarray, integer: bool, q1: float, q3: float) -> tuple[tuple[ValueCount, ...], float]:
    lo, hi = float(values[0]), float(values[-1])  # sorted
    iqr = q3 - q1
    core_lo, core_hi = (max(lo, q1 - FAR_OUT * iqr), min(hi, q3 + FAR_OUT * iqr)) if iqr > 0 else (lo, hi)
    width = _nice_width((core_hi - core_lo) / TARGET_BINS, integer)
    first = math.floor(core_lo / width)
    # the float division can land one bin off either way (0.3 / 0.1 is 2.9999999999999996)
    while round(first * width, 12) > core_lo:
        first -= 1
    while round((first + 1) * width, 12) <= core_lo:
        first += 1
    last = first + 1
    while round(last * width, 12) <= core_hi:
        last += 1
    edges = np.round(np.arange(first, last + 1) * width, 12)
    index = np.searchsorted(edges, values, side="right") - 1
    counts = np.bincount(index[(index >= 0) & (index < len(edges) - 1)], minlength=len(edges) - 1)
    below, above = values[values < edges[0]], values[values >= edges[-1]]
    bars = [ValueCount("below", float(below[0]), float(edges[0]), len(below))] if len(below) else []
    bars += [ValueCount("bin", float(edges[i]), float(edges[i + 1]), int(n)) for i, n in enumerate(counts)]
    if len(above):
        bars.append(ValueCount("above", float(edges[-1]), float(above[-1]), len(above)))
    return tuple(bars), width


def _describe(name: str, source: str, kept: np.ndarray, without: int, left_out: int, integer: bool,
              named: bool = False) -> Distribution:
    """The statistics and the distribution of the usable values ``kept``."""
    if not len(kept):
        return Distribution(name, source, 0, without, left_out)
    kept = np.sort(kept)
    q1, median, q3 = quartiles(kept)
    grouped = np.round(kept, 0 if integer else DECIMALS)
    distinct, counts = np.unique(grouped, return_counts=True)
    if len(distinct) <= MAX_VALUES:
        bars = tuple(ValueCount("value", float(v), float(v), int(n), ratio_name(float(v)) if named else "")
                     for v, n in zip(distinct, counts))
        width = None
    else:
        bars, width = _bins(grouped, integer, q1, q3)
    return Distribution(name, source, len(kept), without, left_out, float(kept[0]), q1, median, q3,
                        float(kept[-1]), float(kept.mean()), bars, width)


def usable_values(values: np.ndarray, parameter: NumericParameter) -> np.ndarray:
    """Which of ``values`` can be settings of ``parameter`` (NaN and infinities cannot)."""
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(values) & (values >= parameter.low) & (values <= parameter.high)
        if parameter.integer:
            usable &= np.mod(values, 1) == 0
    return usable


def usable_sizes(width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Which generation sizes can be settings: both sides whole and within ``SIDE_PX``."""
    with np.errstate(invalid="ignore"):
        return np.logical_and.reduce([(side >= SIDE_PX[0]) & (side <= SIDE_PX[1]) & (np.mod(side, 1) == 0)
                                      for side in (width, height)])


def parameter_distribution(frame: pd.DataFrame, parameter: NumericParameter) -> Distribution:
    """One column's distribution; NaN is no value, values that cannot be settings are left out."""
    values = frame[parameter.column].to_numpy(dtype=float)
    present = values[~np.isnan(values)]
    usable = usable_values(present, parameter)
    return _describe(parameter.name, parameter.column, present[usable], len(values) - len(present),
                     int((~usable).sum()), parameter.integer)


def size_distributions(frame: pd.DataFrame) -> tuple[Distribution, Distribution]:
    """Megapixels and aspect ratio of the generation size; an image without width or height
    has no value, one with a side outside ``SIDE_PX`` or not whole is left out."""
    width, height = frame["width"].to_numpy(dtype=float), frame["height"].to_numpy(dtype=float)
    present = ~(np.isnan(width) | np.isnan(height))
    width, height = width[present], height[present]
    usable = usable_sizes(width, height)
    width, height = width[usable], height[usable]
    without, left_out = int((~present).sum()), int((~usable).sum())
    return (_describe(MEGAPIXELS, "width * height / 1e6 of the generation size", width * height / 1e6, without,
                      left_out, False),
            _describe(ASPECT_RATIO, "width / height of the generation size", width / height, without, left_out, False,
                      named=True))


def numeric_distributions(frame: pd.DataFrame) -> tuple[Distribution, ...]:
    """Every numeric parameter of the selection (``NUMERIC_PARAMETERS``, then megapixels and
    aspect ratio) as a ``Distribution``, in that order."""
    return (*(parameter_distribution(frame, p) for p in NUMERIC_PARAMETERS), *size_distributions(frame))
