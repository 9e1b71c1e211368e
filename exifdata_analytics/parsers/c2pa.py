"""AI provenance without generation parameters: C2PA manifests (ChatGPT/OpenAI, Gemini/Google,
Adobe Firefly, Microsoft…) and IPTC ``DigitalSourceType`` in XMP.

ExifTool decodes a C2PA manifest into ``JUMBF``/``CBOR`` tags: ``Claim_Generator_InfoName``
(``OpenAI Media Service API``, ``Google C2PA Core Generator Library``), the actions'
``ActionsSoftwareAgentName``/``Version`` (``gpt-image`` ``2.0``), ``ActionsDescription``
(``Created by Google Generative AI.``) and ``ActionsDigitalSourceType``. Only a manifest that
declares the image AI-made (``trainedAlgorithmicMedia`` and its composite variants) counts:
cameras and editors sign photos with C2PA too.

Such an image is stored as ``ok`` with its generator (a vendor name: the claim generator
does not tell ChatGPT from the OpenAI API, so ``OpenAI``), the software agent as ``model`` when
the manifest names one, the manifest facts in params, and no prompt — none is recorded.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Iterable, Optional

from .base import GenerationParams, Parser, Tags
from .tags import split_key

logger = logging.getLogger(__name__)

_AI_SOURCE_RE = re.compile(r"(trainedAlgorithmicMedia|compositeWithTrainedAlgorithmicMedia|algorithmicMedia)",
                           re.IGNORECASE)
# 'Acme Studio c2pa-rs/0.3' -> 'Acme Studio'; the look-behind starts a match only where a run of
# blanks starts (a search from inside the run would rescan it: quadratic)
_BEFORE_C2PA_RE = re.compile(r"(?<!\s)\s+c2pa|/")
_VENDORS = (
    ("openai", "OpenAI"), ("chatgpt", "OpenAI"), ("dall-e", "OpenAI"), ("gpt-image", "OpenAI"),
    ("gemini", "Google"), ("imagen", "Google"), ("google", "Google"),
    ("firefly", "Adobe Firefly"), ("bing", "Microsoft"), ("microsoft", "Microsoft"), ("meta ai", "Meta AI"),
    ("midjourney", "Midjourney"), ("stability", "Stability AI"), ("ideogram", "Ideogram"), ("leonardo", "Leonardo.Ai"),
    ("runway", "Runway"),
)


def _strings(value: Any) -> list[str]:
    """Tag values as strings; ExifTool lists may arrive as JSON text."""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except (ValueError, RecursionError):
                return [text]
            if isinstance(decoded, list):
                return [str(v) for v in decoded if v is not None]
        return [text] if text else []
    return [] if value is None else [str(value)]


def _values(tags: Tags, names: Iterable[str], groups: Optional[set] = None) -> list[str]:
    wanted = {n.lower() for n in names}
    out: dict[str, None] = {}  # ordered and de-duplicated in linear time (ExifTool lists can be long)
    for key, value in tags.items():
        group, name = split_key(key)
        if name.lower() in wanted and (groups is None or group.lower() in groups):
            out.update(dict.fromkeys(_strings(value)))
    return list(out)


def parse(tags: Tags) -> Optional[GenerationParams]:
    manifest_groups = {"cbor", "jumbf", "c2pa"}
    sources = _values(tags, ("ActionsDigitalSourceType", "DigitalSourceType"), None)
    if not any(_AI_SOURCE_RE.search(s) for s in sources):
        return None
    claim = _values(tags, ("Claim_Generator_InfoName", "Claim_generator", "ClaimGenerator"), manifest_groups)
    agents = _values(tags, ("ActionsSoftwareAgentName", "ActionsSoftwareAgent"), manifest_groups)
    versions = _values(tags, ("ActionsSoftwareAgentVersion",), manifest_groups)
    descriptions = _values(tags, ("ActionsDescription",), manifest_groups)
    tools = _values(tags, ("CreatorTool", "Software"), None)
    evidence = " ".join(claim + agents + descriptions + tools).lower()
    generator = next((name for word, name in _VENDORS if word in evidence), None)
    if generator is None:
        named = claim or agents or tools
        if not named:
            return None  # AI-made, but nothing says by what
        generator = _BEFORE_C2PA_RE.split(named[0], maxsplit=1)[0].strip() or named[0]
    model = None
    if agents:
        model = agents[0] + (f" {versions[0]}" if versions else "")
    params: dict[str, Any] = {"provenance": "C2PA" if claim or agents else "IPTC DigitalSourceType",
                              "digital_source_type": sources}
    for label, values in (("claim_generator", claim), ("software_agent", agents), ("agent_version", versions),
                          ("action_descriptions", descriptions),
                          ("actions", _values(tags, ("ActionsAction",), manifest_groups))):
        if values:
            params[label] = values
    return GenerationParams(generator=generator, model=model, params=params)


PARSER = Parser("c2pa", parse, frozenset({"ActionsDigitalSourceType", "DigitalSourceType"}))
