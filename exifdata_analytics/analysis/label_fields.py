"""The fields a label is compared against, per labelled image, as 0/1 indicator blocks: one
column per value (sampler ``Euler a``, LoRA ``add_detail``, CFG scale ``[7, 8)``, …), one row
per image. An image has at most one value of a single-valued field and any number of LoRAs
and prompt tags.

Each field has a *base*, the images that could have one of its values: those with a value
(sampler, schedule, model, VAE, size, generator, CFG scale, steps), those with generation data
(LoRA: an image without one is an image without LoRAs), those whose prompt has a tag (prompt
tags). Shares are taken within the base, so that photos without any recipe do not make every
sampler look like a keeper's. Names are the canonical ones the selection and
``load_resources`` give.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..models import STATUS_OK
from .counts import format_number
from .prompts import TagMatrix
from .resources import LORA_KINDS

logger = logging.getLogger(__name__)

# numeric parameters compared by bins [low, high): whole CFG numbers around the usual 5..9,
# steps around the usual 20..40; open-ended bins below the first edge and from the last
BIN_EDGES: dict[str, tuple[float, ...]] = {
    "cfg_scale": (2, 4, 5, 6, 7, 8, 9, 10, 13),
    "steps": (10, 20, 25, 30, 40, 50, 80),
}
# (field name, selection column or the kind of field), in the report's order
FIELDS: tuple[tuple[str, str], ...] = (
    ("Sampler", "sampler"), ("Schedule", "scheduler"), ("Model", "model"), ("LoRA", "lora"), ("VAE", "vae"),
    ("CFG scale", "cfg_scale"), ("Steps", "steps"), ("Size", "size"), ("Generator", "generator"),
    ("Prompt tag", "tags"),
)
TAG_TOP = 40  # prompt tags compared: the most frequent among the labelled images


@dataclass(frozen=True)
class FieldBlock:
    """One field over the labelled images: ``matrix[i, j]`` is 1 when image i has value j."""

    name: str
    values: tuple[str, ...]
    matrix: object  # scipy.sparse csr matrix, images x values
    base: np.ndarray  # bool per image: could have a value of this field
    rare: int = 0  # values left out because fewer than the minimum images have them

    @property
    def counts(self) -> np.ndarray:
        return np.asarray(self.matrix.sum(axis=0)).ravel().astype(np.int64)


def bin_labels(edges: Sequence[float]) -> list[str]:
    """'< 2', '[2, 4)', …, '>= 13' for the bins of ``edges``."""
    text = [format_number(e) for e in edges]
    return [f"< {text[0]}", *(f"[{a}, {b})" for a, b in zip(text, text[1:])), f">= {text[-1]}"]


def _block(name: str, rows: np.ndarray, values: Sequence[str], n: int, base: np.ndarray, min_images: int,
           repeats: bool = False) -> FieldBlock:
    """The block of the (row, value) pairs (with ``repeats``, a pair given twice counts once),
    keeping values of at least ``min_images`` images, most frequent first."""
    from scipy.sparse import csr_matrix

    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    rows = np.asarray(rows, dtype=np.int64)
    inside = base[rows] if len(rows) else np.zeros(0, dtype=bool)  # not a LoRA of an unparsed file
    rows, codes = rows[inside], codes[inside]
    if repeats:
        width = max(len(uniques), 1)
        pairs = np.unique(rows * width + codes)
        rows, codes = pairs // width, pairs % width
    counts = np.bincount(codes, minlength=len(uniques))
    ranked = sorted(range(len(uniques)), key=lambda j: (-counts[j], str(uniques[j]).casefold(), str(uniques[j])))
    kept = [j for j in ranked if 0 < counts[j] and counts[j] >= min_images]
    column = np.full(len(uniques), -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    chosen = column[codes] >= 0
    matrix = csr_matrix((np.ones(int(chosen.sum()), dtype=np.int8), (rows[chosen], column[codes[chosen]])),
                        shape=(n, len(kept)))
    return FieldBlock(name, tuple(str(uniques[j]) for j in kept), matrix, base,
                      int((counts > 0).sum()) - len(kept))


def _single(name: str, values: pd.Series, min_images: int) -> FieldBlock:
    """A single-valued field from one value (or None) per image."""
    present = values.notna().to_numpy()
    rows = np.flatnonzero(present)
    return _block(name, rows, values.to_numpy()[present], len(values), present, min_images)


def _binned(name: str, numbers: pd.Series, edges: Sequence[float], min_images: int) -> FieldBlock:
    x = numbers.to_numpy(dtype=float)
    present = np.isfinite(x)
    labels = np.array(bin_labels(edges), dtype=object)
    index = np.searchsorted(np.asarray(edges, dtype=float), x[present], side="right")
    return _block(name, np.flatnonzero(present), labels[index], len(x), present, min_images)


def _sizes(frame: pd.DataFrame) -> pd.Series:
    """'WxH' of each image's generation size (None without one)."""
    sizes = frame[["width", "height"]].astype(float)
    present = np.isfinite(sizes.to_numpy()).all(axis=1)
    names = {pair: f"{format_number(pair[0])}x{format_number(pair[1])}"
             for pair in set(map(tuple, sizes.to_numpy()[present]))}
    values = np.full(len(frame), None, dtype=object)
    values[present] = [names[pair] for pair in map(tuple, sizes.to_numpy()[present])]
    return pd.Series(values, dtype=object)


