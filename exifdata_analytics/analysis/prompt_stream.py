"""The prompt statistics in bounded memory: prompts are read, cleaned and counted a chunk at a
time, so a million prompts need what twenty thousand do.

The texts are read and cleaned once (pass 1: word totals, document frequencies, tag counts,
keyword hits). Each chunk's words and tags, as column numbers, go to an anonymous temporary
file (deleted when closed, ~40 bytes per prompt), which the later passes read back instead of
the texts: TF-IDF needs every word's document frequency before any prompt's weights (pass 2,
with the pairs of the top tags and the sample the themes are fitted on), and each prompt's
theme needs the fitted themes (pass 3). The numbers are those of the whole-matrix computation
(scikit-learn's TfidfTransformer and NMF); sums over chunks may differ in the last bits.
"""
from __future__ import annotations

import sqlite3
import tempfile
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np
import pandas as pd

from .counts import Counts, counts_from_counter
from .prompts import (TOKEN_RE, TagMatrix, Vocabulary, add_tags, add_words, clean_prompt, is_tag, ranked,
                      split_tags, tag_counts_from)
from .selection import Filters, iter_texts, texts_series

# one chunk of cleaned prompts: image ids and their texts
CleanedChunk = tuple[Sequence[int], Sequence[str]]


class _Columns(dict):
    """term -> column, numbering new terms as they come."""

    def __missing__(self, term: str) -> int:
        column = self[term] = len(self)
        return column


@dataclass(frozen=True)
class ChunkCounts:
    """One chunk's prompts as numbers: per row (a prompt) its words with their counts and its
    distinct tags, as columns of the run's vocabularies."""

    ids: np.ndarray  # image id of each row
    nonempty: np.ndarray  # rows whose cleaned text is not empty (the documents of the word matrix)
    word_indptr: np.ndarray
    word_columns: np.ndarray
    word_counts: np.ndarray
    tag_indptr: np.ndarray
    tag_columns: np.ndarray

    def words(self, width: int):
        """The rows x ``width`` word count matrix of the documents (the non-empty rows)."""
        from scipy.sparse import csr_matrix

        matrix = csr_matrix((self.word_counts, self.word_columns, self.word_indptr), shape=(len(self.ids), width))
        return matrix[np.flatnonzero(self.nonempty)]

    def tags(self, width: int):
        from scipy.sparse import csr_matrix

        return csr_matrix((np.ones(len(self.tag_columns), dtype=np.int8), self.tag_columns, self.tag_indptr),
                          shape=(len(self.ids), width))


class _Spill:
    """``ChunkCounts`` kept in an anonymous temporary file and read back in order."""

    _FIELDS = ("ids", "nonempty", "word_indptr", "word_columns", "word_counts", "tag_indptr", "tag_columns")

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._chunks: list[list[tuple[int, int, str]]] = []

    def put(self, chunk: ChunkCounts) -> None:
        parts = []
        for name in self._FIELDS:
            data = np.ascontiguousarray(getattr(chunk, name))
            parts.append((self._file.tell(), data.nbytes, data.dtype.str))
            self._file.write(data.tobytes())
        self._chunks.append(parts)

    def __iter__(self) -> Iterator[ChunkCounts]:
        for parts in self._chunks:
            arrays = []
            for offset, size, dtype in parts:
                self._file.seek(offset)
                arrays.append(np.frombuffer(self._file.read(size), dtype=dtype))
            yield ChunkCounts(*arrays)
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


class _Growing:
    """An int64 count per column of a vocabulary that grows while counting."""

    def __init__(self) -> None:
        self.values = np.zeros(1024, dtype=np.int64)

    def add(self, columns: np.ndarray, width: int, weights: Optional[np.ndarray] = None) -> None:
        if width > len(self.values):
            self.values = np.concatenate([self.values, np.zeros(max(width, 2 * len(self.values)) - len(self.values),
                                                                dtype=np.int64)])
        if len(columns):
            counted = np.bincount(columns, weights=weights, minlength=width)
            self.values[:width] += counted.astype(np.int64) if weights is not None else counted

    def array(self, width: int) -> np.ndarray:
        return self.values[:width]


@dataclass
class FirstPass:
    """What reading the texts once gives: the vocabularies and their totals, the keyword hits,
    and the chunks' numbers (spilled) for the later passes."""

    words: _Columns
    tags: _Columns
    word_totals: _Growing
    word_documents: _Growing
    tag_images: _Growing
    documents: int
    hits: dict[str, list[np.ndarray]]
    spill: _Spill

    @property
    def terms(self) -> np.ndarray:
        return np.array(list(self.words), dtype=object)

    @property
    def tag_names(self) -> np.ndarray:
        return np.array(list(self.tags), dtype=object)

    @cached_property
    def real_tags(self) -> np.ndarray:
        """Per tag column: a tag (``is_tag``), not an empty or numeric part. Read once the texts are."""
        return np.array([is_tag(t) for t in self.tags], dtype=bool)

    def chunks(self) -> Iterator[ChunkCounts]:
        return iter(self.spill)

    def word_counts(self, name: str) -> Counts:
        totals = self.word_totals.array(len(self.words))
        return Counts(name, tuple((t, int(c)) for t, c in ranked(self.terms, totals)))

    def tag_counts(self, name: str) -> Counts:
        images = np.where(self.real_tags, self.tag_images.array(len(self.tags)), 0)
        return counts_from_counter(name, Counter({t: int(n) for t, n in zip(self.tags, images.tolist()) if n}))

    def tag_matrix(self) -> TagMatrix:
        """Which image has which tag, for every row read (the label analysis)."""
        from scipy.sparse import vstack

        width = len(self.tags)
        parts = [(c.ids, c.tags(width)) for c in self.chunks()]
        names = self.tag_names
        ok = np.flatnonzero(self.real_tags)
        if not parts:
            from scipy.sparse import csr_matrix
            return TagMatrix(np.array([], dtype=np.int64), names[ok], csr_matrix((0, len(ok)), dtype=np.int8))
        matrix = vstack([m for _, m in parts], format="csr")
        return TagMatrix(np.concatenate([i for i, _ in parts]).astype(np.int64), names[ok], matrix[:, ok])


