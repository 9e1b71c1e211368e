"""Civitai's on-site generator, JSON flavour: a ComfyUI API graph whose ``extraMetadata``
(a JSON string, or an object) holds the generation request: prompt, negativePrompt,
cfgScale, sampler, steps, seed, width, height, clipSkip, baseModel, resources.

Civitai's A1111-style infotext (``Civitai resources: […]``) is handled by the A1111 parser.

The request often lacks what the graph beside it has (the schedule, the checkpoint, the size of
the latent): the graph fills those gaps, and the request wins where both have a value. The graph
names its checkpoint by an AIR (``urn:air:sdxl:checkpoint:civitai:MODEL@VERSION``), shown as
``civitai:VERSION`` like the request's resources that have no name.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any, Optional

from .base import GenerationParams, Parser, Resource, Tags
from .comfyui import fill_gaps, graph_params
from .common import NotParsed
from .tags import iter_tags

logger = logging.getLogger(__name__)

# Where Civitai puts the JSON: EXIF UserComment in JPEG/WebP, a text chunk in PNG.
_SOURCE_TAGS = ("UserComment", "Parameters", "Prompt", "ImageDescription")


def _as_int(value: Any) -> Optional[int]:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() else None


def _as_float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _extra_metadata(text: str) -> Optional[dict]:
    text = text.strip()
    if not text.startswith("{") or "extraMetadata" not in text:
        return None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    extra = doc.get("extraMetadata")
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except (json.JSONDecodeError, RecursionError):
            return None
    if not isinstance(extra, dict) or not any(k in extra for k in ("prompt", "negativePrompt", "steps", "seed")):
        return None
    return extra


def parse(tags: Tags) -> Optional[GenerationParams]:
    for name in _SOURCE_TAGS:
        for _key, value in iter_tags(tags, name):
            if not isinstance(value, str):
                continue
            extra = _extra_metadata(value)
            if extra is not None:
                return fill_gaps(_params(extra), _graph_params(tags, extra), "graph")
    return None


_AIR_RE = re.compile(r"^urn:air:[^:]+:[^:]+:civitai:\d+@(\d+)$")


def civitai_name(name: Optional[str]) -> Optional[str]:
    """An AIR of a Civitai model version as ``civitai:VERSION``; other names as they are."""
    m = _AIR_RE.match(name or "")
    return f"civitai:{m.group(1)}" if m else name


def _graph_params(tags: Tags, extra: dict) -> Optional[GenerationParams]:
    """What the ComfyUI graph beside the request says, or None (no graph, or no sampler in it:
    an upscale-only graph). Its resources that the request lists (by version id) are left out,
    so a LoRA the request names is not counted twice."""
    try:
        graph = graph_params(tags, generator="Civitai")
    except NotParsed:
        return None
    if graph is None:
        return None
    listed = {f"civitai:{item.get('modelVersionId')}" for item in extra.get("resources") or []
              if isinstance(item, dict) and item.get("modelVersionId") is not None}
    resources = tuple(dataclasses.replace(r, name=civitai_name(r.name)) for r in graph.resources)
    return dataclasses.replace(graph, model=civitai_name(graph.model),
                               resources=tuple(r for r in resources if r.name not in listed))


def _params(extra: dict) -> GenerationParams:
    resources = []
    for item in extra.get("resources") or []:
        if not isinstance(item, dict):
            continue
        version = item.get("modelVersionId")
        name = item.get("modelName") or item.get("name") or (f"civitai:{version}" if version is not None else None)
        if not name:
            continue
        resources.append(Resource(kind=str(item.get("type") or "unknown").lower(), name=str(name),
                                  hash=None, weight=_as_float(item.get("strength", item.get("weight"))),
                                  source="Civitai extraMetadata"))
    width, height = _as_int(extra.get("width")), _as_int(extra.get("height"))
    return GenerationParams(
        generator="Civitai",
        prompt=extra.get("prompt") if isinstance(extra.get("prompt"), str) else None,
        negative_prompt=extra.get("negativePrompt") if isinstance(extra.get("negativePrompt"), str) else None,
        steps=_as_int(extra.get("steps")),
        seed=_as_int(extra.get("seed")),
        sampler=extra.get("sampler") if isinstance(extra.get("sampler"), str) else None,
        cfg_scale=_as_float(extra.get("cfgScale")),
        denoising_strength=_as_float(extra.get("denoise")),
        width=width,
        height=height,
        # baseModel ('Illustrious', 'SDXL 1.0') is the architecture family, not the checkpoint;
        # the checkpoint is only known by its Civitai version id (in resources/params).
        model=None,
        clip_skip=_as_int(extra.get("clipSkip")),
        params=dict(extra),
        resources=tuple(resources),
    )


PARSER = Parser("civitai", parse, frozenset(_SOURCE_TAGS))
