"""The ordered parser registry: the first parser that recognises a file's tags wins.

Order matters, and each position has a reason:

1. ``civitai``: Civitai's generation request sits inside a ComfyUI graph (``extraMetadata``);
   it is a better record than the graph Civitai ran.
2. ``swarmui``, ``stability_matrix``, ``tensorart``: front ends that run ComfyUI and store
   their own record *and* the ComfyUI graph; their unique markers (``sui_image_params``,
   ``smproj``/``parameters-json``, ``generation_data``) must win over plain ComfyUI.
3. ``comfyui``: graphs; also when a save node added A1111 text (the graph wins).
4. ``invokeai``, ``novelai``: their own chunks and JSON.
5. JSON-parameter tools: ``fooocus`` (and RuinedFooocus), ``easydiffusion`` (JSON or one
   chunk per key), ``hf_space`` (diffusers-style JSON), ``drawthings`` (XMP JSON; its
   ``dc:description`` is A1111-like text, so it must precede the A1111 parser).
   ``krita`` (Krita AI Diffusion): A1111's layout with ``Model hash: unknown`` and the plugin's
   sampler presets, which the A1111 parser would take for A1111's own.
6. ``a1111``: infotext of the A1111 family (and of tools that imitate it).
7. ``midjourney``: descriptions with a Midjourney job id; ``c2pa``: AI provenance manifests
   (ChatGPT, Gemini, Firefly…) which record the generator but no prompt.

A parser that recognises its format but cannot extract parameters raises ``NotParsed`` with
the reason; the next parsers still get their chance, and if none succeeds the image is stored
as ``unparsed`` with that reason.
"""
from __future__ import annotations

import dataclasses
import logging
from types import MappingProxyType
from typing import Mapping, Sequence

from . import (a1111, c2pa, civitai, comfyui, drawthings, easydiffusion, fooocus, hf_space, invokeai, krita,
               midjourney, novelai, stability_matrix, swarmui, tensorart)
from .common import NotParsed, clean_text, load_json, sanitize
from .base import (
    STATUS_ERROR,
    STATUS_NO_METADATA,
    STATUS_OK,
    STATUS_UNPARSED,
    GenerationParams,
    ParseOutcome,
    Parser,
    Resource,
    Tags,
)
from .tags import IndexedTags, repair_mojibake, split_key

logger = logging.getLogger(__name__)

REGISTRY: tuple[Parser, ...] = (
    civitai.PARSER,  # JSON request inside a ComfyUI graph: before ComfyUI and A1111
    swarmui.PARSER,  # ComfyUI-backed front ends with their own record: before ComfyUI
    stability_matrix.PARSER,
    tensorart.PARSER,
    comfyui.PARSER,  # before A1111: some save nodes add infotext next to the graph
    invokeai.PARSER,
    novelai.PARSER,
    fooocus.PARSER,
    easydiffusion.PARSER,
    hf_space.PARSER,
    drawthings.PARSER,  # before A1111: its XMP description is A1111-like text
    krita.PARSER,  # before A1111: A1111's layout with the plugin's sampler presets
    a1111.PARSER,
    midjourney.PARSER,
    c2pa.PARSER,  # last: provenance only, no parameters
)

# Tags that carry generation data for some generator. A file with none of them has no
# generation metadata; a file with one that no parser recognised is 'unparsed'.
GENERATION_HINT_TAGS = frozenset(
    name.lower()
    for name in (
        "Parameters", "Prompt", "Workflow", "UserComment", "Comment", "Description",
        "ImageDescription", "Dream", "Sd-metadata", "Invokeai_metadata", "Invokeai_graph",
        "Invokeai_workflow", "Sui_image_params", "Negative_prompt", "NegativePrompt", "Generation_data",
        "Fooocus_scheme", "Parameters-json", "Smproj", "Use_stable_diffusion_model", "StableDiffusionModel",
    )
)
# Camera tags that ComfyUI's WebP/JPEG savers reuse for 'prompt:{…}' / 'workflow:{…}': a hint
# only with such a value, so camera photos stay 'no_metadata'.
_PREFIXED_HINT_TAGS = frozenset({"make", "model", "software", "artist", "copyright", "documentname"})
# Groups whose text values come from PNG chunks, where UTF-8 is often stored as Latin-1.
_TEXT_REPAIR_GROUPS = frozenset({"png", "png-text", "png-itxt"})
# The most characters of one tag value the parsers read as text (infotext, descriptions, the
# Dream line, C2PA names, …). No recipe comes near it, and every scan of a value is linear in
# its length (docs/robustness.md), so this bounds the parsing time of a file. A longer value is
# kept whole only when it is a JSON document (json.loads reads it in linear time, up to
# common.MAX_JSON_CHARS); any other is cut to its first MAX_TEXT_CHARS, and the row says so.
MAX_TEXT_CHARS = 64_000_000
TRUNCATED_PARAM = "truncated for parsing"  # params key of an 'ok' row: tag key -> its length


