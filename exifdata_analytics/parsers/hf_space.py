"""HuggingFace Spaces and other diffusers front ends: a JSON ``parameters`` chunk (or EXIF
``UserComment``) named after the diffusers pipeline arguments — prompt, negative_prompt,
num_inference_steps, guidance_scale, seed, width/height or ``resolution: "1024 x 1024"``,
sampler/scheduler, and ``Model``/``Model hash`` as the Space writes them.

Recognised by the diffusers argument names; JSON that another tool's parser claims (Fooocus,
Easy Diffusion's ``use_stable_diffusion_model``, NovelAI, SwarmUI) never reaches here or is
refused explicitly.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from .base import GenerationParams, Parser, Tags
from .common import (first, iter_json_objects, name_or_none, parse_size, prompt_text, to_float, to_int, to_seed,
                     to_text)

logger = logging.getLogger(__name__)

GENERATOR = "HuggingFace Space"
_DIFFUSERS_KEYS = ("num_inference_steps", "guidance_scale")
_OTHER_TOOLS = ("use_stable_diffusion_model", "sui_image_params", "base_model", "v4_prompt", "uc", "extraMetadata",
                "class_type")


_SOURCES = ("Parameters", "UserComment", "Comment")


def parse(tags: Tags) -> Optional[GenerationParams]:
    for _key, doc in iter_json_objects(tags, _SOURCES):
        if not isinstance(doc.get("prompt"), str) or not any(k in doc for k in _DIFFUSERS_KEYS):
            continue
        if any(k in doc for k in _OTHER_TOOLS):
            continue
        return _params(doc)
    return None


def _params(doc: dict[str, Any]) -> GenerationParams:
    width, height = to_int(doc.get("width")), to_int(doc.get("height"))
    if not (width and height):
        width, height = parse_size(first(doc, "resolution", "size"))
    clip = to_int(first(doc, "clip_skip", "Clip skip"))
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(doc.get("prompt")),
        negative_prompt=prompt_text(doc.get("negative_prompt")),
        steps=to_int(doc.get("num_inference_steps")),
        seed=to_seed(doc.get("seed")),
        # diffusers calls the sampler a 'scheduler'; a Space that names both means A1111's sense
        sampler=to_text(first(doc, "sampler", "sampler_name", "scheduler")),
        scheduler=to_text(first(doc, "schedule_type", *(("scheduler",) if first(doc, "sampler", "sampler_name")
                                                         else ()))),
        cfg_scale=to_float(doc.get("guidance_scale")),
        denoising_strength=to_float(first(doc, "strength", "denoising_strength")),
        width=width, height=height,
        model=to_text(first(doc, "Model", "model", "model_id", "model_name")),
        model_hash=to_text(first(doc, "Model hash", "model_hash")),
        vae=name_or_none(first(doc, "vae", "VAE")),
        clip_skip=clip if clip else None,
        params=dict(doc),
    )


PARSER = Parser("hf_space", parse, frozenset(_SOURCES))
