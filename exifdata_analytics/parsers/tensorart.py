"""TensorArt (tensor.art): a ``generation_data`` chunk with the request as the site records it
(prompt, negativePrompt, width, height, steps, cfgScale, seed, clipSkip, ksamplerName,
schedule, baseModel {modelFileName, hash, …}, models/loras, sdVae…) plus the ComfyUI graph it
ran (``prompt``).

The request wins: the graph names the checkpoint by an internal file id
(``EMS-123-EMS.safetensors``) and trims the prompts. The graph fills the gaps — notably the
seed, which the request stores as ``-1`` ("random") while the graph has the one used.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from . import comfyui
from .base import GenerationParams, Parser, Resource, Tags
from .common import (NotParsed, first, iter_json_objects, model_stem, name_or_none, prompt_text, to_float, to_int,
                     to_seed, to_text)

logger = logging.getLogger(__name__)

GENERATOR = "TensorArt"


_SOURCES = ("Generation_data", "GenerationData")


def parse(tags: Tags) -> Optional[GenerationParams]:
    for _key, doc in iter_json_objects(tags, _SOURCES):
        if not any(k in doc for k in ("prompt", "negativePrompt", "baseModel", "ksamplerName")):
            continue
        own = _params(doc)
        try:
            graph = comfyui.graph_params(tags, generator=GENERATOR)
        except NotParsed as exc:
            logger.debug("TensorArt graph not usable: %s", exc)
            graph = None
        return comfyui.fill_gaps(own, graph, "ComfyUI graph")
    return None


def _params(doc: dict) -> GenerationParams:
    base = doc.get("baseModel") if isinstance(doc.get("baseModel"), dict) else {}
    model = to_text(first(base, "modelFileName", "label", "name"))
    resources = []
    for key in ("models", "loras", "lora", "loraModels"):
        items = doc.get(key)
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            kind = str(item.get("type") or "lora").lower()
            name = model_stem(first(item, "modelFileName", "label", "name"))
            if name and kind != "base_model":
                resources.append(Resource(kind="lora" if "lora" in kind else kind, name=name,
                                          hash=to_text(item.get("hash")), weight=to_float(item.get("weight")),
                                          source="generation_data"))
    clip = to_int(doc.get("clipSkip"))
    params: dict[str, Any] = dict(doc)
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(doc.get("prompt")),
        negative_prompt=prompt_text(doc.get("negativePrompt")),
        steps=to_int(doc.get("steps")),
        seed=to_seed(doc.get("seed")),
        sampler=to_text(first(doc, "ksamplerName", "samplerName", "sampler")),
        scheduler=to_text(first(doc, "schedule", "scheduler")),
        cfg_scale=to_float(doc.get("cfgScale")),
        denoising_strength=to_float(doc.get("denoisingStrength")),
        width=to_int(doc.get("width")),
        height=to_int(doc.get("height")),
        model=model,
        model_hash=to_text(base.get("hash")),
        vae=name_or_none(doc.get("sdVae")),
        clip_skip=abs(clip) if clip else None,
        params=params,
        resources=tuple(resources),
    )


PARSER = Parser("tensorart", parse, frozenset(_SOURCES))
