"""Easy Diffusion: one PNG text chunk per setting (``prompt``, ``negative_prompt``, ``seed``,
``use_stable_diffusion_model``, ``sampler_name``, ``width``, ``height``,
``num_inference_steps``, ``guidance_scale``, ``clip_skip``, ``use_vae_model``,
``use_lora_model``, ``lora_alpha``, ``prompt_strength``…), or — in its newer "embed as JSON"
mode and in JPEG/WebP EXIF ``UserComment`` — one JSON object with the same keys. A second
naming style uses labels (``Prompt``, ``Negative Prompt``, ``Stable Diffusion model``,
``Steps``, ``Guidance Scale``…); ExifTool turns chunk keywords into tag names
(``negative_prompt`` -> ``Negative_prompt``, ``Negative Prompt`` -> ``NegativePrompt``).

The ``prompt`` chunk also exists in ComfyUI files (there holding JSON), so a plain-text
prompt alone is not enough: another Easy Diffusion key must be present.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from .base import GenerationParams, Parser, Resource, Tags
from .common import (base_name, iter_json_objects, model_stem, name_or_none, prompt_text, to_float, to_int,
                     to_seed, to_text)
from .tags import iter_tags, split_key

logger = logging.getLogger(__name__)

GENERATOR = "Easy Diffusion"

# canonical key -> accepted spellings, compared after lower-casing and removing '_' and ' '
_KEYS = {
    "prompt": ("prompt",),
    "negative_prompt": ("negativeprompt",),
    "seed": ("seed",),
    "model": ("usestablediffusionmodel", "stablediffusionmodel"),
    "sampler": ("samplername", "sampler"),
    "width": ("width",),
    "height": ("height",),
    "steps": ("numinferencesteps", "steps"),
    "cfg": ("guidancescale",),
    "clip_skip": ("clipskip",),
    "vae": ("usevaemodel", "vaemodel"),
    "strength": ("promptstrength",),
    "lora": ("useloramodel", "loramodel"),
    "lora_alpha": ("loraalpha",),
}
_JSON_SOURCES = ("UserComment", "Parameters", "Comment", "Json", "Metadata")
_MARKERS = ("negative_prompt", "model", "steps", "cfg")  # besides a prompt, one of these


def _squash(name: str) -> str:
    return name.lower().replace("_", "").replace(" ", "").replace("-", "")


def _lookup(values: dict[str, Any]) -> dict[str, Any]:
    squashed = {_squash(k): v for k, v in values.items()}
    out = {}
    for canon, spellings in _KEYS.items():
        for spelling in spellings:
            if spelling in squashed:
                out[canon] = squashed[spelling]
                break
    return out


def parse(tags: Tags) -> Optional[GenerationParams]:
    # one chunk per key (PNG); without a prompt chunk it cannot be this layout
    chunk_values = {split_key(k)[1]: v for k, v in tags.items() if split_key(k)[0].lower().startswith("png")} \
        if any(key.lower().startswith("png") for key, _ in iter_tags(tags, "Prompt")) else {}
    found = _lookup(chunk_values)
    if _is_easy_diffusion(found, chunk_values):
        # ExifTool capitalises chunk keywords ('prompt_strength' -> 'Prompt_strength'); undo that
        return _params(found, {k[:1].lower() + k[1:]: v for k, v in chunk_values.items()
                               if k.lower() not in _PNG_STRUCTURE})
    # one JSON object
    for _key, doc in iter_json_objects(tags, _JSON_SOURCES):
        found = _lookup(doc)
        if _is_easy_diffusion(found, doc) and any(_squash(k) in ("usestablediffusionmodel", "stablediffusionmodel")
                                                  for k in doc):
            return _params(found, dict(doc))
    return None


# ExifTool's own PNG tags (image header, colour chunks), not Easy Diffusion settings
_PNG_STRUCTURE = frozenset({
    "imagewidth", "imageheight", "bitdepth", "colortype", "compression", "filter", "interlace", "srgbrendering",
    "gamma", "whitepointx", "whitepointy", "redx", "redy", "greenx", "greeny", "bluex", "bluey", "pixelsperunitx",
    "pixelsperunity", "pixelunits", "backgroundcolor", "significantbits", "modifydate", "palette", "transparency",
})


def _is_easy_diffusion(found: dict[str, Any], values: dict) -> bool:
    prompt = found.get("prompt")
    if not isinstance(prompt, str) or prompt.lstrip().startswith(("{", "[")):
        return False
    return sum(1 for k in _MARKERS if k in found) >= 2 or "model" in found


def _params(found: dict[str, Any], raw: dict[str, Any]) -> GenerationParams:
    resources = []
    lora = found.get("lora")
    if isinstance(lora, str) and lora.strip():
        names = [n.strip() for n in lora.split(",") if n.strip()]
        alphas = str(found.get("lora_alpha") or "").split(",")
        for i, name in enumerate(names):
            stem = model_stem(name)
            if stem and stem.lower() != "none":
                resources.append(Resource(kind="lora", name=stem,
                                          weight=to_float(alphas[i]) if i < len(alphas) else None,
                                          source="use_lora_model"))
    clip = to_int(found.get("clip_skip"))
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(found.get("prompt")),
        negative_prompt=prompt_text(found.get("negative_prompt")),
        steps=to_int(found.get("steps")),
        seed=to_seed(found.get("seed")),
        sampler=to_text(found.get("sampler")),
        cfg_scale=to_float(found.get("cfg")),
        denoising_strength=to_float(found.get("strength")),
        width=to_int(found.get("width")),
        height=to_int(found.get("height")),
        model=base_name(found.get("model")),
        vae=name_or_none(base_name(found.get("vae"))),
        # ED writes clip_skip as a boolean ('True': skip one layer)
        clip_skip=2 if str(found.get("clip_skip")).lower() == "true" else (clip if clip else None),
        params=raw,
        resources=tuple(resources),
    )


# a chunk per setting needs the prompt chunk; else one JSON object
PARSER = Parser("easydiffusion", parse, frozenset({"Prompt"} | set(_JSON_SOURCES)))
