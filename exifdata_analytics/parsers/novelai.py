"""NovelAI: PNG chunks ``Software`` = ``NovelAI``, ``Source`` (model name and hash, e.g.
``NovelAI Diffusion V4.5 C02D4F98``), ``Description`` (the prompt) and ``Comment`` (JSON:
prompt, uc, steps, scale, seed, sampler, noise_schedule, width, height, and since V4
``v4_prompt``/``v4_negative_prompt`` with per-character captions).

The same five values come as one JSON object in a WebP's EXIF ``UserComment``, and in the
stealth data NovelAI writes into the alpha channel's low bits (``stealth.py`` puts that text
into the ``Stealth:Parameters`` tag) — the only copy left once a site strips the chunks.

Character prompts (V4 ``char_captions``) go to params; the prompt column holds the base
caption, which is what NovelAI shows as "the prompt".
"""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

from .base import GenerationParams, Parser, Tags
from .common import clean_text, json_object, prompt_text, to_float, to_int, to_seed, to_text
from .tags import find_text, iter_tags

logger = logging.getLogger(__name__)

GENERATOR = "NovelAI"
_SOURCE_RE = re.compile(r"^(.*\S)\s+([0-9A-Fa-f]{8})$")
# Comment keys only NovelAI writes (together with steps/scale)
_NAI_KEYS = ("uc", "v4_prompt", "noise_schedule", "uncond_scale", "request_type", "sm_dyn")


def _is_nai_comment(doc: dict) -> bool:
    return "steps" in doc and "scale" in doc and any(k in doc for k in _NAI_KEYS)


def _containers(tags: Tags):
    """(Description, Software, Source, Comment-dict, where) candidates, most direct first."""
    software = find_text(tags, "Software")
    for key, value in iter_tags(tags, "Comment"):
        doc = json_object(clean_text(value))
        if doc is not None and (_is_nai_comment(doc) or (software or "").startswith("NovelAI")):
            yield find_text(tags, "Description"), software, find_text(tags, "Source"), doc, key
    # one JSON object holding all chunks: WebP UserComment, stealth pixels
    for name in ("UserComment", "Parameters"):
        for key, value in iter_tags(tags, name):
            outer = json_object(clean_text(value))
            if outer is None or "Comment" not in outer:
                continue
            comment = json_object(outer.get("Comment"))
            outer_software = to_text(outer.get("Software")) or ""
            if comment is not None and (_is_nai_comment(comment) or outer_software.startswith("NovelAI")):
                source = to_text(outer.get("Source")) or (software if software and "Diffusion" in software else None)
                yield outer.get("Description"), outer_software or software, source, comment, key


def parse(tags: Tags) -> Optional[GenerationParams]:
    for description, software, source, comment, key in _containers(tags):
        return _params(description, software, source, comment, key)
    software = find_text(tags, "Software") or ""
    description = find_text(tags, "Description")
    if software.strip() == "NovelAI" and description:
        # the Comment chunk was lost (or never written): the prompt is still known
        return _params(description, software, find_text(tags, "Source"), {}, "Description")
    return None


def _caption(block: Any) -> tuple[Optional[str], list]:
    if not isinstance(block, dict):
        return None, []
    caption = block.get("caption")
    if not isinstance(caption, dict):
        return None, []
    chars = caption.get("char_captions")
    return prompt_text(caption.get("base_caption")), chars if isinstance(chars, list) else []


def _params(description: Any, software: Optional[str], source: Optional[str], comment: dict,
            key: str) -> GenerationParams:
    base, characters = _caption(comment.get("v4_prompt"))
    neg_base, neg_characters = _caption(comment.get("v4_negative_prompt"))
    prompt = base if base is not None else prompt_text(comment.get("prompt"))
    if prompt is None and isinstance(description, str):
        prompt = clean_text(description)
    negative = neg_base if neg_base is not None else prompt_text(comment.get("uc"))
    model = model_hash = None
    if source:
        m = _SOURCE_RE.match(source.strip())
        model, model_hash = (m.group(1), m.group(2)) if m else (source.strip(), None)
    params: dict[str, Any] = dict(comment)
    params["metadata source"] = key
    if software:
        params["Software"] = software
    if source:
        params["Source"] = source
    chars = [c.get("char_caption") for c in characters if isinstance(c, dict) and c.get("char_caption")]
    if chars:
        params["Character prompts"] = chars
    neg_chars = [c.get("char_caption") for c in neg_characters if isinstance(c, dict) and c.get("char_caption")]
    if neg_chars:
        params["Character negative prompts"] = neg_chars
    strength = to_float(comment.get("strength"))
    img2img = "image" in comment or str(comment.get("request_type", "")).lower().startswith("img2img")
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt,
        negative_prompt=negative,
        steps=to_int(comment.get("steps")),
        seed=to_seed(comment.get("seed")),
        sampler=to_text(comment.get("sampler")),
        scheduler=to_text(comment.get("noise_schedule")),
        cfg_scale=to_float(comment.get("scale")),
        denoising_strength=strength if img2img else None,
        width=to_int(comment.get("width")),
        height=to_int(comment.get("height")),
        model=model,
        model_hash=model_hash,
        params=params,
    )


# the Comment chunk, one JSON object holding all chunks, or the lone Description
PARSER = Parser("novelai", parse, frozenset({"Comment", "UserComment", "Parameters", "Description"}))
