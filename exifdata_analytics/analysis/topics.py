"""Themes: the prompts clustered into a few topics (``prompt_topics.txt``).

Non-negative matrix factorisation (scikit-learn's NMF) of the prompts' TF-IDF: each theme is a
weighted set of words, each prompt a mix of themes, and an image belongs to the theme that
weighs most in its prompt. Words in more than half of the prompts (``masterpiece``, ``best
quality``) describe no theme and are left out, as are words in fewer than 3 prompts and English
stop words.

The number of themes, unless asked for (``--topics N``), is chosen by the data: on a sample of
at most ``SAMPLE`` prompts, the largest K from 3 to 12 whose themes are all distinct (no two share
more than a third of their top 10 words) and all real (each holds at least 2% of the prompts).
The model is fitted on that sample and then applied to every prompt, so the cost stays bounded
for any library (seeded: the same prompts give the same themes).

NMF splits any set of prompts into themes, also one without any. So the themes are reported only
when the prompts lean to one theme clearly more than the same words would by chance: the mean
share of a prompt's strongest theme must exceed, by ``MIN_LEAN_OVER_CHANCE``, the same measure on
the sample with every word's occurrences shuffled across the prompts (word frequencies kept,
co-occurrence destroyed). Measured: planted themes +0.35, themes mixed with random words +0.11,
random words +0.01.

Computed in the prompt statistics job (the CLI's helper process): it returns, per theme, its
words, top tags and the ids of its images; ``describe_topics`` adds what needs the selection
frame (top models, images per month) in the main process.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .columns import ImageIds
from .counts import sorted_counts, text_values
from .timeline import months_of

logger = logging.getLogger(__name__)

MIN_THEMES, MAX_THEMES = 3, 12
SAMPLE = 4_000  # prompts the themes are fitted on (measured: one fit 0.15 s; at 20,000: 0.6 s)
MIN_PROMPTS = 50  # fewer prompts than this: no themes (there is nothing to cluster)
MIN_DOCUMENT_FREQUENCY = 3
MAX_DOCUMENT_SHARE = 0.5
MIN_THEME_SHARE = 0.02
MAX_SHARED_WORDS = 1 / 3
TOP_WORDS = 10
MAX_WORDS = 2_000
MIN_LEAN_OVER_CHANCE = 0.05


@dataclass(frozen=True)
class Theme:
    number: int  # 1-based, largest theme first
    words: tuple[str, ...]  # its top words, by weight
    tags: tuple[tuple[str, int], ...]  # the most used prompt tags of its images (tag, images)
    image_ids: ImageIds  # the images of the theme
    images: int
    share: float  # of the prompts analysed


@dataclass(frozen=True)
class Topics:
    themes: tuple[Theme, ...] = ()
    prompts: int = 0  # prompts analysed
    without_theme: int = 0  # prompts with none of the themes' words
    chosen_by: str = ""  # how the number of themes was chosen (or why there are none)


@dataclass(frozen=True)
class ThemeContext:
    """What the selection adds to a theme: its top models and its images per month."""

    number: int
    top_models: tuple[tuple[str, int], ...]
    months: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ThemePlan:
    """What the themes are fitted on, decided from the word counts of all prompts: the word
    columns, their idf, and the positions (among the documents) of the sample."""

    columns: np.ndarray  # word columns of the vocabulary, ascending
    terms: np.ndarray
    idf: np.ndarray
    sample: np.ndarray  # document positions, ascending
    documents: int
    requested: Optional[int]


def plan_topics(terms: np.ndarray, document_frequency: np.ndarray, documents: int,
                requested: Optional[int] = None) -> "ThemePlan | Topics":
    """The ``ThemePlan`` for ``documents`` prompts whose words (``terms``) appear in
    ``document_frequency`` of them; or, when there is nothing to cluster, the ``Topics`` that
    say why. ``requested`` K, or None to let the data choose, 0 for none."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from .prompt_stream import smooth_idf

    if requested == 0:
        return Topics(chosen_by="not asked for (--topics 0)")
    if documents < MIN_PROMPTS:
        return Topics(prompts=documents,
                      chosen_by=f"too few prompts to find themes ({documents}; at least {MIN_PROMPTS})")
    df = document_frequency
    keep = (df >= MIN_DOCUMENT_FREQUENCY) & (df <= MAX_DOCUMENT_SHARE * documents)
    keep &= np.array([t not in ENGLISH_STOP_WORDS for t in terms], dtype=bool)
    columns = np.flatnonzero(keep)
    if len(columns) < MIN_THEMES * 2 or min(documents, SAMPLE) < MIN_THEMES * 2:
        return Topics(prompts=documents, chosen_by="too few distinct words to find themes")
    if len(columns) > MAX_WORDS:  # the most widespread words carry the themes; the rest costs time
        columns = np.sort(columns[np.argsort(-df[columns], kind="stable")[:MAX_WORDS]])
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(documents, size=min(SAMPLE, documents), replace=False))
    return ThemePlan(columns, terms[columns], smooth_idf(df[columns], documents), sample, documents, requested)


