"""Fooocus and RuinedFooocus: JSON in the PNG ``parameters`` chunk (JPEG/WebP: EXIF
``UserComment``; Fooocus adds ``fooocus_scheme`` / MakerNote ``fooocus``).

* Fooocus' own scheme (``metadata_scheme: fooocus``): prompt, negative_prompt, full_prompt,
  styles, performance, steps, resolution ``(768, 1280)``, guidance_scale, sharpness, sampler,
  scheduler, seed (a string: Fooocus seeds reach 2**63), base_model, base_model_hash, refiner,
  loras ``[[name, weight(, hash)], …]``, vae, version ``Fooocus v2.x``. Older logs wrote the
  same keys capitalised with spaces (``Guidance Scale``, ``Base Model``); keys are matched
  case- and space-insensitively. Fooocus' A1111 scheme is infotext (A1111 parser, generator
  taken from ``Version: Fooocus …``).
* RuinedFooocus: ``software: RuinedFooocus`` with Prompt, Negative, steps, cfg, width, height,
  seed, sampler_name, scheduler, base_model_name, base_model_hash, loras, clip_skip.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from .base import GenerationParams, Parser, Resource, Tags
from .common import (iter_json_objects, model_stem, name_or_none, parse_size, prompt_text, to_float, to_int,
                     to_seed, to_text)
from .tags import find_text

logger = logging.getLogger(__name__)

_SOURCES = ("Parameters", "UserComment", "Comment")


def _norm(doc: dict) -> dict[str, Any]:
    return {str(k).strip().lower().replace(" ", "_").replace("-", "_"): v for k, v in doc.items()}


def parse(tags: Tags) -> Optional[GenerationParams]:
    scheme = (find_text(tags, "Fooocus_scheme") or "").strip().lower()
    for _key, doc in iter_json_objects(tags, _SOURCES):
        d = _norm(doc)
        software = str(d.get("software") or "")
        if "ruinedfooocus" in software.lower().replace(" ", ""):
            return _ruined(d, doc)
        version = str(d.get("version") or "")
        if (scheme == "fooocus" or d.get("metadata_scheme") == "fooocus" or version.lower().startswith("fooocus")
                or ("base_model" in d and any(k in d for k in ("guidance_scale", "sharpness", "performance")))):
            return _fooocus(d, doc)
    return None


def _loras(value: Any, source: str) -> tuple[Resource, ...]:
    out = []
    for item in value if isinstance(value, list) else ():
        name = weight = hash_ = None
        if isinstance(item, (list, tuple)) and item:
            name = item[0]
            weight = to_float(item[1]) if len(item) > 1 else None
            hash_ = to_text(item[2]) if len(item) > 2 else None
        elif isinstance(item, dict):
            name = item.get("name") or item.get("model")
            weight = to_float(item.get("weight"))
            hash_ = to_text(item.get("hash"))
        stem = model_stem(name)
        if stem and stem.lower() != "none":
            out.append(Resource(kind="lora", name=stem, hash=hash_, weight=weight, source=source))
    return tuple(out)


def _fooocus(d: dict[str, Any], doc: dict) -> GenerationParams:
    width, height = parse_size(d.get("resolution"))
    if not (width and height):
        width, height = to_int(d.get("width")), to_int(d.get("height"))
    clip = to_int(d.get("clip_skip"))
    return GenerationParams(
        generator="Fooocus",
        prompt=prompt_text(d.get("prompt")),
        negative_prompt=prompt_text(d.get("negative_prompt")),
        steps=to_int(d.get("steps")),
        seed=to_seed(d.get("seed")),
        sampler=to_text(d.get("sampler")),
        scheduler=to_text(d.get("scheduler")),
        cfg_scale=to_float(d.get("guidance_scale")),
        denoising_strength=to_float(d.get("denoising_strength")),
        width=width, height=height,
        model=to_text(d.get("base_model")),
        model_hash=to_text(d.get("base_model_hash")),
        vae=name_or_none(d.get("vae")),
        clip_skip=clip if clip else None,
        params=dict(doc),
        resources=_loras(d.get("loras"), "Fooocus loras"),
    )


def _ruined(d: dict[str, Any], doc: dict) -> GenerationParams:
    clip = to_int(d.get("clip_skip"))
    return GenerationParams(
        generator="RuinedFooocus",
        prompt=prompt_text(d.get("prompt")),
        negative_prompt=prompt_text(d.get("negative") if "negative" in d else d.get("negative_prompt")),
        steps=to_int(d.get("steps")),
        seed=to_seed(d.get("seed")),
        sampler=to_text(d.get("sampler_name") or d.get("sampler")),
        scheduler=to_text(d.get("scheduler")),
        cfg_scale=to_float(d.get("cfg")),
        denoising_strength=to_float(d.get("denoise")),
        width=to_int(d.get("width")), height=to_int(d.get("height")),
        model=to_text(d.get("base_model_name") or d.get("base_model")),
        model_hash=to_text(d.get("base_model_hash")),
        clip_skip=clip if clip else None,
        params=dict(doc),
        resources=_loras(d.get("loras"), "RuinedFooocus loras"),
    )


PARSER = Parser("fooocus", parse, frozenset(_SOURCES))
