"""Value counts of the parameters: how many images use each sampler, CFG scale, size, model…

Empty values are not a category (a missing sampler is simply not counted); ties are broken
by the value (numbers numerically, text alphabetically) so reports are stable from run to run.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

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
# parameter columns read as labels (stripped; empty means missing)
TEXT_COLUMNS = ("generator", "sampler", "scheduler", "model", "vae")


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


def label(value) -> Optional[str]:
    """A text parameter as a category label: stripped; empty means missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def text_values(series: pd.Series) -> pd.Series:
    """The non-empty values of a text column (already stripped by load_selection)."""
    s = series.dropna()
    if series.name not in TEXT_COLUMNS:
        s = s.map(label).dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):  # a category no row of these has is not a value
        s = s.cat.remove_unused_categories()
    return s


def sorted_counts(vc: pd.Series, numeric: bool) -> list[tuple[object, int]]:
    """Count descending; ties by value (numerically for numbers); a zero count (a category
    of a categorical column that no counted row has) is not a value."""
    if numeric:
        pairs = [(float(k), int(v)) for k, v in vc.items() if v]
        return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))
    pairs = [(str(k), int(v)) for k, v in vc.items() if v]
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
        return Counts(name, tuple((format_number(k), c) for k, c in sorted_counts(vc, numeric=True)))
    vc = text_values(frame[column]).value_counts(sort=False)
    return Counts(name, tuple(sorted_counts(vc, numeric=False)))


def parameter_counts(frame: pd.DataFrame) -> tuple[Counts, ...]:
    return tuple(value_counts(frame, name, column) for name, column in PARAMETERS)


def counts_from_counter(name: str, counter: Counter) -> Counts:
    return Counts(name, tuple(sorted(((str(k), int(v)) for k, v in counter.items() if v),
                                     key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))))
