"""Example images for the top values of every parameter, model and LoRA: the report shows a few
small thumbnails beside each value, so a number can be seen, not only read.

For each of the ``top`` most frequent values of a parameter (as the counts name it: canonical
samplers and models, numbers as written, sizes ``WxH``) and of the LoRAs, up to ``per`` images of
the selection that have it, the most recently indexed first (highest id: deterministic, and
usually the user's latest work). Each image is listed once with what a thumbnail needs.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Optional, Sequence

import pandas as pd

from .counts import NUMERIC_COLUMNS, PARAMETERS, Counts
from .resources import LORA_KINDS

logger = logging.getLogger(__name__)

TOP_VALUES = 8
PER_VALUE = 4
_CHUNK = 500


@dataclass(frozen=True)
class ExampleImage:
    id: int
    path: str
    sha256: Optional[str]
    size_bytes: Optional[int]
    mtime_ns: Optional[int]
    prompt: Optional[str]


@dataclass(frozen=True)
class Examples:
    by_value: tuple[tuple[str, str, tuple[int, ...]], ...] = ()  # (parameter or 'LoRA', value, image ids)
    images: tuple[ExampleImage, ...] = ()

    def ids_for(self, parameter: str, value: str) -> tuple[int, ...]:
        return next((ids for p, v, ids in self.by_value if p == parameter and v == value), ())


def pick_examples(con: sqlite3.Connection, frame: pd.DataFrame, parameters: Sequence[Counts],
                  resources: pd.DataFrame, top: int = TOP_VALUES, per: int = PER_VALUE) -> Examples:
    if per <= 0 or frame.empty:
        return Examples()
    columns = dict(PARAMETERS)
    by_value = []
    for counts in parameters:
        column = columns.get(counts.name)
        if column is None:
            continue
        for value, _n in counts.items[:top]:
            ids = _ids_with(frame, column, value, per)
            if ids:
                by_value.append((counts.name, value, ids))
    if not resources.empty:
        loras = resources[resources["kind"].isin(LORA_KINDS)]
        ranked = loras.drop_duplicates(["image_id", "name"]).groupby("name")["image_id"]
        order = ranked.size().sort_values(ascending=False, kind="stable")
        for name in list(order.index[:top]):
            ids = tuple(int(i) for i in sorted(ranked.get_group(name), reverse=True)[:per])
            by_value.append(("LoRA", str(name), ids))
    wanted = sorted({i for _, _, ids in by_value for i in ids})
    return Examples(tuple(by_value), tuple(_images(con, wanted)))


def _ids_with(frame: pd.DataFrame, column: str, value: str, per: int) -> tuple[int, ...]:
    if column == "size":
        try:
            w, h = (int(x) for x in value.split("x"))
        except ValueError:
            return ()
        mask = (frame["width"] == w) & (frame["height"] == h)
    elif column in NUMERIC_COLUMNS:
        try:
            mask = frame[column] == float(value)
        except ValueError:
            return ()
    else:
        mask = frame[column] == value
    ids = frame.loc[mask, "id"]
    return tuple(int(i) for i in ids.iloc[::-1][:per])


def _images(con: sqlite3.Connection, ids: list[int]) -> list[ExampleImage]:
    out = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        out += [ExampleImage(*row) for row in con.execute(
            f"SELECT id, path, sha256, size_bytes, mtime_ns, prompt FROM images WHERE id IN "
            f"({', '.join('?' for _ in chunk)}) ORDER BY id", chunk)]
    return out
