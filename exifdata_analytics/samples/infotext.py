"""The A1111 infotext (``parameters`` text) exactly as A1111's ``create_infotext`` writes it."""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Optional

logger = logging.getLogger(__name__)


class Verbatim(str):
    """A settings value that ``a1111_infotext`` writes as-is, without A1111's quoting
    (for tools such as Civitai that write e.g. ``Civitai resources: [{...}]`` unquoted)."""


def a1111_quote(value: Any) -> str:
    """A1111's ``quote()``: JSON-encode values containing ``,``, ``:`` or a newline.

    Like A1111, the test is on ``str(value)`` but ``json.dumps`` gets the value itself, so
    dicts and lists become JSON objects/arrays and strings become quoted JSON strings.
    """
    if isinstance(value, Verbatim):
        return str(value)
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(value, ensure_ascii=False)


def a1111_infotext(
    prompt: str,
    negative_prompt: Optional[str] = None,
    settings: Optional[Mapping[str, Any]] = None,
) -> str:
    """The infotext A1111's ``create_infotext`` writes.

    ``prompt``, then ``\\nNegative prompt: …`` only when the negative is non-empty, then
    ``\\n`` and the settings line ``Key: value, Key: value`` (values quoted by ``a1111_quote``;
    None values skipped; a key whose value equals the key is written bare), the whole
    ``.strip()``-ed as A1111 does.
    """
    settings = settings or {}
    line = ", ".join(
        k if k == v else f"{k}: {a1111_quote(v)}" for k, v in settings.items() if v is not None
    )
    negative = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    return f"{prompt}{negative}\n{line}".strip()
