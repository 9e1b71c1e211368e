"""Model cards: each model's usual settings (``model_cards.txt``, ``report.json`` ->
``model_cards[]``).

One card per model of the selection frame (its canonical name, or the name as written with
``--raw-names``), most used first: images and share (of the images that name a model, so the
shares add up to 100%), the days of first and last use (the day of the earliest and latest
``created_at``, with the sources that dated the model's images: a copied file dated only by its
mtime moves), the quartiles of CFG scale, steps and denoising strength (``distributions``' rules:
numpy's "linear" method over the values that can be settings; fewer than ``SMALL_SAMPLE`` values
are named in ``small_sample``), then the most used sampler + schedule pairs, generation sizes
with their aspect ratios, VAEs, LoRAs (images and mean weight) and generators.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Hashable, Optional

import numpy as np
import pandas as pd

from .columns import distinct_values, filled
from .distributions import NUMERIC_PARAMETERS, SMALL_SAMPLE, quartiles, ratio_name, usable_sizes, usable_values
from .resources import LORA_KINDS, LoraStat
from .timeline import SourceCounts, date_sources, source_counts

logger = logging.getLogger(__name__)

TOP_VALUES = 5  # sampler pairs, sizes, VAEs and generators listed per card
TOP_LORAS = 10
# card prefix -> the numeric parameter whose quartiles it shows
QUARTILE_PARAMETERS = (("cfg", "cfg_scale"), ("steps", "steps"), ("denoise", "denoising_strength"))


@dataclass(frozen=True)
class SamplerUse:
    sampler: str
    schedule: Optional[str]  # None: the image names no schedule
    images: int


@dataclass(frozen=True)
class SizeUse:
    size: str  # 'WxH' of the generation size
    width: int
    height: int
    aspect_ratio: str  # '2:3', '~16:9' near a usual ratio, '' near none
    images: int


@dataclass(frozen=True)
class NameUse:
    name: str
    images: int


@dataclass(frozen=True)
class ModelCard:
    """One model's usual settings. Quartiles are None without a usable value; ``*_images``
    counts the images they rest on."""

    model: str
    images: int
    share: float  # of the images that name a model
    first_used: Optional[str]  # YYYY-MM-DD of the earliest created_at
    last_used: Optional[str]
    dated: int  # images with a date
    date_sources: SourceCounts  # the dated images by the source of their date
    cfg_images: int
    cfg_q1: Optional[float]
    cfg_median: Optional[float]
    cfg_q3: Optional[float]
    steps_images: int
    steps_q1: Optional[float]
    steps_median: Optional[float]
    steps_q3: Optional[float]
    denoise_images: int
    denoise_q1: Optional[float]
    denoise_median: Optional[float]
    denoise_q3: Optional[float]
    small_sample: tuple[str, ...]  # of cfg, steps, denoise: quartiles on fewer than SMALL_SAMPLE values
    top_samplers: tuple[SamplerUse, ...]
    sizes: tuple[SizeUse, ...]
    vaes: tuple[NameUse, ...]
    images_with_lora: int
    loras: tuple[LoraStat, ...]
    generators: tuple[NameUse, ...]


def _ranked(counts: pd.Series, top: int) -> dict[int, list[tuple[tuple, int]]]:
    """Model code -> its ``top`` most frequent keys of ``counts`` (indexed by (code, *key)),
    most images first, ties by the key (text case-insensitively)."""
    per_model: dict[int, list[tuple[tuple, int]]] = {}
    for index, n in counts.items():
        per_model.setdefault(int(index[0]), []).append((tuple(index[1:]), int(n)))

    def order(item: tuple[tuple, int]) -> tuple:
        return (-item[1], *((v.casefold(), v) if isinstance(v, str) else (0, v) for v in item[0]))
    return {code: sorted(items, key=order)[:top] for code, items in per_model.items()}


def _count(codes: np.ndarray, keys: dict[str, np.ndarray], top: int = TOP_VALUES) -> dict[int, list[tuple[tuple, int]]]:
    """Per model code the most used combinations of ``keys`` (rows where none is missing)."""
    frame = pd.DataFrame({"code": codes, **keys}).dropna()
    if frame.empty:
        return {}
    return _ranked(frame.groupby(["code", *keys], sort=False).size(), top)


def _quartiles(codes: np.ndarray, values: np.ndarray, models: int) -> list[tuple[int, Optional[tuple]]]:
    """Per model code: (usable values, (Q1, median, Q3) or None)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes, sorted_values = codes[order], values[order]
    bounds = np.searchsorted(sorted_codes, np.arange(models + 1))
    out = []
    for code in range(models):
        part = sorted_values[bounds[code]:bounds[code + 1]]
        out.append((len(part), quartiles(part) if len(part) else None))
    return out


