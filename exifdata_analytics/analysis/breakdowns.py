"""Parameters against each other: cross-tabs (model x sampler, sampler x CFG) and two subsets
of the images side by side (``--compare``)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from .counts import NUMERIC_COLUMNS, Counts, format_number, sorted_counts, text_values, value_counts
from .selection import Selection

logger = logging.getLogger(__name__)


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
    return text_values(frame[column])


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
    row_order = [k for k, _ in sorted_counts(both["r"].value_counts(sort=False), numeric=False)][:max_rows]
    col_order = [k for k, _ in sorted_counts(both["c"].value_counts(sort=False), numeric=False)][:max_cols]
    table = vc.unstack(fill_value=0).reindex(index=row_order, columns=col_order, fill_value=0)
    grid = tuple(tuple(int(v) for v in r) for r in table.to_numpy())
    return CrossTab(row_name, col_name, tuple(pairs), tuple(row_order), tuple(col_order), grid)


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
