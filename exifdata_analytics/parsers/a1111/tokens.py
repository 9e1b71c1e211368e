"""The A1111 settings line split into (key, value) pairs, and its numbers.

A quote- and bracket-aware scan, never a regex search over the whole line: JSON-quoted values
(A1111's ``quote()``) are decoded with ``json.loads``; bare JSON objects/arrays (``Civitai
resources: [{…}]``, ``Hashes: {…}``) are kept whole and decoded; a comma-separated fragment that
is not a pair is glued back onto the preceding plain value (SD.Next writes ``LoRA networks: a, b``
unquoted).
"""
from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Optional

logger = logging.getLogger(__name__)

# A key as A1111 writes it (its re_param uses \w[\w \-/]+); matched anchored, never searched.
KEY_RE = re.compile(r"[ \t]*(\w[\w \-/]*):[ \t]*")
# Keys whose (JSON-quoted) string value holds JSON to decode too (lower case).
JSON_KEYS = frozenset({"hashes", "civitai resources", "civitai metadata"})


def _scan_quoted(s: str, pos: int) -> int:
    """Index just past the JSON string starting at s[pos] == '"', or -1 if unterminated."""
    i, n = pos + 1, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return -1


def _scan_bracketed(s: str, pos: int) -> int:
    """Index just past the JSON object/array starting at s[pos], or -1 if unbalanced."""
    stack = []
    i, n = pos, len(s)
    closing = {"{": "}", "[": "]"}
    while i < n:
        c = s[i]
        if c == '"':
            end = _scan_quoted(s, i)
            if end < 0:
                return -1
            i = end
            continue
        if c in closing:
            stack.append(closing[c])
        elif c in "}]":
            if not stack or stack.pop() != c:
                return -1
            if not stack:
                return i + 1
        i += 1
    return -1


def _at_separator(s: str, pos: int) -> int:
    """If only blanks stand between pos and a ',' or the end, the index after the separator."""
    n = len(s)
    while pos < n and s[pos] in " \t":
        pos += 1
    if pos >= n:
        return n
    if s[pos] == ",":
        return pos + 1
    return -1


def tokenize(line: str) -> list[tuple[str, Any]]:
    """'key: value, key: "quoted, value", key: {"json": 1}' -> [(key, value), …]."""
    pairs: list[list[Any]] = []  # [key, value, is_plain]
    pos, n = 0, len(line)
    scan_quotes = scan_brackets = True
    while pos < n:
        while pos < n and line[pos] in " \t,":
            pos += 1
        if pos >= n:
            break
        m = KEY_RE.match(line, pos)
        if m is None:
            end = line.find(",", pos)
            end = n if end < 0 else end
            fragment = line[pos:end].strip()
            if pairs and pairs[-1][2] and fragment:
                pairs[-1][1] = f"{pairs[-1][1]}, {fragment}" if pairs[-1][1] else fragment
            pos = end + 1
            continue
        key = m.group(1).strip()
        vstart = m.end()
        value: Any = None
        plain = True
        after = -1
        # A scan that does not yield a value disables further scans of its kind on this line:
        # that keeps malformed lines such as 'a: [, a: [, …' linear instead of quadratic.
        if vstart < n and line[vstart] == '"' and scan_quotes:
            end = _scan_quoted(line, vstart)
            if end > vstart + 1:
                after = _at_separator(line, end)
                if after >= 0:
                    value, plain = _unquote(line[vstart:end], key), False
            scan_quotes = not plain
        elif vstart < n and line[vstart] in "{[" and scan_brackets:
            end = _scan_bracketed(line, vstart)
            if end > 0:
                after = _at_separator(line, end)
                if after >= 0:
                    value, plain = _decode_json(line[vstart:end]), False
            scan_brackets = not plain
        if plain:
            end = line.find(",", vstart)
            end = n if end < 0 else end
            value = line[vstart:end].strip()
            after = end + 1
        pairs.append([key, value, plain])
        pos = after
    return [(key, value) for key, value, _ in pairs]


def _unquote(raw: str, key: str) -> Any:
    """A1111's unquote(): json.loads of a quoted value; on failure the text between the quotes.
    A quoted JSON object (or a JSON list under a known key) is decoded as well."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return raw[1:-1]
    if isinstance(value, str) and value[:1] in ("{", "["):
        inner = _decode_json(value)
        if isinstance(inner, dict) or (isinstance(inner, list) and key.lower() in JSON_KEYS):
            return inner
    return value


def _decode_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw


def to_float(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        result = float(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def to_int(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    try:
        return int(value.strip())
    except (ValueError, TypeError, AttributeError):
        pass
    number = to_float(value)
    if number is None or number != int(number):
        return None
    return int(number)
