"""The prompt statistics of the selected images as one job: cleaned prompts -> words, TF-IDF,
tags and the images of each keyword. The CLI runs it in a helper process, from the database
file in a snapshot of its own, while the main process computes everything else."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np
import pandas as pd

from .co_use import Cooccurrence, TagPairs
from .columns import ImageIds
from .counts import Counts
from .keywords import normalise_keyword
from .prompt_stream import CleanedChunk, FirstPass, first_pass, iter_cleaned, smooth_idf, tfidf_rows
from .prompts import TagMatrix, ranked
from .topics import FittedThemes, ThemeMembers, ThemePlan, Topics, fit_topics, plan_topics
from .selection import TEXT_CHUNK_ROWS, Filters, open_database, read_snapshot, snapshot_fingerprint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptStatistics:
    """What the prompts alone give: words, TF-IDF, tags and the images of each keyword.
    Computed by ``prompt_statistics``, possibly in a helper process (inputs and result pickle)."""

    words: Counts
    tfidf: tuple[tuple[str, float], ...]
    tags: Counts
    keyword_hits: tuple[tuple[str, ImageIds], ...]
    topics: Topics = Topics()
    tag_pairs: Optional[Cooccurrence] = None  # pairs of the most used tags, for the co-use report
    image_tags: Optional[TagMatrix] = None  # with_tags: which image has which tag (the label analysis)


def prompt_statistics(cleaned: pd.Series, keywords: Sequence[str] = (), tfidf_top: int = 50,
                      topics: Optional[int] = None, with_tags: bool = False) -> PromptStatistics:
    """``streamed_prompt_statistics`` of cleaned prompts already in memory (indexed by image id)."""
    return streamed_prompt_statistics(_slices(cleaned), keywords, tfidf_top, topics, with_tags)


def _slices(cleaned: pd.Series, rows: int = TEXT_CHUNK_ROWS) -> Iterator[CleanedChunk]:
    ids, texts = cleaned.index.tolist(), cleaned.tolist()
    for start in range(0, len(texts), rows):
        yield ids[start:start + rows], texts[start:start + rows]


def streamed_prompt_statistics(chunks: Iterable[CleanedChunk], keywords: Sequence[str] = (), tfidf_top: int = 50,
                               topics: Optional[int] = None, with_tags: bool = False) -> PromptStatistics:
    """Words, TF-IDF, tags, keyword hits (image ids), themes (``topics``: how many, None to let
    the data choose, 0 for none), tag pairs, and with ``with_tags`` the tags of each image, of
    the cleaned prompts in ``chunks``, in memory bounded by the chunk size (``prompt_stream``)."""
    wanted = [k for k in keywords if normalise_keyword(k)]
    counted = first_pass(chunks, tuple(dict.fromkeys(wanted)))
    try:
        tags = counted.tag_counts("prompt tags")
        terms, words, tag_names = counted.terms, len(counted.words), counted.tag_names
        df = counted.word_documents.array(words)
        plan = plan_topics(terms, df, counted.documents if words else 0, topics)
        scores, pairs, fitted = _second_pass(counted, terms, df, tags, tag_names,
                                             plan if isinstance(plan, ThemePlan) else None)
        themes = fit_topics(plan, fitted) if isinstance(plan, ThemePlan) else plan
        if isinstance(themes, FittedThemes):
            members = ThemeMembers(themes, len(tag_names))
            for chunk in counted.chunks():
                documents = np.flatnonzero(chunk.nonempty)
                members.add(chunk.ids[documents], tfidf_rows(chunk.words(words)[:, plan.columns], plan.idf),
                            chunk.tags(len(tag_names))[documents])
            themes = members.topics(tag_names, counted.real_tags)
        hits = tuple((k, ImageIds(np.concatenate(counted.hits[k]) if counted.hits[k] else ())) for k in wanted)
        return PromptStatistics(counted.word_counts("prompt words"), scores[:tfidf_top], tags, hits, themes, pairs,
                                counted.tag_matrix() if with_tags else None)
    finally:
        counted.spill.close()


def _second_pass(counted: FirstPass, terms: np.ndarray, df: np.ndarray, tags: Counts, tag_names: np.ndarray,
                 plan: Optional[ThemePlan]):
    """Over the spilled chunks: the summed TF-IDF of each word (English stop words left out, as
    TfidfVectorizer's ``stop_words='english'``), the pairs of the top tags, and the themes'
    sample of TF-IDF rows."""
    from scipy.sparse import vstack
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = len(terms)
    kept = np.flatnonzero(np.array([t not in ENGLISH_STOP_WORDS for t in terms], dtype=bool))
    idf = smooth_idf(df[kept], counted.documents)
    sums = np.zeros(len(kept))
    pairs = TagPairs(tag_names, counted.real_tags, tags)
    sampled, position = [], 0
    for chunk in counted.chunks():
        matrix = chunk.words(words)
        if len(kept):
            weights = tfidf_rows(matrix[:, kept], idf)
            # one addition per entry in row order, as scipy sums a whole matrix's columns: the
            # same floating-point sums whatever the chunks
            np.add.at(sums, weights.indices, weights.data)
        pairs.add(chunk.tags(len(tag_names)))
        if plan is not None:
            lo, hi = np.searchsorted(plan.sample, [position, position + matrix.shape[0]])
            if hi > lo:
                sampled.append(tfidf_rows(matrix[plan.sample[lo:hi] - position][:, plan.columns], plan.idf))
        position += matrix.shape[0]
    scores = tuple(ranked(terms[kept], sums)) if len(kept) else ()
    return scores, pairs.result(), vstack(sampled, format="csr") if sampled else None


def prompt_statistics_from(db_path: str, filters: Filters, dedupe: bool, keywords: Sequence[str] = (),
                           tfidf_top: int = 50, topics: Optional[int] = None,
                           with_tags: bool = False) -> tuple[tuple, PromptStatistics]:
    """``prompt_statistics`` of the selected images, read from the database file with a
    connection of its own in one read transaction, with the fingerprint of that snapshot: the
    job the CLI's helper process runs while the main process reads everything else (SQLite in
    WAL mode serves both readers at once)."""
    con = open_database(db_path)
    try:
        with read_snapshot(con):
            fingerprint = snapshot_fingerprint(con)
            return fingerprint, streamed_prompt_statistics(iter_cleaned(con, "prompt", filters, dedupe), keywords,
                                                           tfidf_top, topics, with_tags)
    finally:
        con.close()
