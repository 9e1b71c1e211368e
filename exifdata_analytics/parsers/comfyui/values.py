"""Numbers and strings read through links: primitives, settings nodes, text and concatenation nodes."""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from .topology import MAX_DEPTH, Graph, Link, is_passthrough, link
from .vocabulary import (CONCAT_RE, DELIMITER_INPUTS, NOT_TEXT, NUMBER_INPUTS, PART_RE, POLARITY_TEXT,
                         RUNTIME_TEXT_RE, SEED_INPUTS, SETTING_TEXT_INPUTS, STRING_REPLACE, TEXT_INPUTS)

logger = logging.getLogger(__name__)

# Texts built by concatenation nodes are cut here: a graph of nodes that each join their input
# twice would otherwise grow a text exponentially.
MAX_TEXT = 100_000


class Values:
    """The values of one graph's inputs, followed through links.

    Linked values are memoised: a DAG of concatenation nodes must not be walked once per path,
    and a cycle back to a value being read reads None.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self._memo: dict[tuple, Any] = {}
        # a linked read that found nothing -> the node to blame: the deepest one on its way that
        # is not a reroute (an LLM prompt node, a custom node storing nothing we know), so a
        # StringReplace fed by an LLM blames the LLM
        self.blame: dict[Link, str] = {}
        self._failed: Optional[str] = None

    def number(self, value: Any, hint: str = "", depth: int = 0) -> Any:
        """A literal number, or the number a linked primitive/settings node holds."""
        if depth > MAX_DEPTH:
            return None
        lk = link(self.graph, value)
        if lk is None:
            if isinstance(value, dict):  # some nodes wrap values: {"value": 7}
                value = value.get("value", value.get("content"))
            return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
        return self._read(("n", lk, hint), lk, lambda: self._linked_number(lk, hint, depth))

    def _linked_number(self, lk: Link, hint: str, depth: int) -> Any:
        nid, _slot = lk
        inputs = self.graph[nid]["inputs"]
        if is_passthrough(self.graph, nid):
            return self.number(next(iter(inputs.values())), hint, depth + 1)
        names = [hint] if hint else []
        if hint in SEED_INPUTS:
            names += list(SEED_INPUTS)
        names += list(NUMBER_INPUTS)
        for name in names:
            if name in inputs:
                result = self.number(inputs[name], hint, depth + 1)
                if result is not None:
                    return result
        if len(inputs) == 1:  # a constant node with an unusual input name
            only = next(iter(inputs.values()))
            if isinstance(only, (int, float)) and not isinstance(only, bool):
                return only
        return None

    def string(self, value: Any, hint: str = "", polarity: str = "", depth: int = 0) -> Optional[str]:
        """A literal string, or the text a linked text/primitive/concatenation node produces."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, dict):  # pysssss loaders: {"content": "name", "image": …}
            inner = value.get("content", value.get("value"))
            return inner if isinstance(inner, str) else None
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "\n".join(value)  # ShowText keeps its text as a list of strings
        lk = link(self.graph, value)
        if lk is None:
            return None
        return self._read(("s", lk, hint, polarity), lk, lambda: self._linked_string(lk, hint, polarity, depth))

    def _read(self, key: tuple, lk: Link, compute: Callable[[], Any]) -> Any:
        """A memoised linked read (a cycle back to a value being read reads None); a read that
        finds nothing records whom to blame (``blame``)."""
        if key in self._memo:
            result = self._memo[key]
            if result is None:
                self._failed = self.blame.get(lk, self._failed)
            return result
        self._memo[key] = None
        outer, self._failed = self._failed, None
        result = compute()
        self._memo[key] = result
        if result is None:
            leaf = self._failed or (None if is_passthrough(self.graph, lk[0]) else lk[0])
            if leaf is not None:
                self.blame[lk] = leaf
            self._failed = leaf or outer
        else:
            self._failed = outer
        return result

    def unread_class(self, value: Any) -> Optional[str]:
        """The class of the node to blame for a linked ``value`` that could not be read."""
        lk = link(self.graph, value)
        nid = self.blame.get(lk) if lk is not None else None
        return self.graph[nid]["class_type"] if nid is not None else None

    def _linked_string(self, lk: Link, hint: str, polarity: str, depth: int) -> Optional[str]:
        nid, slot = lk
        cls = self.graph[nid]["class_type"]
        inputs = self.graph[nid]["inputs"]
        if is_passthrough(self.graph, nid):
            return self.string(next(iter(inputs.values())), hint, polarity, depth + 1)
        if RUNTIME_TEXT_RE.search(cls):
            return None
        if cls in STRING_REPLACE:
            return self._replacement(nid, depth)
        parts = sum(1 for k in inputs if PART_RE.match(k))
        if (CONCAT_RE.search(cls) and "conditioning" not in cls.lower()) or parts >= 2:
            joined = self._concatenation(nid, depth)
            if joined is not None:
                return joined
        if hint:
            # a setting (sampler_name, ckpt_name…): the same-named input of a settings node, or a
            # primitive's value, never some other text of that node
            for name in (hint,) + SETTING_TEXT_INPUTS:
                if name in inputs:
                    result = self.string(inputs[name], hint if name == hint else "", "", depth + 1)
                    if result is not None:
                        return result
            return None
        names: list[str] = []
        if polarity:
            names += list(POLARITY_TEXT[polarity])
        elif slot in (0, 1) and "text_positive" in inputs and "text_negative" in inputs:
            names.append("text_positive" if slot == 0 else "text_negative")
        names += list(TEXT_INPUTS)
        for name in names:
            if name in inputs:
                result = self.string(inputs[name], "", polarity, depth + 1)
                if result is not None:
                    return result
        # a text node with an unusual input name: its only text input
        candidates = [v for k, v in inputs.items() if isinstance(v, str) and k not in NOT_TEXT and v.strip()]
        return candidates[0] if len(candidates) == 1 else None

    def _replacement(self, nid: str, depth: int) -> Optional[str]:
        """A search-and-replace node's result (unknown when any of its three texts is)."""
        inputs = self.graph[nid]["inputs"]
        text, find, replace = (self.string(inputs.get(name), "", "", depth + 1)
                               for name in STRING_REPLACE[self.graph[nid]["class_type"]])
        if text is None or find is None or replace is None:
            return None
        return text.replace(find, replace)[:MAX_TEXT] if find else text

    def _concatenation(self, nid: str, depth: int) -> Optional[str]:
        inputs = self.graph[nid]["inputs"]
        delimiter = ""
        for name in DELIMITER_INPUTS:
            if isinstance(inputs.get(name), str):
                delimiter = inputs[name].replace("\\n", "\n")
                break
        parts = []
        named_parts = [k for k in inputs if PART_RE.match(k)]
        for name, value in inputs.items():
            if named_parts and name not in named_parts:
                continue  # text_a/text_b…: only those are joined, the rest are options
            if name in DELIMITER_INPUTS or name in NOT_TEXT or isinstance(value, (bool, int, float)):
                continue
            text = self.string(value, "", "", depth + 1)
            if text:
                parts.append(text[:MAX_TEXT])
        return delimiter.join(parts)[:MAX_TEXT] if parts else None
