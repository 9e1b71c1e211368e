"""Draw Things (iOS/macOS): XMP with ``xmp:CreatorTool`` = ``Draw Things``, ``exif:UserComment``
holding JSON — ``c`` (prompt), ``uc`` (negative prompt), seed, steps, scale, sampler, size
``WxH``, model, strength, seed_mode, lora ``[{file, weight}]``, shift, hires/upscaler
settings, and in newer versions the full configuration under ``v2`` — and ``dc:description``
with an A1111-like text of the same values (used when the JSON is missing).
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Optional

from . import a1111
from .base import GenerationParams, Parser, Resource, Tags
from .common import iter_json_objects, model_stem, parse_size, prompt_text, to_float, to_int, to_seed, to_text
from .tags import find_text, iter_tags

logger = logging.getLogger(__name__)

GENERATOR = "Draw Things"


def _is_draw_things_json(doc: dict) -> bool:
    return isinstance(doc.get("c"), str) and any(k in doc for k in ("steps", "scale", "sampler", "seed_mode"))


def parse(tags: Tags) -> Optional[GenerationParams]:
    for _key, doc in iter_json_objects(tags, ("UserComment",)):
        if _is_draw_things_json(doc):
            return _params(doc)
    creator = " ".join(filter(None, (find_text(tags, "CreatorTool"), find_text(tags, "Software"))))
    if "draw things" not in creator.lower():
        return None
    for _key, value in iter_tags(tags, "Description"):
        if isinstance(value, str):
            infotext = a1111.parse_infotext(value)
            if infotext is not None:
                return dataclasses.replace(infotext, generator=GENERATOR)
    return None


def _params(doc: dict[str, Any]) -> GenerationParams:
    width, height = parse_size(doc.get("size"))
    resources = []
    loras = doc.get("lora") if isinstance(doc.get("lora"), list) else doc.get("loras")
    for item in loras if isinstance(loras, list) else ():
        if isinstance(item, dict):
            stem = model_stem(item.get("file") or item.get("name"))
            if stem:
                resources.append(Resource(kind="lora", name=stem, weight=to_float(item.get("weight")),
                                          source="Draw Things lora"))
    strength = to_float(doc.get("strength"))
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(doc.get("c")),
        negative_prompt=prompt_text(doc.get("uc")),
        steps=to_int(doc.get("steps")),
        seed=to_seed(doc.get("seed")),
        sampler=to_text(doc.get("sampler")),
        cfg_scale=to_float(doc.get("scale")),
        denoising_strength=strength if strength is not None and strength < 1 else None,
        width=width, height=height,
        model=to_text(doc.get("model")),
        clip_skip=to_int(doc.get("clip_skip")) or None,
        params=dict(doc),
        resources=tuple(resources),
    )


PARSER = Parser("drawthings", parse, frozenset({"UserComment", "Description"}))