def first_pass(chunks: Iterable[CleanedChunk], keywords: Sequence[str] = ()) -> FirstPass:
    """Count the cleaned prompts of ``chunks``; ``keywords`` (normalised, non-empty) collect the
    image ids of the prompts that contain them."""
    from .keywords import keyword_hits  # keywords imports prompts too

    words, tags = _Columns(), _Columns()
    result = FirstPass(words, tags, _Growing(), _Growing(), _Growing(), 0, {k: [] for k in keywords}, _Spill())
    findall, word_of, tag_of = TOKEN_RE.findall, words.__getitem__, tags.__getitem__
    for ids, texts in chunks:
        word_columns, word_counts, word_indptr = array("i"), array("i"), array("q", [0])
        tag_columns, tag_indptr = array("i"), array("q", [0])
        for text in texts:
            if text:
                terms = Counter(findall(text))
                word_columns.extend(map(word_of, terms.keys()))  # map/extend: no Python loop per word
                word_counts.extend(terms.values())
                tag_columns.extend(map(tag_of, split_tags(text)))
            word_indptr.append(len(word_columns))
            tag_indptr.append(len(tag_columns))
        chunk = ChunkCounts(np.asarray(ids, dtype=np.int64), np.array([bool(t) for t in texts], dtype=bool),
                            np.frombuffer(word_indptr, dtype=np.int64), np.frombuffer(word_columns, dtype=np.int32),
                            np.frombuffer(word_counts, dtype=np.int32), np.frombuffer(tag_indptr, dtype=np.int64),
                            np.frombuffer(tag_columns, dtype=np.int32))
        result.word_totals.add(chunk.word_columns, len(words), chunk.word_counts.astype(np.float64))
        result.word_documents.add(chunk.word_columns, len(words))
        result.tag_images.add(chunk.tag_columns, len(tags))
        result.documents += int(chunk.nonempty.sum())
        if keywords:
            cleaned = pd.Series(list(texts), index=pd.Index(chunk.ids), dtype=object)
            vocab = Vocabulary(pd.Index(chunk.ids[chunk.nonempty]), np.empty(0, dtype=object),
                               chunk.words(len(words)), words)
            for keyword in keywords:
                result.hits[keyword].append(np.asarray(keyword_hits(keyword, cleaned, vocab), dtype=np.int64))
        result.spill.put(chunk)
    return result


def count_matrix(cleaned: pd.Series) -> Optional[Vocabulary]:
    """The sparse documents x words count matrix of cleaned prompts in memory (what
    scikit-learn's CountVectorizer builds, with TOKEN_PATTERN and no lower-casing): one chunk of
    ``first_pass``. None when there is no word at all."""
    counted = first_pass([(cleaned.index.tolist(), cleaned.tolist())])
    try:
        if not counted.words:  # no prompts, or only numbers and single letters
            return None
        chunk = next(counted.chunks())
        return Vocabulary(pd.Index(chunk.ids[chunk.nonempty]), counted.terms, chunk.words(len(counted.words)),
                          dict(counted.words))
    finally:
        counted.spill.close()


def smooth_idf(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    """scikit-learn's smoothed idf (TfidfTransformer's default), computed the same way."""
    idf = np.full(len(document_frequency), float(documents + 1))
    idf /= document_frequency.astype(np.float64) + 1.0
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def tfidf_rows(counts, idf: np.ndarray):
    """``counts`` weighted by ``idf`` with each row scaled to unit length (TfidfTransformer's transform)."""
    from sklearn.preprocessing import normalize

    weighted = counts.astype(np.float64)
    weighted.data *= idf[weighted.indices]
    return normalize(weighted, norm="l2", copy=False)


def text_counts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
                subset: Optional[Filters] = None, words_name: Optional[str] = None,
                tags_name: str = "tags") -> tuple[Optional[Counts], Counts]:
    """Word counts (with a ``words_name``; else None) and tag counts of a text column's cleaned
    texts, read a chunk at a time."""
    words: Counter = Counter()
    tags: Counter = Counter()
    for _, texts in iter_cleaned(con, column, filters, dedupe, subset):
        if words_name is not None:
            add_words(words, texts)
        add_tags(tags, texts)
    return (counts_from_counter(words_name, words) if words_name is not None else None), tag_counts_from(tags, tags_name)


def cleaned_texts(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
                  subset: Optional[Filters] = None) -> pd.Series:
    """All of ``iter_cleaned``'s texts, indexed by image id."""
    return texts_series(iter_cleaned(con, column, filters, dedupe, subset))


def iter_cleaned(con: sqlite3.Connection, column: str, filters: Filters = Filters(), dedupe: bool = True,
                 subset: Optional[Filters] = None) -> Iterator[CleanedChunk]:
    """``iter_texts`` cleaned for counting (``clean_prompt``, the image's embeddings removed)."""
    for ids, texts, embeddings in iter_texts(con, column, filters, dedupe, subset):
        yield ids, [clean_prompt(t, names) for t, names in zip(texts, embeddings)]