def normalize_tags(tags: Tags) -> IndexedTags:
    """Tags with PNG text mojibake repaired and text values cut to MAX_TEXT_CHARS (the cut
    keys and their lengths in ``.truncated``); everything else as ExifTool gave it. Returns
    ``tags`` itself when it is an IndexedTags that needs neither (the usual case)."""
    repaired = {}
    truncated = {}
    for key, value in tags.items():
        if not isinstance(value, str):
            continue
        fixed = value
        if not value.isascii() and split_key(key)[0].lower() in _TEXT_REPAIR_GROUPS:
            fixed = repair_mojibake(value)
        if len(fixed) > MAX_TEXT_CHARS and not _is_json_document(fixed):
            truncated[key] = len(fixed)
            fixed = fixed[:MAX_TEXT_CHARS]
        if fixed is not value:
            repaired[key] = fixed
    if not repaired and isinstance(tags, IndexedTags):
        return tags
    out = IndexedTags(tags)
    out.update(repaired)
    if truncated:
        out.truncated = MappingProxyType({**getattr(tags, "truncated", {}), **truncated})
    return out


def _is_json_document(value: str) -> bool:
    """A JSON object or array, also behind ComfyUI's 'prompt:'/'workflow:' prefix."""
    text = (clean_text(value) or "").lstrip().lstrip("\ufeff")
    if text[:9].lower().startswith(("prompt:", "workflow:")):
        text = text.split(":", 1)[1].lstrip()
    return text[:1] in ("{", "[") and load_json(text) is not None


def generation_hints(tags: Tags) -> list[str]:
    """Keys of tags that look like they carry generation data (non-empty)."""
    hints = []
    for key, value in tags.items():
        group, name = split_key(key)
        if value in (None, "", "undef") or group.lower() in ("system", "file", "composite", "exiftool"):
            continue
        lname = name.lower()
        if lname in GENERATION_HINT_TAGS:
            hints.append(key)
        elif lname in _PREFIXED_HINT_TAGS and isinstance(value, str) and \
                value.lstrip()[:9].lower().startswith(("prompt:", "workflow:")):
            hints.append(key)
    return hints


def parse_tags(tags: Tags, registry: Sequence[Parser] = REGISTRY) -> ParseOutcome:
    """Run the registry over one file's tags. Never raises: a parser that crashes yields
    status 'error' with the reason, so one odd file cannot stop a run.

    Errors read ``<reason> (<details>)``; the reason part is stable, so the coverage view can
    count images per reason (``coverage.failure_reason``)."""
    tags = normalize_tags(tags)
    names = tags.name_index().keys()
    errors = []
    not_parsed = []
    for parser in registry:
        if parser.tag_names is not None and names.isdisjoint(parser.tag_names):
            continue
        try:
            params = parser.parse(tags)
        except NotParsed as exc:
            not_parsed.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the file
            logger.warning("parser %s failed on %s: %r", parser.name, tags.get("SourceFile"), exc,
                           exc_info=True)
            errors.append(f"{parser.name} parser failed: {type(exc).__name__} ({exc})"[:500])
            continue
        if params is not None:
            return ParseOutcome(STATUS_OK, params=_storable(params, tags.truncated), parser=parser.name)
    cut = [f"{key}: {n:,} characters, only the first {MAX_TEXT_CHARS:,} parsed" for key, n in tags.truncated.items()]
    if errors:
        return ParseOutcome(STATUS_ERROR, error="; ".join(errors + cut))
    if not_parsed:
        return ParseOutcome(STATUS_UNPARSED, error="; ".join([*dict.fromkeys(not_parsed), *cut]))
    hints = generation_hints(tags)
    if hints:
        return ParseOutcome(STATUS_UNPARSED, error="; ".join([_unknown_format(tags, sorted(hints)), *cut]))
    return ParseOutcome(STATUS_NO_METADATA)


def _unknown_format(tags: Tags, hints: list[str]) -> str:
    """'no known generation format (PNG:Comment: 'GIMPで再保存…')'."""
    shown = []
    for key in hints[:3]:
        text = clean_text(tags.get(key)) if isinstance(tags.get(key), str) else repr(tags.get(key))
        text = " ".join((text or "").split())
        shown.append(f"{key}: {text[:40]!r}" if text else key)
    more = f", +{len(hints) - 3} more" if len(hints) > 3 else ""
    return f"no known generation format ({'; '.join(shown)}{more})"


def _storable(params: GenerationParams, truncated: Mapping[str, int]) -> GenerationParams:
    """Params with a JSON-safe params dict (NaN/Infinity from ComfyUI graphs become null) that
    names the values cut for parsing."""
    stored = sanitize(dict(params.params))
    if truncated:
        stored[TRUNCATED_PARAM] = dict(truncated)
    return dataclasses.replace(params, params=stored)


__all__ = [
    "REGISTRY", "parse_tags", "NotParsed", "normalize_tags", "generation_hints", "MAX_TEXT_CHARS", "TRUNCATED_PARAM",
    "GenerationParams", "ParseOutcome", "Parser", "Resource", "Tags",
    "STATUS_OK", "STATUS_NO_METADATA", "STATUS_UNPARSED", "STATUS_ERROR",
]
