"""Prompt text behind a sampler's conditioning: back through conditioning nodes (combine, concat,
set-area, ControlNet, guidance…) to the text encoders (``text``, SDXL ``text_g``/``text_l``, Flux
``clip_l``/``t5xxl``…), whose text may come from primitive, string, wildcard or concatenation nodes.

A polarity ('positive'/'negative') picks the matching text of nodes that hold both.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from ..common import to_float
from .topology import MAX_DEPTH, link
from .values import Values
from .vocabulary import CONDITIONING_CLASS_WORDS, CONDITIONING_INPUTS, POLARITY_TEXT, TEXT_INPUTS

logger = logging.getLogger(__name__)

# (texts, first encoder node id, Flux guidance)
Texts = tuple[list[str], Optional[str], Optional[float]]


class Conditioning:
    """The texts behind one graph's conditioning inputs (memoised per link and polarity)."""

    def __init__(self, values: Values):
        self.values = values
        self.graph = values.graph
        self._cache: dict[tuple[str, int, str], Texts] = {}
        # encoders whose text comes from a node we cannot evaluate: their prompt is unknown, not ''
        self.unresolved: set[str] = set()

    def texts(self, value: Any, polarity: str, depth: int = 0, seen: Optional[set] = None) -> Texts:
        """(texts, first encoder node id, Flux guidance) behind a conditioning input."""
        lk = link(self.graph, value)
        if lk is None or depth > MAX_DEPTH:
            return [], None, None
        key = (lk[0], lk[1], polarity)
        if key in self._cache:
            return self._cache[key]
        seen = set() if seen is None else seen
        if key in seen:
            return [], None, None
        seen.add(key)
        result = self._node(lk[0], polarity, depth, seen)
        self._cache[key] = result
        return result

    def _node(self, nid: str, polarity: str, depth: int, seen: set) -> Texts:
        cls = self.graph[nid]["class_type"]
        inputs = self.graph[nid]["inputs"]
        if "zeroout" in cls.lower().replace("_", ""):
            return [], nid, None  # deliberately empty (Flux negatives): '' rather than unknown
        number, string = self.values.number, self.values.string
        guidance = to_float(number(inputs.get("guidance"), "guidance")) if "guidance" in inputs else None

        # a text encoder: text-like inputs that hold or link to text
        texts: list[str] = []
        text_keys = [name for name in TEXT_INPUTS if name in inputs and name != "value"]
        for name in text_keys:
            text = string(inputs[name], "", polarity, depth + 1)
            if text is not None:
                texts.append(text)
        polar_value = None
        for name in POLARITY_TEXT[polarity] if polarity else ():
            if name in inputs:
                polar_value = inputs[name]
                break
        if polar_value is not None and not texts:
            if isinstance(polar_value, str):
                texts.append(polar_value)
            else:
                plk = link(self.graph, polar_value)
                if plk is not None and self._produces_conditioning(plk[0]):
                    sub, enc, g = self.texts(polar_value, polarity, depth + 1, seen)
                    return sub, enc, guidance if guidance is not None else g
                text = string(polar_value, "", polarity, depth + 1)
                if text is not None:
                    texts.append(text)
        if texts or text_keys:  # an encoder, even when its text comes from an unknown node
            if not texts and any(link(self.graph, inputs[k]) for k in text_keys):
                self.unresolved.add(nid)
            return _dedupe(texts), nid, guidance

        # a conditioning node: follow its conditioning inputs, in order
        follow = [inputs[name] for name in CONDITIONING_INPUTS if name in inputs]
        if not follow:
            follow = [v for k, v in inputs.items()
                      if link(self.graph, v) and self._produces_conditioning(link(self.graph, v)[0])]
        collected: list[str] = []
        encoder = None
        for value in follow:
            sub, enc, g = self.texts(value, polarity, depth + 1, seen)
            collected += sub
            encoder = encoder or enc
            guidance = guidance if guidance is not None else g
        return _dedupe(collected), encoder, guidance

    def _produces_conditioning(self, nid: str) -> bool:
        cls = self.graph[nid]["class_type"].lower()
        if any(word in cls for word in CONDITIONING_CLASS_WORDS):
            return True
        inputs = self.graph[nid]["inputs"]
        return "clip" in inputs or any(name in inputs for name in CONDITIONING_INPUTS)

    def is_unknown(self, texts: list[str], encoder: Optional[str]) -> bool:
        """Whether no text was found because it cannot be known (no encoder, or one fed by a node
        we cannot evaluate), rather than because the prompt is empty."""
        return not texts and (encoder in self.unresolved or encoder is None)


def join_texts(texts: list[str]) -> str:
    """One prompt from the texts of several encoders."""
    if not texts:
        return ""
    if len(texts) == 1:
        return texts[0]
    return "\n".join(t.strip("\n") for t in texts)


def _dedupe(texts: list[str]) -> list[str]:
    out, seen = [], set()
    for text in texts:
        key = text.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out
