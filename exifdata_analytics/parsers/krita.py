"""Krita AI Diffusion (the Krita plugin Acly/krita-ai-diffusion, a ComfyUI client).

When "Save Image Metadata" is on, saving a result from the history thumbnails writes a PNG with
one iTXt chunk ``parameters`` (ExifTool: ``PNG:Parameters``) right after IHDR, in A1111's
three-line layout, built by the plugin's ``create_img_metadata`` (ai_diffusion/text.py)::

    <prompt> <lora:x/FRACTAL.safetensors:0.55>
    Negative prompt: <negative, the line is there even when empty>
    Steps: 20, Sampler: Default - DPM++ 2M, CFG scale: 7.0, Seed: 1234, Size: 1024x1024,
    Model hash: unknown, Model: juggernautXL_v9.safetensors[, Denoising strength: 0.6][, Mode: Refine]

What tells it apart from A1111's own text: no ``Version``, ``Model hash`` is the literal
``unknown``, and the sampler is one of the plugin's presets, ``<group> - <sampler>`` ("Default -
DPM++ 2M", "Flux - Euler simple"; their ComfyUI sampler and schedule are rows of
names/samplers.csv) or, in newer versions, there is a ``Mode`` (Generate, Refine, Inpaint …,
Upscale, Custom). The steps and CFG are the style's settings; the size is the generated area,
which can be smaller than the saved canvas (the result is drawn onto the whole image). WebP and
JPEG saves, and versions before late 2025, carry no parameters; no ComfyUI graph is embedded.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Optional

from . import a1111
from .base import GenerationParams, Parser, Tags
from .tags import iter_tags

logger = logging.getLogger(__name__)

GENERATOR = "Krita AI Diffusion"
_SOURCES = ("Parameters",)
_PRESET_RE = re.compile(r"^[^,:]+ - [^,:]+$")  # '<group> - <sampler>'
_NO_HASH = "unknown"


def _is_krita(params: dict) -> bool:
    lower = {str(k).lower(): v for k, v in params.items()}
    if "version" in lower or str(lower.get("model hash", "")).strip().lower() != _NO_HASH:
        return False
    sampler = lower.get("sampler")
    return "mode" in lower or (isinstance(sampler, str) and bool(_PRESET_RE.match(sampler.strip())))


def parse(tags: Tags) -> Optional[GenerationParams]:
    for _key, value in iter_tags(tags, "Parameters"):
        if not isinstance(value, str) or _NO_HASH not in value:
            continue
        infotext = a1111.parse_infotext(value)
        if infotext is not None and _is_krita(infotext.params):
            # 'unknown' is no hash: a model hash column holds hashes only
            return dataclasses.replace(infotext, generator=GENERATOR, model_hash=None)
    return None


PARSER = Parser("krita", parse, frozenset(_SOURCES))
