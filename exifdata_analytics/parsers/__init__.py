"""The ordered parser registry: the first parser that recognises a file's tags wins.

Order matters (DESIGN.md §6): formats that embed A1111-style text besides their own data
(ComfyUI save nodes, …) must come before the A1111-family parser.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Sequence

from . import a1111, civitai
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
    a1111.PARSER,
)

# Tags that carry generation data for some generator. A file with none of them has no
# generation metadata; a file with one that no parser recognised is 'unparsed'.
GENERATION_HINT_TAGS = frozenset(
    name.lower()
    for name in (
        "Parameters", "Prompt", "Workflow", "UserComment", "Comment", "Description",
        "ImageDescription", "Dream", "Sd-metadata", "Invokeai_metadata", "Invokeai_graph",
        "Sui_image_params", "Negative_prompt", "Generation_data", "Fooocus_scheme",
    )
)
# Groups whose text values come from PNG chunks, where UTF-8 is often stored as Latin-1.
_TEXT_REPAIR_GROUPS = frozenset({"png", "png-text", "png-itxt"})


def normalize_tags(tags: Tags) -> IndexedTags:
    """Tags with PNG text mojibake repaired; everything else as ExifTool gave it."""
    out = IndexedTags()
    for key, value in tags.items():
        if isinstance(value, str) and split_key(key)[0].lower() in _TEXT_REPAIR_GROUPS:
            value = repair_mojibake(value)
        out[key] = value
    return out


def generation_hints(tags: Tags) -> list[str]:
    """Keys of tags that look like they carry generation data (non-empty)."""
    hints = []
    for key, value in tags.items():
        group, name = split_key(key)
        if name.lower() in GENERATION_HINT_TAGS and value not in (None, "", "undef"):
            if group.lower() in ("system", "file", "composite", "exiftool"):
                continue
            hints.append(key)
    return hints


def parse_tags(tags: Tags, registry: Sequence[Parser] = REGISTRY) -> ParseOutcome:
    """Run the registry over one file's tags. Never raises: a parser that crashes yields
    status 'error' with the reason, so one odd file cannot stop a run."""
    tags = normalize_tags(tags)
    errors = []
    for parser in registry:
        try:
            params = parser.parse(tags)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the file
            logger.warning("parser %s failed on %s: %r", parser.name, tags.get("SourceFile"), exc,
                           exc_info=True)
            errors.append(f"{parser.name} parser failed: {type(exc).__name__}: {exc}")
            continue
        if params is not None:
            return ParseOutcome(STATUS_OK, params=params, parser=parser.name)
    if errors:
        return ParseOutcome(STATUS_ERROR, error="; ".join(errors))
    hints = generation_hints(tags)
    if hints:
        return ParseOutcome(STATUS_UNPARSED,
                            error="no parser recognised the metadata in " + ", ".join(sorted(hints)))
    return ParseOutcome(STATUS_NO_METADATA)


__all__ = [
    "REGISTRY", "parse_tags", "normalize_tags", "generation_hints",
    "GenerationParams", "ParseOutcome", "Parser", "Resource", "Tags",
    "STATUS_OK", "STATUS_NO_METADATA", "STATUS_UNPARSED", "STATUS_ERROR",
]
