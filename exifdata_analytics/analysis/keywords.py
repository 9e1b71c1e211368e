"""Keywords: whole words or phrases found in the cleaned prompts (``cat`` is not ``scattering``),
and per keyword the images, their most used models and samplers (keyword_analysis.txt)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .counts import value_counts
from .prompts import TOKEN_RE, Vocabulary, clean_prompt

logger = logging.getLogger(__name__)

def normalise_keyword(keyword: str) -> str:
    """A keyword read like a prompt (brackets, weights, underscores, case), so it compares
    with cleaned prompts."""
    return clean_prompt(keyword).strip(" ,")


def keyword_pattern(keyword: str) -> re.Pattern:
    """Whole words or a whole phrase, case-insensitive: 'cat' matches 'a cat,' and '(cat:1.2)'
    but not 'catgirl' or 'scattering'."""
    words = normalise_keyword(keyword).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords from a comma-separated string or a file's text (one per line or comma-separated;
    '#' starts a comment line). Duplicates (ignoring case) are dropped, order kept."""
    seen, out = set(), []
    for line in text.splitlines() or [text]:
        if line.lstrip().startswith("#"):
            continue
        for part in line.split(","):
            word = part.strip()
            key = normalise_keyword(word)
            if key and key not in seen:
                seen.add(key)
                out.append(word)
    return tuple(out)


def keyword_hits(keyword: str, cleaned: pd.Series, vocab: Optional[Vocabulary] = None) -> pd.Index:
    """Index of the cleaned prompts that contain the keyword. The word matrix narrows the
    candidates to prompts holding every word of the keyword; the regex confirms phrases."""
    norm = normalise_keyword(keyword)
    if not norm or cleaned.empty:
        return cleaned.index[:0]
    words = sorted(set(TOKEN_RE.findall(norm)))
    candidates = cleaned
    if vocab is not None and words:
        rows = None
        for word in words:
            found = vocab.rows_with(word)
            if found is None:
                return cleaned.index[:0]
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
        if words == [norm]:  # a single plain word: the matrix is the answer
            return vocab.index[np.sort(rows)]
        candidates = cleaned.loc[vocab.index[np.sort(rows)]]
    pattern = keyword_pattern(keyword)
    return candidates.index[[bool(pattern.search(t)) for t in candidates.tolist()]]


@dataclass(frozen=True)
class KeywordResult:
    keyword: str
    count: int
    top_models: tuple[tuple[str, int], ...]
    top_samplers: tuple[tuple[str, int], ...]


def keyword_analysis(frame: pd.DataFrame, hits: Mapping[str, Sequence], top_models: int = 3,
                     top_samplers: int = 3) -> tuple[KeywordResult, ...]:
    """Per keyword (``hits``: keyword -> ids of the images whose prompt contains it, in the
    user's order): the image count and the most used models and samplers. Sorted by
    count (most first), ties in the order given."""
    results = []
    for keyword, ids in hits.items():
        found = frame[frame["id"].isin(np.asarray(ids))]
        models = value_counts(found, "Model", "model").top(top_models)
        samplers = value_counts(found, "Sampler", "sampler").top(top_samplers)
        results.append(KeywordResult(keyword, int(len(found)), models, samplers))
    results.sort(key=lambda r: -r.count)  # stable: ties keep the user's order
    return tuple(results)
