"""The A1111-family "infotext" parser (AUTOMATIC1111, Forge and its forks, SD.Next, Civitai, …).

Infotext is the plain-text block these tools write into a PNG ``parameters`` text chunk or a
JPEG/WebP EXIF ``UserComment``::

    <prompt, possibly several lines>
    Negative prompt: <negative prompt, possibly several lines>     (absent when empty)
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x768, …

Rules implemented here:

* The settings line is the last line that holds several ``key: value`` pairs (>= 3, or >= 2 when
  one of them is ``Steps``) *and* at least one of the core keys (Steps, Sampler, CFG scale, Seed,
  Size, Model, Model hash), so a prompt line such as ``style: anime, mood: dark, light: soft``
  is never taken for settings. When a ``Negative prompt:`` line exists the settings line is
  searched only from that line on, so ``key: value`` text in the prompt always stays in the prompt.
* Values are split by a quote- and bracket-aware tokenizer: JSON-quoted values (A1111 ``quote()``)
  are decoded with ``json.loads``; bare JSON objects/arrays (``Civitai resources: [{…}, {…}]``,
  ``Hashes: {…}``) are kept whole and decoded. A comma-separated fragment that is not a pair is
  glued back onto the preceding plain value (SD.Next writes ``LoRA networks: a, b`` unquoted).
* When the negative prompt (or prompt) shares its line with the settings (Civitai), the line is
  split where ``Steps:`` starts. A settings line written just before ``Negative prompt:`` is
  accepted too, but only when it clearly is one (Steps plus Sampler/Seed/CFG scale).
* The prompt and negative prompt are kept as written; only the line breaks that end them (before
  ``Negative prompt:`` and before the settings line) are removed.

``parse(tags)`` is pure, never raises on any string input and returns None for text that is not
infotext (JSON payloads of Fooocus/SwarmUI/NovelAI/ComfyUI, camera comments, …).
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Optional

from ..base import GenerationParams, Parser, Tags
from ..tags import iter_tags, repair_mojibake
from .resources import collect_resources
from .tokens import KEY_RE, to_float, to_int, tokenize

logger = logging.getLogger(__name__)

# Where infotext is found. (tag name, strict): in the 'strict' places the text only counts when
# its settings line clearly is one (Steps plus Sampler/Seed/CFG scale).
_SOURCES: tuple[tuple[str, bool], ...] = (
    ("Parameters", False),
    ("UserComment", False),
    ("ImageDescription", True),
    ("Description", True),
    ("Comment", True),
)

_NEGATIVE_PREFIX = "Negative prompt:"

_STEPS_RE = re.compile(r"(?:^|(?<=[\s,]))Steps:[ \t]*[-+]?\d")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*[x×X]\s*(\d+)\s*$")

# Keys whose presence makes a line a settings line (lower case).
_CORE_KEYS = frozenset({"steps", "sampler", "cfg scale", "seed", "size", "model", "model hash"})



# --------------------------------------------------------------------------------------------
# entry point


def parse(tags: Tags) -> Optional[GenerationParams]:
    """GenerationParams from the first infotext found in ``tags``, or None."""
    for name, strict in _SOURCES:
        for _key, value in iter_tags(tags, name):
            if not isinstance(value, str) or not value.strip():
                continue
            result = parse_infotext(_clean_text(value), strict=strict)
            if result is not None:
                return result
    return None


PARSER = Parser("a1111", parse, frozenset(name for name, _ in _SOURCES))


def _clean_text(value: str) -> str:
    text = value.strip("\x00")
    for marker in ("UNICODE\x00", "ASCII\x00\x00\x00"):
        if text.startswith(marker):
            text = text[len(marker):].lstrip("\x00")
    return repair_mojibake(text)


# --------------------------------------------------------------------------------------------
# text structure


def parse_infotext(text: str, strict: bool = False) -> Optional[GenerationParams]:
    """Parse one infotext block; None when it is not infotext."""
    if not isinstance(text, str) or not text.strip():
        return None
    if _is_json(text):
        return None
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # classic-Mac line ends
    lines = text.split("\n")

    neg_idx = next((i for i, line in enumerate(lines) if line.lstrip().startswith(_NEGATIVE_PREFIX)), None)

    settings_idx = None
    settings_pairs: list[tuple[str, Any]] = []
    settings_prefix = ""  # text before 'Steps:' on the settings line (negative/prompt tail)
    for i in range(len(lines) - 1, (neg_idx if neg_idx is not None else 0) - 1, -1):
        found = _settings_at(lines, i, strict, is_negative_line=(i == neg_idx))
        if found is not None:
            settings_idx, (settings_pairs, settings_prefix) = i, found
            break
    settings_before_negative = False
    if settings_idx is None and neg_idx is not None:
        # some writers put the settings line before 'Negative prompt:'; accept it only when it
        # is the last line before the negative prompt and clearly settings (strict rule)
        i = neg_idx - 1
        while i >= 0 and not lines[i].strip():
            i -= 1
        found = _settings_at(lines, i, True, is_negative_line=False) if i >= 0 else None
        if found is not None:
            settings_idx, (settings_pairs, settings_prefix) = i, found
            settings_before_negative = True

    if settings_idx is None and (neg_idx is None or strict):
        return None

    # prompt / negative prompt
    prompt_end = neg_idx if neg_idx is not None and not settings_before_negative else settings_idx
    prompt_lines = lines[:prompt_end]
    negative: Optional[str] = ""
    if settings_before_negative:
        first = lines[neg_idx].lstrip()[len(_NEGATIVE_PREFIX):].lstrip(" \t")
        negative = _strip_line_breaks("\n".join([first] + lines[neg_idx + 1:]))
        if settings_prefix:
            prompt_lines = prompt_lines + [settings_prefix]
    elif neg_idx is not None:
        if settings_idx == neg_idx:
            negative = settings_prefix.strip(" \t")
        else:
            first = lines[neg_idx].lstrip()[len(_NEGATIVE_PREFIX):].lstrip(" \t")
            neg_lines = [first] + lines[neg_idx + 1:settings_idx if settings_idx is not None else len(lines)]
            if settings_prefix:
                neg_lines.append(settings_prefix)
            negative = _strip_line_breaks("\n".join(neg_lines))
    elif settings_prefix:
        prompt_lines = prompt_lines + [settings_prefix]
    prompt = _strip_line_breaks("\n".join(prompt_lines))

    # pairs on lines after the settings line (rare; merged, non-pair text ignored)
    if settings_idx is not None and not settings_before_negative:
        for extra in lines[settings_idx + 1:]:
            if extra.strip():
                extra_pairs = tokenize(extra.strip())
                if extra_pairs:
                    settings_pairs.extend(extra_pairs)
                else:
                    logger.debug("ignoring text after the settings line: %.80r", extra)

    return _build(prompt, negative, settings_pairs)


def _settings_at(lines: list[str], i: int, strict: bool,
                 is_negative_line: bool) -> Optional[tuple[list[tuple[str, Any]], str]]:
    """(pairs, text before them) if lines[i] is a settings line, else None."""
    raw = lines[i]
    line = raw.strip()
    if not line:
        return None
    if is_negative_line:
        line = line[len(_NEGATIVE_PREFIX):]
    prefix, body = _split_leading_text(line, force=is_negative_line)
    pairs = tokenize(body)
    if not _is_settings(pairs, strict):
        return None
    if prefix and not is_negative_line:
        prefix = raw[:len(raw) - len(raw.lstrip())] + prefix  # keep the line's indentation
    return pairs, prefix


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def _strip_line_breaks(text: str) -> str:
    return text.rstrip("\r\n")


def _split_leading_text(line: str, force: bool = False) -> tuple[str, str]:
    """'bad hands, ugly Steps: 20, Sampler: …' -> ('bad hands, ugly', 'Steps: 20, Sampler: …').

    Only when the line does not already begin with a ``key: value`` pair (or ``force``: the
    remainder of a 'Negative prompt:' line, which cannot begin with settings)."""
    match = _STEPS_RE.search(line)
    if match is None or not line[:match.start()].strip():
        return "", line
    if not force:
        first = KEY_RE.match(line)
        if first is not None and first.end() <= match.start():
            return "", line
    return line[:match.start()].rstrip(), line[match.start():]


def _is_settings(pairs: list[tuple[str, Any]], strict: bool) -> bool:
    keys = {key.lower() for key, _ in pairs}
    if not keys & _CORE_KEYS:
        return False
    if strict:
        return "steps" in keys and bool(keys & {"sampler", "seed", "cfg scale"})
    return len(pairs) >= 3 or (len(pairs) >= 2 and "steps" in keys)


# --------------------------------------------------------------------------------------------
# from pairs to GenerationParams


def _build(prompt: str, negative: Optional[str], pairs: list[tuple[str, Any]]) -> GenerationParams:
    params: dict[str, Any] = {}
    for key, value in pairs:
        params[key] = value  # later duplicates win, as in A1111's own parser
    lower = {key.lower(): value for key, value in params.items()}

    def text(*names: str) -> Optional[str]:
        for name in names:
            value = lower.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
        return None

    width = height = None
    size = text("size")
    if size:
        m = _SIZE_RE.match(size)
        if m:
            width, height = to_int(m.group(1)), to_int(m.group(2))

    model = text("model")
    model_hash = text("model hash")
    hashes = lower.get("hashes")
    if not model_hash and isinstance(hashes, dict) and isinstance(hashes.get("model"), str):
        model_hash = hashes["model"].strip() or None

    resources = collect_resources(prompt, negative, lower)
    if not model:
        civitai = lower.get("civitai resources")
        for item in civitai if isinstance(civitai, list) else ():
            if isinstance(item, dict) and str(item.get("type", "")).lower() == "checkpoint":
                name = item.get("modelName") or item.get("name")
                if isinstance(name, str) and name.strip():
                    model = name.strip()
                    if not model_hash and isinstance(item.get("hash"), str):
                        model_hash = item["hash"]
                    break

    return GenerationParams(
        generator=_generator(lower),
        prompt=prompt,
        negative_prompt=negative,
        steps=to_int(text("steps")),
        seed=to_int(text("seed")),
        sampler=text("sampler"),
        # A1111 >= 1.9 / Forge: 'Schedule type'; SD.Next: 'Sampler sigma' (its sigma schedule)
        scheduler=text("schedule type", "sampler sigma"),
        cfg_scale=to_float(text("cfg scale")),
        denoising_strength=to_float(text("denoising strength")),
        width=width,
        height=height,
        model=model,
        model_hash=model_hash,
        vae=text("vae"),
        clip_skip=to_int(text("clip skip")),
        params=params,
        resources=resources,
    )


# Generator evidence, in order (first hit wins):
#  1. Civitai: the keys 'Civitai resources', 'Civitai metadata' or 'Created Date' are written only
#     by Civitai's on-site generator (civitai.jpeg in the peer corpus).
#  2. SD.Next: 'App: SD.Next' (SD.Next writes Version as a bare git hash such as '56a8aea').
#  3. 'Version' (the key exactly; 'ADetailer Version' is not it):
#       'v1.10.1', 'v1.6.0-2-g4afaaf8a'        -> A1111 (upstream tags)
#       'classic…'                             -> Forge Classic (Haoming02/sd-webui-forge-classic)
#       'neo…' ('neo', 'neo-2.28')             -> Forge Neo
#       'f1.0.0v2-v1.10.1RC-…', 'f1.0.0v2dev-…' -> reForge (forge version, own 'vN' tag, '-v<A1111>')
#       'f1.3.0-v1.10.1RC-…'                   -> EasyReforge (forge version directly '-v<A1111>')
#       'f2.0.1v1.10.1-previous-…', 'f0.0.17v1.8.0rc-…' and other 'f<digit>…' -> Forge
#       'ComfyUI'                              -> ComfyUI (save nodes writing infotext)
#       'Fooocus …'                            -> Fooocus (its A1111 metadata scheme)
#  4. SD.Next-only keys without 'App' (older SD.Next): Pipeline, Operations, LoRA networks,
#     Sampler sigma.
#  5. ComfyUI save nodes that write no Version (SaveImageWithMetaData and its forks): their
#     'Lora_0 Model name' / 'Embedding_0 name' keys, or a sampler in ComfyUI's own spelling
#     (lower case with '_': 'euler_ancestral', 'dpmpp_2m_sde_gpu', 'euler_karras' with the
#     schedule appended), which no A1111-family UI writes.
#  6. otherwise A1111.
_REFORGE_RE = re.compile(r"^f\d+(?:\.\d+)*v\d+[a-z]*-v\d", re.IGNORECASE)
_EASY_REFORGE_RE = re.compile(r"^f\d+(?:\.\d+)*-v\d", re.IGNORECASE)
_REFORGE_DEV_RE = re.compile(r"^f\d+(?:\.\d+)*[a-z]+-v\d", re.IGNORECASE)
_SDNEXT_KEYS = ("pipeline", "operations", "lora networks", "sampler sigma")
_COMFY_SAVER_KEY_RE = re.compile(r"^(?:lora|embedding)_\d+ (?:model )?name$")
_COMFY_SAMPLER_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def _generator(lower: dict[str, Any]) -> str:
    if any(k in lower for k in ("civitai resources", "civitai metadata", "created date")):
        return "Civitai"
    app = lower.get("app")
    if isinstance(app, str) and "sd.next" in app.lower():
        return "SD.Next"
    version = lower.get("version")
    if isinstance(version, str) and version.strip():
        v = version.strip()
        vl = v.lower()
        if re.match(r"^v\d", vl):
            return "A1111"
        if vl.startswith("classic"):
            return "Forge Classic"
        if vl.startswith("neo"):
            return "Forge Neo"
        if re.match(r"^f\d", vl):
            if _REFORGE_RE.match(v) or _REFORGE_DEV_RE.match(v):
                return "reForge"
            if _EASY_REFORGE_RE.match(v):
                return "EasyReforge"
            return "Forge"
        if vl == "comfyui":
            return "ComfyUI"
        if vl.startswith("fooocus"):
            return "Fooocus"
    if isinstance(app, str) and app.strip():
        return app.strip()
    if any(k in lower for k in _SDNEXT_KEYS):
        return "SD.Next"
    sampler = lower.get("sampler")
    if (isinstance(sampler, str) and _COMFY_SAMPLER_RE.match(sampler.strip())) or any(
            _COMFY_SAVER_KEY_RE.match(k) for k in lower):
        return "ComfyUI"
    return "A1111"
