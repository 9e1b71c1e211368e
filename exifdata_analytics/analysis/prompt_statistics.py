"""The prompt statistics of the selected images as one job: cleaned prompts -> words, TF-IDF,
tags and the images of each keyword. The CLI runs it in a helper process, from the database
file in a snapshot of its own, while the main process computes everything else."""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Optional, Sequence

import pandas as pd

from .co_use import Cooccurrence, tag_cooccurrence
from .counts import Counts
from .keywords import keyword_hits, normalise_keyword
from .prompts import (TagMatrix, clean_prompts, count_matrix, tag_counts, tag_matrix, tfidf_scores,
                      word_counts_from_matrix)
from .topics import Topics, prompt_topics
from .selection import Filters, load_embeddings, load_texts, open_database, read_snapshot, snapshot_fingerprint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptStatistics:
    """What the prompts alone give: words, TF-IDF, tags and the images of each keyword.
    Computed by ``prompt_statistics``, possibly in a helper process (inputs and result pickle)."""

    words: Counts
    tfidf: tuple[tuple[str, float], ...]
    tags: Counts
    keyword_hits: tuple[tuple[str, tuple[int, ...]], ...]
    topics: Topics = Topics()
    tag_pairs: Optional[Cooccurrence] = None  # pairs of the most used tags, for the co-use report
    image_tags: Optional[TagMatrix] = None  # with_tags: which image has which tag (the label analysis)


def prompt_statistics(cleaned: pd.Series, keywords: Sequence[str] = (), tfidf_top: int = 50,
                      topics: Optional[int] = None, with_tags: bool = False) -> PromptStatistics:
    """Words, TF-IDF, tags, keyword hits (as the ``cleaned`` Series' index: image ids), themes
    (``topics``: how many, None to let the data choose, 0 for none), tag pairs, and with
    ``with_tags`` the tags of each image."""
    vocab = count_matrix(cleaned)
    hits = tuple((k, tuple(int(i) for i in keyword_hits(k, cleaned, vocab))) for k in keywords
                 if normalise_keyword(k))
    tags = tag_counts(cleaned, "prompt tags")
    return PromptStatistics(word_counts_from_matrix(vocab, "prompt words"), tfidf_scores(vocab, tfidf_top), tags,
                            hits, prompt_topics(vocab, cleaned, topics), tag_cooccurrence(cleaned, tags),
                            tag_matrix(cleaned) if with_tags else None)


def cleaned_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
                  subset: Optional[Filters] = None) -> pd.Series:
    """``load_texts`` cleaned for counting (``clean_prompts``), embeddings removed."""
    texts = load_texts(con, column, filters, dedupe, subset)
    if texts.empty:
        return texts
    return clean_prompts(texts, load_embeddings(con, texts.index))


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
            cleaned = cleaned_texts(con, "prompt", filters, dedupe)
    finally:
        con.close()
    return fingerprint, prompt_statistics(cleaned, keywords, tfidf_top, topics, with_tags)
