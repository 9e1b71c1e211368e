"""Helpers shared by the JSON-based generator parsers: tolerant JSON loading, number
conversion that never lets NaN or a 65-bit seed through, and the ``NotParsed`` signal.

``NotParsed`` is how a parser says "this is my format, but I cannot get generation parameters
out of it, because …": the registry then tries the remaining parsers and, when none succeeds,
stores status ``unparsed`` with that reason instead of the generic "no known format".
"""
from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Iterator, Mapping, Optional, Sequence

from ..names.entities import MODEL_EXTENSIONS
from .base import Tags
from .tags import iter_tags

logger = logging.getLogger(__name__)

# Integers beyond this are not real settings (ComfyUI seeds go up to 2**64 - 1; the database
# keeps values past SQLite's signed 64 bits as exact text).
_INT_LIMIT = 2 ** 64

# Inputs larger than this are not generation metadata (and would only cost time).
MAX_JSON_CHARS = 20_000_000

_USER_COMMENT_MARKERS = ("UNICODE\x00", "ASCII\x00\x00\x00", "JIS\x00\x00\x00\x00\x00")


class NotParsed(Exception):
    """A parser recognised its format but could not extract generation parameters.

    The message is stored as the image's ``error`` (status ``unparsed``) when no other parser
    succeeds, so it says precisely what is wrong, e.g. ``ComfyUI graph in PNG:Prompt has no
    sampler node``."""


def clean_text(value: Any) -> Optional[str]:
    """A tag value as text: EXIF UserComment character-code markers and NUL padding removed."""
    if not isinstance(value, str):
        return None
    text = value
    for marker in _USER_COMMENT_MARKERS:
        if text.startswith(marker):
            text = text[len(marker):]
            break
    return text.strip("\x00")


def load_json(value: Any) -> Any:
    """JSON from a tag value, or None. Accepts NaN/Infinity (ComfyUI writes them), a UTF-8 BOM,
    UserComment markers and trailing commas (SwarmUI has written ``{"a": 1,}``); refuses
    absurdly large inputs."""
    text = clean_text(value)
    if not text:
        return None
    text = text.strip().lstrip("\ufeff")
    if not text or text[0] not in "{[" or len(text) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    repaired = without_trailing_commas(text)
    if repaired == text:
        return None
    try:
        return json.loads(repaired)
    except (ValueError, RecursionError):
        return None


def without_trailing_commas(text: str) -> str:
    """``text`` with every comma that stands (blanks aside) right before a closing '}' or ']'
    removed, outside strings. One pass, linear in the text."""
    out: list[str] = []
    pending = -1  # index in out of a comma that may turn out to be trailing
    in_string = escaped = False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in "}]" and pending >= 0:
            out[pending] = ""
        if ch not in " \t\r\n":
            pending = -1
        if ch == '"':
            in_string = True
        elif ch == ",":
            pending = len(out)
        out.append(ch)
    return "".join(out)


def json_object(value: Any) -> Optional[dict]:
    """``load_json`` restricted to objects; an object already decoded is returned as is."""
    if isinstance(value, dict):
        return value
    doc = load_json(value)
    return doc if isinstance(doc, dict) else None


def iter_json_objects(tags: Tags, names: Sequence[str]) -> Iterator[tuple[str, dict]]:
    """(key, decoded object) for every tag named in ``names`` whose value is a JSON object,
    in the order of ``names`` (primary copies first)."""
    for name in names:
        for key, value in iter_tags(tags, name):
            doc = json_object(value)
            if doc is not None:
                yield key, doc


def to_float(value: Any) -> Optional[float]:
    """A finite float, or None (bools, NaN, Infinity, junk)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def to_int(value: Any) -> Optional[int]:
    """An integer (also from '20', 20.0, '20.0'), or None; nothing beyond 64 bits."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = int(text)
        except ValueError:
            number = to_float(text)
            if number is None or not number.is_integer():
                return None
            result = int(number)
    else:
        number = to_float(value)
        if number is None or not number.is_integer():
            return None
        result = int(number)
    return result if -_INT_LIMIT < result < _INT_LIMIT else None


def to_seed(value: Any) -> Optional[int]:
    """A seed; -1 (and other negatives) mean 'random' in every UI, so they are no seed."""
    result = to_int(value)
    return result if result is not None and result >= 0 else None


def to_text(value: Any) -> Optional[str]:
    """A string value stripped of surrounding blanks, or None when empty / not a string.
    Numbers are turned into text (some tools write sampler ids as numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value) if to_float(value) is not None else None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


_NO_NAMES = frozenset({"none", "null", "automatic", "auto", "default", "baked vae", "default (model)", "-"})


def name_or_none(value: Any) -> Optional[str]:
    """A model/VAE name, or None for the placeholders UIs write ('None', 'Automatic', …)."""
    text = to_text(value)
    return None if text is None or text.lower() in _NO_NAMES else text


def prompt_text(value: Any) -> Optional[str]:
    """A prompt as the tool wrote it (line breaks and inner blanks kept); None if not text."""
    if not isinstance(value, str):
        return None
    return value.strip("\x00")


def parse_size(value: Any) -> tuple[Optional[int], Optional[int]]:
    """'1024x768', '1024 x 768', '(768, 1280)', [768, 1280], '1024 x 1024  (square)' -> (w, h)."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return to_int(value[0]), to_int(value[1])
    if not isinstance(value, str):
        return None, None
    m = re.search(r"(\d{2,5})\s*[x×X*,]\s*(\d{2,5})", value)
    if not m:
        return None, None
    return to_int(m.group(1)), to_int(m.group(2))


def model_stem(name: Any) -> Optional[str]:
    """'loras/sdxl/add_detail.safetensors' -> 'add_detail' (for resource names)."""
    text = to_text(name)
    if text is None:
        return None
    base = text.replace("\\", "/").rsplit("/", 1)[-1]
    return MODEL_EXTENSIONS.sub("", base) or text


def base_name(name: Any) -> Optional[str]:
    """'C:\\models\\sd\\v1-5.ckpt' -> 'v1-5.ckpt' (tools that store full paths)."""
    text = to_text(name)
    if text is None:
        return None
    return text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or text


def first(mapping: Mapping[str, Any], *names: str) -> Any:
    """The first value in ``mapping`` under one of ``names`` that is not None/''."""
    for name in names:
        value = mapping.get(name)
        if value is not None and value != "":
            return value
    return None


def sanitize(value: Any, _depth: int = 0) -> Any:
    """A JSON-safe copy: NaN/Infinity become None (strict JSON readers and SQLite's json
    functions reject them), very deep structures are cut off."""
    if _depth > 64:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): sanitize(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v, _depth + 1) for v in value]
    return value
