"""Helpers over ExifTool tag dicts: look-ups that ignore copy numbers, and text repair."""
from __future__ import annotations

import logging
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Optional, Sequence

from .base import Tags

logger = logging.getLogger(__name__)


def split_key(key: str) -> tuple[str, str]:
    """'PNG:Copy1:Parameters' -> ('PNG', 'Parameters'); 'SourceFile' -> ('', 'SourceFile')."""
    parts = key.split(":")
    return (parts[0] if len(parts) > 1 else ""), parts[-1]


class IndexedTags(dict):
    """A tag dict that indexes its keys by lower-case tag name on first look-up, so the ~50
    look-ups the parser registry makes per file cost one pass over its keys, not one each."""

    _index: Optional[dict] = None
    # key -> length of the value before it was cut for parsing (parsers.normalize_tags)
    truncated: Mapping[str, int] = MappingProxyType({})

    def name_index(self) -> dict[str, list[tuple[int, str, str]]]:
        """lower-case tag name -> [(copy depth, lower-case group, key)], primary copy first."""
        index = self._index
        if index is None:
            index = {}
            repeated = []
            for key in self:
                parts = key.split(":")
                name = parts[-1].lower()
                hit = (len(parts) - 1, parts[0].lower() if len(parts) > 1 else "", key)
                hits = index.get(name)
                if hits is None:
                    index[name] = [hit]
                else:
                    hits.append(hit)
                    repeated.append(hits)
            for hits in repeated:
                hits.sort(key=_copy_depth)
            self._index = index
        return index

    def __setitem__(self, key, value):
        self._index = None
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self._index = None
        super().__delitem__(key)

    def update(self, *args, **kwargs):
        self._index = None
        super().update(*args, **kwargs)


def _copy_depth(hit: tuple[int, str, str]) -> int:
    return hit[0]


@lru_cache(maxsize=256)
def _group_set(groups: tuple[str, ...]) -> frozenset[str]:
    return frozenset(g.lower() for g in groups)


def _hits(tags: Tags, name: str) -> Sequence[tuple[int, str, str]]:
    if isinstance(tags, IndexedTags):
        return tags.name_index().get(name.lower(), ())
    wanted = name.lower()
    hits = []
    for key in tags.keys():
        group, tag = split_key(key)
        if tag.lower() == wanted:
            hits.append((key.count(":"), group.lower(), key))
    hits.sort(key=_copy_depth)
    return hits


def iter_tags(tags: Tags, name: str, groups: Optional[Sequence[str]] = None) -> Iterator[tuple[str, Any]]:
    """Every (key, value) whose tag name is ``name`` (case-insensitive), optionally only in
    the given family-1 groups; the primary copy comes before ``Copy1``, ``Copy2``…"""
    hits = _hits(tags, name)
    if not hits:
        return
    group_set = _group_set(tuple(groups)) if groups else None
    for _, group, key in hits:
        if group_set is None or group in group_set:
            yield key, tags[key]


def find_tag(tags: Tags, name: str, groups: Optional[Sequence[str]] = None) -> Any:
    """The first value of tag ``name`` (see iter_tags), or None."""
    hits = _hits(tags, name)
    if not hits:
        return None
    if not groups:
        return tags[hits[0][2]]
    group_set = _group_set(tuple(groups))
    for _, group, key in hits:
        if group in group_set:
            return tags[key]
    return None


def find_text(tags: Tags, name: str, groups: Optional[Sequence[str]] = None) -> Optional[str]:
    """Like find_tag, but only a non-empty string value counts."""
    for _, value in iter_tags(tags, name, groups):
        if isinstance(value, str) and value.strip():
            return value
    return None


# ExifTool reads PNG tEXt as Windows-1252 ("Latin"), so raw UTF-8 written by many tools comes
# back as e.g. 'ãƒ†ã‚¹ãƒˆ' for 'テスト'. Map every character back to the byte it came from.
_CP1252_TO_BYTE = {}
for _b in range(256):
    _CP1252_TO_BYTE[chr(_b)] = _b  # Latin-1 identity (also covers bytes cp1252 leaves undefined)
for _b in range(0x80, 0xA0):
    try:
        _CP1252_TO_BYTE[bytes([_b]).decode("cp1252")] = _b
    except UnicodeDecodeError:
        pass


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 bytes decoded as Latin-1/cp1252. Text that is not such mojibake
    (plain ASCII, genuine Latin-1 like 'café', real Unicode) is returned unchanged."""
    if not text or text.isascii():
        return text
    raw = bytearray()
    for ch in text:
        b = _CP1252_TO_BYTE.get(ch)
        if b is None:
            return text  # a character outside cp1252: already proper Unicode
        raw.append(b)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text
