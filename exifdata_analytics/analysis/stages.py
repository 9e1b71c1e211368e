"""Generation stages in the statistics: how many images were made in more than one sampler
pass, in which pipelines (first → hires, first → refiner, Wan 2.2's two experts…), and what the
later passes use: their models (one name per thing, through the spellings table), samplers,
steps and denoise.

The stages come from table ``stages`` (stages.py, db.py); an image made in one pass has no
rows there. Only the selected images count, each copy once (the frame's ids).
"""
from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Optional

import pandas as pd

from ..names import canonical_sampler
from ..names.entities import file_stem
from .columns import id_lookup

logger = logging.getLogger(__name__)

TOP = 5
ARROW = " → "


@dataclass(frozen=True)
class Pipeline:
    roles: str  # 'first → hires'
    images: int


@dataclass(frozen=True)
class LaterPass:
    """The passes after the first that have one role."""
    role: str
    images: int
    models: tuple[tuple[str, int], ...]
    samplers: tuple[tuple[str, int], ...]
    steps_median: Optional[float]
    denoise_median: Optional[float]


@dataclass(frozen=True)
class StageStats:
    images: int = 0  # images analysed
    multi_pass: int = 0  # of them, made in more than one pass
    pipelines: tuple[Pipeline, ...] = ()
    later_passes: tuple[LaterPass, ...] = ()

    @property
    def share(self) -> float:
        return self.multi_pass / self.images if self.images else 0.0


def stage_stats(con: sqlite3.Connection, ids: pd.Series) -> StageStats:
    if ids.empty:
        return StageStats()
    wanted, images = id_lookup(ids), int(ids.nunique())
    try:
        rows = con.execute(
            "SELECT s.image_id, s.stage, s.role, sp.canonical, s.model, s.sampler, s.scheduler, s.steps, "
            "s.denoise FROM stages s LEFT JOIN spellings sp ON sp.kind = 'checkpoint' AND sp.spelling = s.model "
            "ORDER BY s.image_id, s.stage")
    except sqlite3.OperationalError as exc:  # a database from before the stages table
        logger.info("no generation stages: %s", exc)
        return StageStats(images=images)
    shapes: dict[int, list[str]] = {}
    by_role: dict[str, dict] = {}
    for image_id, stage, role, entity, written, sampler, scheduler, steps, denoise in rows:
        if not wanted(image_id):
            continue
        shapes.setdefault(image_id, []).append(role)
        if stage == 0:
            continue
        entry = by_role.setdefault(role, {"images": set(), "models": Counter(), "samplers": Counter(),
                                          "steps": [], "denoise": []})
        entry["images"].add(image_id)
        model = entity or file_stem(written)  # a model no first pass used has no spelling yet
        if model:
            entry["models"][model] += 1
        name = canonical_sampler(sampler, scheduler).sampler if sampler else None
        if name:
            entry["samplers"][name] += 1
        if steps is not None:
            entry["steps"].append(steps)
        if denoise is not None:
            entry["denoise"].append(denoise)
    pipelines = Counter(ARROW.join(roles) for roles in shapes.values())
    later = [LaterPass(role, len(e["images"]), _top(e["models"]), _top(e["samplers"]),
                       float(median(e["steps"])) if e["steps"] else None,
                       round(float(median(e["denoise"])), 3) if e["denoise"] else None)
             for role, e in by_role.items()]
    later.sort(key=lambda p: (-p.images, p.role))
    return StageStats(images=images, multi_pass=len(shapes),
                      pipelines=tuple(Pipeline(r, n) for r, n in sorted(pipelines.items(), key=lambda kv: (-kv[1], kv[0]))),
                      later_passes=tuple(later))


def _top(counter: Counter) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[:TOP])
