"""Midjourney (and Niji): images downloaded from the Midjourney website carry the command in a
description — PNG ``Description``, XMP ``dc:description``, EXIF ``ImageDescription`` or IPTC
``Caption-Abstract`` — as ``<prompt> --ar 2:1 --stylize 80 --v 6 Job ID: <uuid>``, and the
user name in ``Author``.

The prompt column holds the text before the first ``--parameter``; the parameters go to
params, ``--seed`` to seed, ``--no`` (Midjourney's negative prompt) to negative_prompt and the
model version (``--v 6``, ``--niji 6``) to model. Midjourney has no steps/CFG/sampler.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

from .base import GenerationParams, Parser, Tags
from .common import clean_text, to_seed
from .tags import find_text, iter_tags

logger = logging.getLogger(__name__)

GENERATOR = "Midjourney"
_DESCRIPTION_TAGS = ("Description", "ImageDescription", "Caption-Abstract", "Caption")
_JOB_MARK = "Job ID:"
# matched only at the last "Job ID:" (found with str.rfind): a regex search from every position
# of a long run of blanks before it was quadratic
_JOB_RE = re.compile(r"Job ID:\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\s*")
_FLAG_RE = re.compile(r"(?:^|\s)--([A-Za-z][A-Za-z0-9]*)")
_ALIASES = {"v": "version", "s": "stylize", "c": "chaos", "q": "quality", "w": "weird", "ar": "aspect",
            "iw": "image weight"}


def parse(tags: Tags) -> Optional[GenerationParams]:
    for name in _DESCRIPTION_TAGS:
        for _key, value in iter_tags(tags, name):
            text = clean_text(value)
            if not text:
                continue
            job_id, command = _job_id(text)
            if job_id is None:
                continue
            return _params(command, job_id, find_text(tags, "Author") or find_text(tags, "Artist"))
    return None


def _job_id(text: str) -> tuple[Optional[str], str]:
    """(job id, the command before it) when the text ends with 'Job ID: <uuid>', else (None, text)."""
    start = text.rfind(_JOB_MARK)
    m = _JOB_RE.fullmatch(text, start) if start >= 0 else None
    return (m.group(1), text[:start]) if m else (None, text)


def split_command(command: str) -> tuple[str, dict[str, Any]]:
    """'a cat --ar 2:1 --v 6 --tile' -> ('a cat', {'aspect': '2:1', 'version': '6', 'tile': True})."""
    flags = list(_FLAG_RE.finditer(command))
    if not flags:
        return command.strip(), {}
    prompt = command[:flags[0].start()].strip()
    params: dict[str, Any] = {}
    for i, m in enumerate(flags):
        end = flags[i + 1].start() if i + 1 < len(flags) else len(command)
        value = command[m.end():end].strip()
        key = _ALIASES.get(m.group(1).lower(), m.group(1).lower())
        params[key] = value if value else True
    return prompt, params


def _params(command: str, job_id: str, author: Optional[str]) -> GenerationParams:
    prompt, flags = split_command(command)
    model = None
    if isinstance(flags.get("niji"), (str, bool)):
        model = "niji" + (f" {flags['niji']}" if isinstance(flags["niji"], str) else "")
    elif isinstance(flags.get("version"), str):
        model = f"Midjourney v{flags['version']}"
    params: dict[str, Any] = dict(flags)
    params["Job ID"] = job_id
    params["command"] = command.strip()
    if author:
        params["Author"] = author
    negative = flags.get("no")
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt,
        negative_prompt=negative if isinstance(negative, str) else None,
        seed=to_seed(flags.get("seed")),
        model=model,
        params=params,
    )


PARSER = Parser("midjourney", parse, frozenset(_DESCRIPTION_TAGS))