def field_blocks(frame: pd.DataFrame, resources: pd.DataFrame, tags: TagMatrix, min_images: int) -> list[FieldBlock]:
    """Every field of ``FIELDS`` over the images of ``frame`` (its row order), values of fewer
    than ``min_images`` images left out. ``resources`` are ``load_resources`` rows;
    ``tags`` holds the prompt tags of (at least) these images (``prompt_stream.FirstPass.tag_matrix``)."""
    n = len(frame)
    ids = frame["id"].to_numpy()
    row_of = pd.Series(np.arange(n), index=pd.Index(ids, dtype="int64"))
    blocks = []
    for name, column in FIELDS:
        if column == "lora":
            loras = resources[resources["kind"].isin(LORA_KINDS) & resources["image_id"].isin(row_of.index)]
            base = (frame["parse_status"] == STATUS_OK).to_numpy()
            blocks.append(_block(name, row_of[loras["image_id"]].to_numpy(), loras["name"].tolist(), n, base,
                                 min_images, repeats=True))
        elif column == "tags":
            blocks.append(_tag_block(name, row_of, tags, n, min_images))
        elif column == "size":
            blocks.append(_single(name, _sizes(frame), min_images))
        elif column in BIN_EDGES:
            blocks.append(_binned(name, frame[column], BIN_EDGES[column], min_images))
        else:
            blocks.append(_single(name, frame[column].reset_index(drop=True), min_images))
    return blocks


def _tag_block(name: str, row_of: pd.Series, tags: TagMatrix, n: int, min_images: int) -> FieldBlock:
    """The ``TAG_TOP`` most frequent prompt tags among the images (those with a prompt are the base)."""
    from scipy.sparse import csr_matrix

    mine = np.flatnonzero(np.isin(tags.index, row_of.index.to_numpy()))
    matrix = tags.matrix[mine]
    rows = row_of[tags.index[mine]].to_numpy()
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    present = np.flatnonzero(counts)
    order = present[np.lexsort((tags.tags[present], -counts[present]))]  # most images first, then the tag
    top = [j for j in order[:TAG_TOP] if counts[j] >= min_images]
    base = np.zeros(n, dtype=bool)
    base[rows[np.diff(matrix.indptr) > 0]] = True
    picked = matrix[:, top].tocoo()
    block = csr_matrix((picked.data, (rows[picked.row], picked.col)), shape=(n, len(top)))
    rare = int(((counts > 0) & (counts < min_images)).sum())  # the frequent tags past the top are not counted
    return FieldBlock(name, tuple(str(tags.tags[j]) for j in top), block, base, rare)
