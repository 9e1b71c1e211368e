"""LoRAs (and LyCORIS & co.) per image, with their mean weight and the models they are used
with; the other resource kinds (embeddings, hypernetworks, …) as plain counts."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from .counts import Counts, sorted_counts

logger = logging.getLogger(__name__)

LORA_KINDS = frozenset({"lora", "lycoris", "locon", "loha", "lokr", "dora"})


@dataclass(frozen=True)
class LoraStat:
    name: str
    images: int
    mean_weight: Optional[float]


@dataclass(frozen=True)
class LoraUsage:
    images_with_lora: int
    loras: tuple[LoraStat, ...] = ()
    by_model: tuple[tuple[str, str, int], ...] = ()  # (LoRA, model, images)
    other: tuple[Counts, ...] = ()  # embeddings, hypernetworks, … one Counts per kind


def lora_usage(frame: pd.DataFrame, resources: pd.DataFrame) -> LoraUsage:
    if resources.empty:
        return LoraUsage(0)
    loras = resources[resources["kind"].isin(LORA_KINDS)]
    stats: list[LoraStat] = []
    by_model: list[tuple[str, str, int]] = []
    if not loras.empty:
        grouped = loras.groupby("name").agg(images=("image_id", "nunique"), mean_weight=("weight", "mean"))
        stats = [LoraStat(str(n), int(r.images), None if pd.isna(r.mean_weight) else float(r.mean_weight))
                 for n, r in grouped.iterrows()]
        stats.sort(key=lambda s: (-s.images, s.name.casefold(), s.name))
        model_of = pd.Series(frame["model"].array, index=frame["id"].to_numpy())  # labels: stripped, never empty
        joined = loras.drop_duplicates(["image_id", "name"])
        joined = joined.assign(model=model_of.reindex(joined["image_id"].to_numpy()).array)
        joined = joined[joined["model"].notna()]
        if not joined.empty:
            vc = joined.groupby(["name", "model"]).size()
            by_model = sorted(((str(n), str(m), int(c)) for (n, m), c in vc.items()),
                              key=lambda t: (-t[2], t[0].casefold(), t[1].casefold()))
    other = []
    rest = resources[~resources["kind"].isin(LORA_KINDS)]
    for kind in sorted(rest["kind"].dropna().unique()):
        sub = rest[rest["kind"] == kind].drop_duplicates(["image_id", "name"])
        vc = sub["name"].astype(str).value_counts(sort=False)
        other.append(Counts(str(kind), tuple(sorted_counts(vc, numeric=False))))
    return LoraUsage(int(loras["image_id"].nunique()) if not loras.empty else 0, tuple(stats),
                     tuple(by_model), tuple(other))