def _lora_stats(ids: np.ndarray, codes: np.ndarray, resources: pd.DataFrame
                ) -> tuple[dict[int, int], dict[int, list[LoraStat]]]:
    """Per model code: images with a LoRA, and its LoRAs (images, mean weight), most used first.
    Counted on arrays: a million images' LoRA rows as a frame and its groupings took ~70 MB."""
    if resources.empty or not len(ids):
        return {}, {}
    rows = np.flatnonzero(resources["kind"].isin(LORA_KINDS).to_numpy())
    image_ids = resources["image_id"].to_numpy()[rows]
    # each LoRA row's model code, by binary search of its image among the model's images (ids,
    # ascending as the selection reads them; sorted here if not)
    order = None if bool(np.all(ids[1:] >= ids[:-1])) else np.argsort(ids, kind="stable")
    sorted_ids = ids if order is None else ids[order]
    at = np.searchsorted(sorted_ids, image_ids).clip(max=len(ids) - 1)
    found = sorted_ids[at] == image_ids
    if not found.any():
        return {}, {}
    rows, at, image = rows[found], at[found], image_ids[found]
    del image_ids, found, sorted_ids
    code = codes[at if order is None else order[at]].astype(np.int64)
    del at, order
    names = resources["name"].array[rows]
    weight = resources["weight"].to_numpy(dtype=float)[rows]
    del rows
    first_of_image = np.unique(image, return_index=True)[1]  # an image has one model: count it once
    with_lora = {int(c): int(n) for c, n in enumerate(np.bincount(code[first_of_image])) if n}
    del first_of_image
    code *= len(names.categories) + 1
    code += names.codes  # (model, LoRA) as one number
    keys, key_of_row = np.unique(code, return_inverse=True)
    del code
    by_pair = np.lexsort((image, key_of_row))
    pair, image = key_of_row[by_pair], image[by_pair]
    del by_pair
    new_image = np.ones(len(pair), dtype=bool)  # a LoRA twice in one image counts once
    new_image[1:] = (pair[1:] != pair[:-1]) | (image[1:] != image[:-1])
    images = np.bincount(pair[new_image], minlength=len(keys))
    del pair, image, new_image
    weighted = ~np.isnan(weight)
    weight_sum = np.bincount(key_of_row, weights=np.where(weighted, weight, 0.0), minlength=len(keys))
    weight_n = np.bincount(key_of_row, weights=weighted, minlength=len(keys))
    pair_code, pair_name = keys // (len(names.categories) + 1), names.categories[keys % (len(names.categories) + 1)]
    counts = pd.Series(images, index=pd.MultiIndex.from_arrays([pair_code, pair_name]))
    mean = {(int(c), str(n)): (weight_sum[i] / weight_n[i] if weight_n[i] else None)
            for i, (c, n) in enumerate(zip(pair_code, pair_name))}
    top = _ranked(counts, TOP_LORAS)
    stats = {code: [LoraStat(str(name), n, None if (w := mean[(code, str(name))]) is None else float(w))
                    for (name,), n in items] for code, items in top.items()}
    return with_lora, stats