@dataclass(frozen=True)
class FittedThemes:
    plan: ThemePlan
    model: object  # scikit-learn NMF
    k: int
    chosen_by: str


def fit_topics(plan: ThemePlan, fitted) -> "FittedThemes | Topics":
    """The themes fitted on the sample's TF-IDF rows (``fitted``, in the plan's columns), or the
    ``Topics`` saying there are no clear ones."""
    from sklearn.decomposition import NMF

    requested = plan.requested
    if requested is not None:
        k = max(1, min(int(requested), len(plan.columns) // 2, fitted.shape[0]))
        model = _fit(NMF, fitted, k)
        chosen_by = f"asked for (--topics {requested})" + (f"; {k} possible" if k != requested else "")
    else:
        k, model = _choose(NMF, fitted)
        chosen_by = (f"chosen by the data: the largest number from {MIN_THEMES} to {MAX_THEMES} whose themes are "
                     f"distinct and each hold at least {MIN_THEME_SHARE:.0%} of the prompts")
    lean, chance = _lean(model.transform(fitted)), _lean(_fit(NMF, _shuffled(fitted), k).transform(_shuffled(fitted)))
    if lean - chance < MIN_LEAN_OVER_CHANCE:
        return Topics(prompts=plan.documents,
                      chosen_by=f"no clear themes: the prompts' words go together no more than by chance "
                                f"(strongest theme per prompt {lean:.2f} vs {chance:.2f} with the words shuffled)")
    return FittedThemes(plan, model, k, chosen_by)


class ThemeMembers:
    """The images of each theme and their tags, gathered chunk by chunk (``add``)."""

    def __init__(self, themes: FittedThemes, tag_width: int) -> None:
        self.themes = themes
        self.members: list[list[np.ndarray]] = [[] for _ in range(themes.k)]
        self.tag_images = np.zeros((themes.k, tag_width), dtype=np.int64)
        self.without_theme = 0

    def add(self, ids: np.ndarray, tfidf, tags) -> None:
        """One chunk's documents: their image ``ids``, TF-IDF rows (plan columns) and tag matrix."""
        if not len(ids):
            return
        weights = self.themes.model.transform(tfidf)
        strongest = weights.argmax(axis=1)
        has_theme = weights.max(axis=1) > 0
        self.without_theme += int((~has_theme).sum())
        for t in range(self.themes.k):
            rows = np.flatnonzero(has_theme & (strongest == t))
            if len(rows):
                self.members[t].append(ids[rows])
                self.tag_images[t, :tags.shape[1]] += np.asarray(tags[rows].sum(axis=0)).ravel()

    def topics(self, tag_names: np.ndarray, ok: np.ndarray, top_tags: int = 8) -> Topics:
        """The themes with their images and top tags; ``ok``: which tag columns are tags."""
        from .counts import Counts

        components = self.themes.model.components_
        themes = []
        for t in range(self.themes.k):
            members = np.concatenate(self.members[t]) if self.members[t] else np.array([], dtype=np.int64)
            if not len(members):
                continue
            words = tuple(str(self.themes.plan.terms[i]) for i in np.argsort(-components[t])[:TOP_WORDS])
            counts = np.where(ok, self.tag_images[t, :len(tag_names)], 0)
            if np.count_nonzero(counts) > top_tags:  # the candidates: every tag as used as the n-th most used
                floor = np.partition(counts, len(counts) - top_tags)[len(counts) - top_tags]
                counts = np.where(counts >= max(floor, 1), counts, 0)
            present = np.flatnonzero(counts)
            tags = Counts("tags", tuple(sorted(((str(tag_names[j]), int(counts[j])) for j in present),
                                               key=lambda kv: (-kv[1], kv[0].casefold(), kv[0])))).top(top_tags)
            themes.append((len(members), words, tags, ImageIds(members)))
        themes.sort(key=lambda th: (-th[0], th[1]))
        docs = self.themes.plan.documents
        return Topics(tuple(Theme(n + 1, words, tags, members, size, size / docs)
                            for n, (size, words, tags, members) in enumerate(themes)),
                      prompts=docs, without_theme=self.without_theme, chosen_by=self.themes.chosen_by)


def _fit(nmf, matrix, k: int):
    from sklearn.exceptions import ConvergenceWarning

    # 300 iterations settle the top words of each theme; an unfinished last decimal is not the
    # user's concern, and a library warning on stderr would read like a fault of the run
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = nmf(n_components=k, init="nndsvda", random_state=0, max_iter=300).fit(matrix)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            logger.debug("themes, K=%d: %s", k, w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model


def _lean(weights: np.ndarray) -> float:
    """How clearly prompts belong to one theme: the mean share of each prompt's strongest theme."""
    totals = weights.sum(axis=1)
    used = totals > 0
    return float((weights.max(axis=1)[used] / totals[used]).mean()) if used.any() else 0.0


def _shuffled(matrix):
    """``matrix`` with each column's values moved to random rows (seeded)."""
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(1)
    csc = matrix.tocsc()
    rows = np.concatenate([rng.choice(matrix.shape[0], size=csc.indptr[j + 1] - csc.indptr[j], replace=False)
                           for j in range(matrix.shape[1])]) if matrix.nnz else np.array([], dtype=int)
    cols = np.repeat(np.arange(matrix.shape[1]), np.diff(csc.indptr))
    return csr_matrix((csc.data, (rows, cols)), shape=matrix.shape)


def _choose(nmf, matrix):
    """The largest K whose themes are distinct and real (see the module docstring)."""
    best = None
    for k in range(MIN_THEMES, min(MAX_THEMES, *matrix.shape) + 1):  # NMF needs k <= documents, words
        model = _fit(nmf, matrix, k)
        shares = np.bincount(model.transform(matrix).argmax(axis=1), minlength=k) / matrix.shape[0]
        tops = [set(np.argsort(-row)[:TOP_WORDS]) for row in model.components_]
        shared = max((len(a & b) / TOP_WORDS for i, a in enumerate(tops) for b in tops[i + 1:]), default=0.0)
        if shares.min() >= MIN_THEME_SHARE and shared <= MAX_SHARED_WORDS:
            best = (k, model)
        elif best is not None:
            break  # past the best: more themes only split real ones
    return best if best is not None else (MIN_THEMES, _fit(nmf, matrix, MIN_THEMES))


def describe_topics(topics: Topics, frame: pd.DataFrame, top_models: int = 3) -> tuple[ThemeContext, ...]:
    """Per theme: its most used models and images per month, from the selection frame."""
    if not topics.themes or frame.empty:
        return ()
    row_of = pd.Index(frame["id"].to_numpy())
    month = months_of(frame)
    out = []
    for theme in topics.themes:
        rows = row_of.get_indexer(np.asarray(theme.image_ids))
        rows = rows[rows >= 0]  # the theme's images in the frame
        models = text_values(frame["model"].iloc[rows]).value_counts(sort=False)
        months = month.reindex(frame.index[rows]).dropna().value_counts().sort_index()
        out.append(ThemeContext(theme.number, tuple(sorted_counts(models, numeric=False)[:top_models]),
                                tuple((str(m), int(n)) for m, n in months.items())))
    return tuple(out)


def theme_words(theme: Theme, n: int = 6) -> str:
    return ", ".join(theme.words[:n])


__all__: Sequence[str] = ("Theme", "Topics", "ThemeContext", "ThemePlan", "FittedThemes", "ThemeMembers", "plan_topics", "fit_topics", "describe_topics", "theme_words")
