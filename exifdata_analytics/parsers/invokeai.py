"""InvokeAI, three schemas over the years (newest first):

* v3+ ``invokeai_metadata`` chunk: JSON with positive_prompt, negative_prompt, width, height,
  seed, steps, cfg_scale, scheduler (InvokeAI's name for the sampler: ``euler_a``,
  ``dpmpp_2m_k``…), model {name | model_name, hash, base}, vae, loras, clip_skip, strength
  (img2img), hrf_* (hires fix), positive/negative_style_prompt (SDXL). When only the
  ``invokeai_graph`` chunk is there, its ``core_metadata`` node holds the same fields.
* v2 ``sd-metadata`` chunk: JSON {model_weights, model_hash, app_version, image: {prompt:
  [{prompt, weight}] | str, steps, cfg_scale, sampler, seed, width, height, strength…}}.
* v1 ``Dream`` chunk: a command line ``"prompt [negative]" -s 50 -S 42 -W 512 -H 768 -C 7.5
  -A k_lms``.

In v1/v2 the negative prompt is written inside the prompt in square brackets (``[bad hands]``);
it is split off here.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

from .base import GenerationParams, Parser, Resource, Tags
from .common import (NotParsed, first, iter_json_objects, model_stem, name_or_none, prompt_text, to_float, to_int,
                     to_seed, to_text)
from .tags import find_text

logger = logging.getLogger(__name__)

GENERATOR = "InvokeAI"
_BRACKETS_RE = re.compile(r"\[([^\[\]]*)\]")
# One piece of a shell word (shlex.split's POSIX rules): plain text, a backslash escape, a
# single- or double-quoted part, or the blanks between words. shlex itself grows each word one
# character at a time, which is quadratic in a word's length.
_WORD_PIECE_RE = re.compile(r"""([^ \t\r\n'"\\]+)|\\(.)|'([^']*)'|"([^"\\]*(?:\\.[^"\\]*)*)"|([ \t\r\n]+)""", re.DOTALL)
_QUOTED_ESCAPE_RE = re.compile(r'\\(["\\])')  # inside "…" a backslash escapes only " and \


def parse(tags: Tags) -> Optional[GenerationParams]:
    for key, doc in iter_json_objects(tags, ("Invokeai_metadata", "InvokeaiMetadata")):
        result = _v3(doc)
        if result.prompt is None and result.steps is None and result.seed is None and result.model is None:
            raise NotParsed(f"InvokeAI metadata without generation parameters ({key})")
        return result
    for key, doc in iter_json_objects(tags, ("Invokeai_graph", "InvokeaiGraph")):
        nodes = doc.get("nodes")
        values = nodes.values() if isinstance(nodes, dict) else nodes if isinstance(nodes, list) else ()
        for node in values:
            if isinstance(node, dict) and node.get("type") in ("core_metadata", "metadata"):
                return _v3(node)
        raise NotParsed(f"InvokeAI graph without a metadata node ({key})")
    for key, doc in iter_json_objects(tags, ("Sd-metadata", "SdMetadata")):
        if isinstance(doc.get("image"), dict):
            return _v2(doc)
    dream = find_text(tags, "Dream")
    if dream:
        result = _v1(dream)
        if result is None:
            raise NotParsed(f"InvokeAI Dream command line without settings (PNG:Dream: {dream[:40]!r})")
        return result
    return None


def _model_name(model: Any) -> tuple[Optional[str], Optional[str]]:
    if isinstance(model, dict):
        return to_text(first(model, "name", "model_name")), to_text(model.get("hash"))
    return to_text(model), None


def _v3(doc: dict) -> GenerationParams:
    model, model_hash = _model_name(doc.get("model"))
    vae, _ = _model_name(doc.get("vae"))
    resources = []
    loras = doc.get("loras")
    for item in loras if isinstance(loras, list) else ():
        if not isinstance(item, dict):
            continue
        lora = first(item, "model", "lora")
        name, lora_hash = _model_name(lora)
        if name:
            resources.append(Resource(kind="lora", name=model_stem(name) or name, hash=lora_hash,
                                      weight=to_float(item.get("weight")), source="invokeai_metadata"))
    clip = to_int(doc.get("clip_skip"))
    strength = to_float(doc.get("strength"))
    mode = str(doc.get("generation_mode") or "")
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(doc.get("positive_prompt")),
        negative_prompt=prompt_text(doc.get("negative_prompt")),
        steps=to_int(doc.get("steps")),
        seed=to_seed(doc.get("seed")),
        sampler=to_text(doc.get("scheduler")),
        cfg_scale=to_float(doc.get("cfg_scale")),
        denoising_strength=strength if "img2img" in mode or "inpaint" in mode or "outpaint" in mode else None,
        width=to_int(doc.get("width")),
        height=to_int(doc.get("height")),
        model=model,
        model_hash=model_hash,
        vae=name_or_none(vae),
        clip_skip=clip if clip else None,
        params=dict(doc),
        resources=tuple(resources),
    )


def split_negative(text: str) -> tuple[str, Optional[str]]:
    """'a cat [ugly, blurry] on a mat' -> ('a cat on a mat', 'ugly, blurry')."""
    negatives = [m.group(1).strip() for m in _BRACKETS_RE.finditer(text) if m.group(1).strip()]
    if not negatives:
        return text, None
    positive = _BRACKETS_RE.sub(" ", text)
    positive = re.sub(r"[ \t]{2,}", " ", positive).strip()
    return positive, ", ".join(negatives)


def _v2(doc: dict) -> GenerationParams:
    image = doc["image"]
    raw = image.get("prompt")
    if isinstance(raw, list):
        parts = [p.get("prompt") for p in raw if isinstance(p, dict) and isinstance(p.get("prompt"), str)]
        raw = " ".join(parts) if parts else None
    prompt = negative = None
    if isinstance(raw, str):
        prompt, negative = split_negative(raw)
    params: dict[str, Any] = {k: v for k, v in doc.items() if k != "image"}
    params.update(image)
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt, negative_prompt=negative if negative is not None else ("" if prompt is not None else None),
        steps=to_int(image.get("steps")),
        seed=to_seed(image.get("seed")),
        sampler=to_text(image.get("sampler")),
        cfg_scale=to_float(image.get("cfg_scale")),
        denoising_strength=to_float(image.get("strength")) if image.get("type") == "img2img" else None,
        width=to_int(image.get("width")),
        height=to_int(image.get("height")),
        model=to_text(first(doc, "model_weights", "model_id")),
        model_hash=to_text(doc.get("model_hash")),
        params=params,
    )


# Dream flags (InvokeAI 1.x/2.x CLI): short and long forms -> params key
_DREAM_FLAGS = {
    "-s": "steps", "--steps": "steps", "-S": "seed", "--seed": "seed", "-W": "width", "--width": "width",
    "-H": "height", "--height": "height", "-C": "cfg_scale", "--cfg_scale": "cfg_scale",
    "-A": "sampler", "--sampler": "sampler", "-m": "model", "--model": "model", "-f": "strength",
    "--strength": "strength", "-I": "init_img", "--init_img": "init_img", "-G": "gfpgan_strength",
    "-U": "upscale", "-cf": "codeformer_fidelity", "-n": "iterations", "-b": "batch_size",
    "-t": "log_tokenization", "-v": "variation_amount", "-V": "with_variations", "--hires_fix": "hires_fix",
    "--seamless": "seamless", "--perlin": "perlin", "--threshold": "threshold",
}


def split_words(text: str) -> Optional[list[str]]:
    """``shlex.split(text)`` in linear time; None where shlex raises (an unclosed quote, a
    backslash at the end)."""
    words: list[str] = []
    word: Optional[list[str]] = None
    pos, n = 0, len(text)
    while pos < n:
        m = _WORD_PIECE_RE.match(text, pos)
        if m is None:
            return None
        pos = m.end()
        plain, escaped, single, double, blanks = m.groups()
        if blanks is not None:
            if word is not None:
                words.append("".join(word))
                word = None
            continue
        if word is None:
            word = []
        if double is not None:
            word.append(_QUOTED_ESCAPE_RE.sub(r"\1", double) if "\\" in double else double)
        else:
            word.append(plain if plain is not None else escaped if escaped is not None else single)
    if word is not None:
        words.append("".join(word))
    return words


def _v1(text: str) -> Optional[GenerationParams]:
    words = split_words(text)
    if not words or words[0].startswith("-"):
        return None
    prompt, negative = split_negative(words[0])
    params: dict[str, Any] = {"Dream": text}
    i = 1
    while i < len(words):
        flag = words[i]
        key = _DREAM_FLAGS.get(flag)
        values = []
        j = i + 1
        while j < len(words) and not re.match(r"^--?[A-Za-z]", words[j]):
            values.append(words[j])
            j += 1
        if key is not None:
            params[key] = values[0] if len(values) == 1 else (values or True)
        i = j
    if not any(k in params for k in ("steps", "seed", "cfg_scale", "sampler")):
        return None

    def one(name: str) -> Any:
        value = params.get(name)
        return value if isinstance(value, str) else None

    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt, negative_prompt=negative if negative is not None else "",
        steps=to_int(one("steps")), seed=to_seed(one("seed")), sampler=to_text(one("sampler")),
        cfg_scale=to_float(one("cfg_scale")),
        denoising_strength=to_float(one("strength")) if "init_img" in params else None,
        width=to_int(one("width")), height=to_int(one("height")), model=to_text(one("model")),
        params=params,
    )


PARSER = Parser("invokeai", parse, frozenset({"Invokeai_metadata", "InvokeaiMetadata", "Invokeai_graph", "InvokeaiGraph",
                                               "Sd-metadata", "SdMetadata", "Dream"}))