def _first_last(codes: np.ndarray, frame: pd.DataFrame, named: np.ndarray
                ) -> tuple[pd.DataFrame, dict[int, SourceCounts]]:
    """Per model code: first and last day of use and images dated; and the sources of those dates."""
    text, rows = distinct_values(frame["created_to_hour"], missing="")
    day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce").to_numpy()[rows[named]]
    dated = ~np.isnat(day)
    days = pd.DataFrame({"code": codes[dated], "day": day[dated]})
    spans = days.groupby("code")["day"].agg(["min", "max", "size"])
    for end in ("min", "max"):
        spans[end] = spans[end].dt.strftime("%Y-%m-%d")
    sources = date_sources(frame).array[named]
    by_source = {int(code): source_counts(group)
                 for code, group in pd.Series(sources[dated]).groupby(codes[dated])}
    return spans, by_source


def model_cards(frame: pd.DataFrame, resources: pd.DataFrame) -> tuple[ModelCard, ...]:
    """A card for every model of the selection frame, most images first (ties by name)."""
    if frame.empty or not (named := frame["model"].notna().to_numpy()).any():
        return ()

    # the columns of the rows that name a model, as arrays (no copy of the frame: it is most of it)
    def column(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=float)[named]

    def labels(series: pd.Series) -> pd.api.extensions.ExtensionArray:
        return series.array[named]

    codes, models = pd.factorize(labels(frame["model"]), sort=False)
    codes = codes.astype(np.int32)  # a model per image: half the bytes of int64 in every grouping below
    images = np.bincount(codes, minlength=len(models))
    total = int(images.sum())
    by_column = {p.column: p for p in NUMERIC_PARAMETERS}
    spreads: dict[str, list] = {}
    for prefix, name in QUARTILE_PARAMETERS:
        values = column(name)
        usable = usable_values(values, by_column[name])
        spreads[prefix] = _quartiles(codes[usable], values[usable], len(models))
    samplers = _count(codes, {"sampler": labels(frame["sampler"]), "schedule": labels(filled(frame["scheduler"], ""))})
    width, height = column("width"), column("height")
    sized = usable_sizes(width, height)
    sizes = _count(codes[sized], {"width": width[sized].astype(np.int32), "height": height[sized].astype(np.int32)})
    vaes = _count(codes, {"vae": labels(frame["vae"])})
    generators = _count(codes, {"generator": labels(frame["generator"])})
    with_lora, loras = _lora_stats(frame["id"].to_numpy()[named], codes, resources)
    spans, sources = _first_last(codes, frame, named)
    cards = []
    for code, model in enumerate(models):
        span = spans.loc[code] if code in spans.index else None
        quartile_fields: dict[str, object] = {}
        small = []
        for prefix, _ in QUARTILE_PARAMETERS:
            n, q = spreads[prefix][code]
            quartile_fields.update({f"{prefix}_images": n, f"{prefix}_q1": q and q[0], f"{prefix}_median": q and q[1],
                                    f"{prefix}_q3": q and q[2]})
            if 0 < n < SMALL_SAMPLE:
                small.append(prefix)
        cards.append(ModelCard(
            model=str(model), images=int(images[code]), share=float(images[code] / total),
            first_used=None if span is None else str(span["min"]), last_used=None if span is None else str(span["max"]),
            dated=0 if span is None else int(span["size"]), date_sources=sources.get(code, ()),
            **quartile_fields, small_sample=tuple(small),  # type: ignore[arg-type]
            top_samplers=tuple(SamplerUse(str(s), str(k) or None, n) for (s, k), n in samplers.get(code, [])),
            sizes=tuple(SizeUse(f"{w}x{h}", int(w), int(h), ratio_name(w / h), n) for (w, h), n in sizes.get(code, [])),
            vaes=_names(vaes, code), images_with_lora=with_lora.get(code, 0), loras=tuple(loras.get(code, [])),
            generators=_names(generators, code)))
    cards.sort(key=lambda c: (-c.images, c.model.casefold(), c.model))
    return tuple(cards)


def _names(counted: dict[int, list[tuple[tuple, int]]], code: Hashable) -> tuple[NameUse, ...]:
    return tuple(NameUse(str(name), n) for (name,), n in counted.get(code, []))  # type: ignore[call-overload]
