"""SwarmUI (and StableSwarmUI): a JSON ``parameters`` chunk (EXIF ``UserComment`` in JPEG/WebP)
holding ``sui_image_params`` (the request: prompt, negativeprompt, model, seed, steps,
cfgscale, width, height, sampler, scheduler, loras/loraweights, …), ``sui_extra_data`` and
``sui_models`` (names and hashes). Swarm runs ComfyUI and usually saves the graph too.

The request is what the user set and names models as Swarm lists them, so it wins; the
graph only fills what the request leaves out. Width/height are the request's generation size
(a refiner/upscale pass does not change them).
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from . import comfyui
from .base import GenerationParams, Parser, Resource, Tags
from .common import (NotParsed, first, iter_json_objects, model_stem, name_or_none, prompt_text, to_float, to_int,
                     to_seed, to_text)

logger = logging.getLogger(__name__)

_SOURCES = ("Parameters", "UserComment", "Comment", "Sui_image_params", "Description", "ImageDescription")


def _request(doc: dict) -> Optional[dict]:
    params = doc.get("sui_image_params")
    if isinstance(params, dict):
        return params
    if isinstance(doc.get("parameters"), dict):  # a re-wrapped copy: {"parameters": {...}}
        return _request(doc["parameters"])
    return None


def parse(tags: Tags) -> Optional[GenerationParams]:
    for key, doc in iter_json_objects(tags, _SOURCES):
        request = _request(doc)
        if request is None and key.lower().endswith("sui_image_params") and "prompt" in doc:
            request = doc
        if request is None:
            continue
        own = _params(request, doc)
        try:
            graph = comfyui.graph_params(tags, generator="SwarmUI")
        except NotParsed as exc:
            logger.debug("SwarmUI graph not usable: %s", exc)
            graph = None
        return comfyui.fill_gaps(own, graph, "ComfyUI graph")
    return None


def _params(request: dict, doc: dict) -> GenerationParams:
    model = to_text(request.get("model"))
    model_hash = None
    models = doc.get("sui_models")
    for item in models if isinstance(models, list) else ():
        if isinstance(item, dict) and item.get("param") == "model" and isinstance(item.get("hash"), str):
            model_hash = item["hash"].strip() or None
            break
    resources = []
    loras = request.get("loras")
    weights = request.get("loraweights")
    if isinstance(loras, list):
        for i, name in enumerate(loras):
            stem = model_stem(name)
            if not stem:
                continue
            weight = to_float(weights[i]) if isinstance(weights, list) and i < len(weights) else None
            resources.append(Resource(kind="lora", name=stem, weight=weight, source="sui_image_params"))
    clip = to_int(first(request, "clipstopatlayer", "clip_stop_at_layer"))
    params: dict[str, Any] = dict(request)
    for extra in ("sui_extra_data", "sui_models"):
        if extra in doc:
            params[extra] = doc[extra]
    return GenerationParams(
        generator="SwarmUI",
        prompt=prompt_text(request.get("prompt")),
        negative_prompt=prompt_text(request.get("negativeprompt")),
        steps=to_int(request.get("steps")),
        seed=to_seed(request.get("seed")),
        sampler=to_text(request.get("sampler")),
        scheduler=to_text(request.get("scheduler")),
        cfg_scale=to_float(request.get("cfgscale")),
        denoising_strength=to_float(request.get("initimagecreativity")),
        width=to_int(request.get("width")),
        height=to_int(request.get("height")),
        model=model,
        model_hash=model_hash,
        vae=name_or_none(request.get("vae")),
        clip_skip=abs(clip) if clip else None,
        params=params,
        resources=tuple(resources),
    )


PARSER = Parser("swarmui", parse, frozenset(_SOURCES))
