"""Compact columns for frames of a million rows: each distinct label (a model, a sampler, a
day and hour) is kept once, and each row holds a small integer code (a pandas categorical).
A 13-column selection then costs a few bytes per image instead of a pointer per cell, and
grouping by a label groups small integers.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from .counts import label


class Labels:
    """The distinct labels of one column, numbered as they come; ``clean`` (``label``: stripped,
    empty is missing) runs once per distinct value of a chunk, not once per row."""

    def __init__(self, clean: Callable[[object], Optional[str]] = label) -> None:
        self._clean = clean
        self._number: dict[str, int] = {}

    def codes(self, values: Sequence) -> np.ndarray:
        """The code of each value (-1: missing)."""
        found, uniques = pd.factorize(np.array(values, dtype=object))  # None and NaN: -1
        mapped = np.full(len(uniques) + 1, -1, dtype=np.int32)  # the last one for -1
        for i, value in enumerate(uniques.tolist()):
            text = self._clean(value)
            if text is not None:
                mapped[i] = self._number.setdefault(text, len(self._number))
        codes = mapped[found]
        return codes.astype(np.int16) if len(self._number) < 2**15 else codes  # chunks of both concatenate

    def categorical(self, parts: Sequence[np.ndarray]) -> pd.Categorical:
        """The codes of ``parts`` (chunks of ``codes``) as one categorical, its categories sorted
        (so that ordering by the column orders by the text)."""
        codes = np.concatenate(parts) if len(parts) else np.array([], dtype=np.int32)
        names = list(self._number)
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.full(len(names) + 1, -1, dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return pd.Categorical.from_codes(rank[codes], categories=pd.Index([names[i] for i in order], dtype=object))


def per_value(series: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """``func`` of each row's value of a categorical column, computed once per distinct value
    (missing values give None)."""
    values, rows = distinct_values(series)
    mapped = np.empty(len(values), dtype=object)
    mapped[:-1] = [func(v) for v in values[:-1]]  # the last one, for the missing values, stays None
    return pd.Series(mapped[rows], index=series.index, dtype=object)


def distinct_values(series: pd.Series, missing: object = None) -> tuple[pd.Series, np.ndarray]:
    """(the distinct values of a categorical column, with ``missing`` last for the rows without
    one; each row's position in them): compute on the values, then index by the positions."""
    codes = series.cat.codes.to_numpy()
    distinct = pd.Series([*series.cat.categories.tolist(), missing], dtype=object)
    return distinct, np.where(codes < 0, len(distinct) - 1, codes)


def filled(series: pd.Series, value: str) -> pd.Series:
    """``series`` with ``value`` for its missing values (a categorical gains the category)."""
    if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
        series = series.cat.add_categories([value])
    return series.fillna(value)


class ImageIds:
    """Image ids as one int64 array, immutable: 8 bytes an id where a tuple of ints takes 36,
    and compact to pickle between processes. Compares equal to any sequence of the same ids."""

    __slots__ = ("_ids",)

    def __init__(self, ids: object = ()) -> None:
        array = np.array(ids, dtype=np.int64).ravel()
        array.flags.writeable = False
        self._ids = array

    @property
    def array(self) -> np.ndarray:
        return self._ids

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self._ids if dtype is None else self._ids.astype(dtype)

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self):
        return iter(self._ids.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImageIds):
            return bool(np.array_equal(self._ids, other._ids))
        if isinstance(other, (tuple, list)):
            return self._ids.tolist() == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._ids.tobytes())

    def __repr__(self) -> str:
        return f"ImageIds({len(self._ids)} ids)"

    def __getstate__(self) -> np.ndarray:
        return self._ids

    def __setstate__(self, state: np.ndarray) -> None:
        state.flags.writeable = False
        self._ids = state


def id_lookup(ids: pd.Series) -> Callable[[int], bool]:
    """Whether an image id is one of ``ids``, by binary search in one sorted array (a set of a
    million ints would take ~60 MB)."""
    selected = np.unique(ids.to_numpy(dtype=np.int64))

    def contains(image_id: int) -> bool:
        at = int(np.searchsorted(selected, image_id))
        return at < len(selected) and int(selected[at]) == image_id
    return contains
