"""What the images carrying a label have in common (``--label-by``, ``label_analysis.txt``):
for each label and each value of each field, the share of the images with that value that
carry the label against the share of the other images, whether the difference is more than
chance, and one model of all fields together (``label_model``).

The statistics of one cell (label ℓ, field f, value v), within the field's base (the images
that could have a value of f, see ``label_fields``):

* ``rate`` = images with v that carry ℓ / images with v; ``rate_without`` the same for the
  base's images without v;
* ``ci95``: the 95% interval of ``rate - rate_without``, Newcombe's hybrid score interval
  (his method 10: from the two Wilson score intervals), which stays inside -1..1 and behaves
  at shares of 0 and 1 where the textbook (Wald) interval does not;
* the p-value of no association: Fisher's exact test (two-sided) when an expected count of the
  2x2 table is under 5, else Pearson's chi-square (1 degree of freedom, no continuity
  correction), which agrees with Fisher's at such counts and is far quicker at 100,000 images;
* ``significant``: the Benjamini-Hochberg adjusted p-value (``q_value``, over every tested
  cell of every label and field together) is at most ``FDR`` = 0.05, so about 5% of the cells
  flagged are expected to be chance, whatever the number of cells; the interval excludes 0; and
  the shares differ by at least ``MIN_DIFFERENCE`` (2 percentage points).

A cell is tested only when at least ``MIN_CELL`` images have the value and as many do not.
With fewer than ``MIN_LABELLED`` labelled images, or without a label and a rest of at least
``MIN_CELL`` images each, the shares are listed but nothing is called significant.

Which labels are tested: with two labels, one of them against the other (the keeper: the
rating's ``keeper``, or a label named like one, ``keep`` or ``favorites``; else the more
frequent label); with more, each label against all the others. The model predicts that same
first label against the rest.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .label_fields import FieldBlock, field_blocks
from .label_model import Importance, LabelModel, label_model
from .label_sources import KEEPER, LabelSpec, read_labels
from .prompt_stream import first_pass, iter_cleaned
from .prompts import TagMatrix
from .selection import Filters

logger = logging.getLogger(__name__)

FDR = 0.05
# the least difference of shares called a finding: at 100,000 images a 1-point difference can pass
# the FDR by chance or by a slight confound, and says nothing a user can act on
MIN_DIFFERENCE = 0.02
MIN_CELL = 10
MIN_LABELLED = 50
Z95 = 1.959963984540054
MIN_EXPECTED = 5  # below this expected count Fisher's exact test is used
# label names read as "the images I keep" when a source has two labels
KEEPER_NAMES = frozenset({"keep", "keeps", "kept", "keeper", "keepers", "favorite", "favorites", "favourite",
                          "favourites", "fav", "favs", "best", "good", "selected", "picks", "picked", "liked"})
# how a finding names its images, per field ('images with sampler Euler a' otherwise)
SUBJECTS = {
    "Prompt tag": "images whose prompt has the tag '{value}'",
    "CFG scale": "images with a CFG scale in {value}",
    "Steps": "images with steps in {value}",
    "Size": "images of size {value}",
    "Generator": "images made with {value}",
    "LoRA": "images with the LoRA {value}",
}


@dataclass(frozen=True)
class Finding:
    """One (label, field, value) cell: how often the images with the value carry the label."""

    label: str
    field: str
    value: str
    images: int  # images with the value (in the field's base)
    rate: float  # share of them that carry the label
    rate_without: float  # share of the base's other images that carry it
    ci95: tuple[float, float]  # 95% interval of rate - rate_without (Newcombe's hybrid score)
    significant: bool  # q_value <= FDR, the interval excludes 0, |difference| >= 2 points, enough labelled images
    images_without: int
    labelled: int  # images with the value and the label
    labelled_without: int
    difference: float  # rate - rate_without
    ratio: Optional[float]  # rate / rate_without; None when no other image carries the label
    p_value: float
    q_value: float  # Benjamini-Hochberg adjusted over every tested cell
    test: str  # 'Fisher' or 'chi-square'
    text: str  # the finding in plain words


@dataclass(frozen=True)
class LabelCount:
    label: str
    images: int


@dataclass(frozen=True)
class LabelAnalysis:
    """Everything ``label_analysis.txt`` says: the labels, every tested cell, the model."""

    findings: tuple[Finding, ...]
    model: LabelModel
    source: str  # the --label-by spec
    images: int  # selected images
    labelled: int
    labels: tuple[LabelCount, ...]  # most frequent first
    tested: tuple[str, ...]  # the labels tested against the rest, first the one the model predicts
    left_out: tuple[tuple[str, int], ...] = ()  # selected images without a label, by reason
    notes: tuple[str, ...] = ()
    ratings: tuple[tuple[str, int], ...] = ()  # rating: images per rating
    cells_tested: int = 0
    cells_too_few: int = 0  # cells not tested: fewer than MIN_CELL images with the value or without it
    small_sample: bool = False
    fdr: float = FDR
    min_cell: int = MIN_CELL
    min_labelled: int = MIN_LABELLED
    min_difference: float = MIN_DIFFERENCE

    @property
    def significant(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.significant)


def label_analysis(con: sqlite3.Connection, frame: pd.DataFrame, resources: pd.DataFrame, spec: LabelSpec,
                   filters: Filters = Filters(), dedupe: bool = True, tags: Optional[TagMatrix] = None) -> LabelAnalysis:
    """The label analysis of the selected images (``frame``, ``resources``: the selection's;
    ``tags``: their prompt tags, from the prompt statistics, else read here)."""
    started = time.perf_counter()
    found = read_labels(con, frame["id"], spec, filters.folders)
    sub = frame[frame["id"].isin(found.labels.index)].reset_index(drop=True)
    labels = found.labels.reindex(sub["id"].to_numpy()).to_numpy()
    counts = pd.Series(labels, dtype=object).value_counts()
    ranked = tuple(LabelCount(str(k), int(n)) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))
    tested, notes = _tested_labels(ranked, len(sub), spec)
    small = len(sub) < MIN_LABELLED or not tested
    common = dict(source=spec.describe(), images=len(frame), labelled=len(sub), labels=ranked, left_out=found.left_out,
                  ratings=found.ratings, small_sample=small)
    if len(ranked) < 2:
        return LabelAnalysis((), LabelModel(None, note="no model: there is nothing to tell apart"), tested=(),
                             notes=found.notes + tuple(notes), **common)
    if tags is None:
        counted = first_pass(iter_cleaned(con, "prompt", filters, dedupe))
        try:
            tags = counted.tag_matrix()
        finally:
            counted.spill.close()
    blocks = field_blocks(sub, resources, tags, MIN_CELL)
    findings, cells_too_few = _findings(blocks, labels, tested or (ranked[0].label,), spec, small)
    model = (label_model(blocks, labels == tested[0], tested[0]) if tested and not small
             else LabelModel(None, label=(tested or ("",))[0],
                             note=f"no model: fewer than {MIN_LABELLED} labelled images" if len(sub) < MIN_LABELLED
                             else "no model: too few images of a label"))
    logger.info("label analysis: %d labelled images, %d cells tested, %.2f s", len(sub), len(findings),
                time.perf_counter() - started)
    return LabelAnalysis(findings, model, tested=tested, notes=found.notes + tuple(notes),
                         cells_tested=len(findings), cells_too_few=cells_too_few, **common)


def _tested_labels(ranked: Sequence[LabelCount], labelled: int, spec: LabelSpec) -> tuple[tuple[str, ...], list[str]]:
    """The labels tested against the rest (the first is the one the model predicts) and notes."""
    notes = []
    if len(ranked) < 2:
        only = f" (all are {ranked[0].label!r})" if ranked else ""
        notes.append(f"the labelled images carry fewer than two labels{only}: there is nothing to compare")
        return (), notes
    if len(ranked) == 2:
        names = [c.label for c in ranked]
        first = (KEEPER if spec.source == "rating" and KEEPER in names
                 else next((n for n in names if n.casefold() in KEEPER_NAMES), names[0]))
        candidates = [next(c for c in ranked if c.label == first)]
    else:
        candidates = list(ranked)
        keeper = next((c for c in ranked if c.label.casefold() in KEEPER_NAMES), None)
        if keeper is not None:
            candidates.remove(keeper)
            candidates.insert(0, keeper)
    tested = tuple(c.label for c in candidates if c.images >= MIN_CELL and labelled - c.images >= MIN_CELL)
    few = [c.label for c in candidates if c.label not in tested]
    if few:
        notes.append(f"not tested, fewer than {MIN_CELL} images carry the label or not: {', '.join(few)}")
    return tested, notes


def wilson(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion k/n (n > 0)."""
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) of k1/n1 - k2/n2."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def association_p(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Two-sided p-values of the 2x2 tables [[a, b], [c, d]] and the test used for each."""
    from scipy.stats import chi2, fisher_exact

    a, b, c, d = (np.asarray(x, dtype=float) for x in (a, b, c, d))
    n = a + b + c + d
    rows, cols = (a + b, c + d), (a + c, b + d)
    expected = np.minimum.reduce([r * k / n for r in rows for k in cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = n * (a * d - b * c) ** 2 / (rows[0] * rows[1] * cols[0] * cols[1])
    p = chi2.sf(np.nan_to_num(statistic, nan=0.0), 1)
    tests = ["chi-square"] * len(a)
    for i in np.flatnonzero(expected < MIN_EXPECTED):
        p[i] = fisher_exact([[a[i], b[i]], [c[i], d[i]]]).pvalue
        tests[i] = "Fisher"
    return np.clip(p, 0.0, 1.0), tests


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of ``p``."""
    m = len(p)
    if not m:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


@dataclass
class _Cells:
    """The tested cells, column by column, before they become Findings."""

    label: list
    field: list
    value: list
    columns: dict  # name -> list of numbers

    def add(self, label: str, block: FieldBlock, keep: np.ndarray, **numbers: np.ndarray) -> None:
        self.label += [label] * int(keep.sum())
        self.field += [block.name] * int(keep.sum())
        self.value += [block.values[j] for j in np.flatnonzero(keep)]
        for name, values in numbers.items():
            self.columns.setdefault(name, []).extend(values[keep].tolist())


def _findings(blocks: Sequence[FieldBlock], labels: np.ndarray, tested: Sequence[str], spec: LabelSpec,
              small: bool) -> tuple[tuple[Finding, ...], int]:
    cells = _Cells([], [], [], {})
    too_few = 0
    for label in tested:
        y = labels == label
        for block in blocks:
            too_few += block.rare
            if not block.values:
                continue
            in_base = int(block.base.sum())
            labelled_base = int((block.base & y).sum())
            images = block.counts
            labelled = np.asarray(block.matrix.T @ y.astype(np.int64)).ravel()
            without = in_base - images
            testable = (images >= MIN_CELL) & (without >= MIN_CELL) & (0 < labelled_base < in_base)
            too_few += int((~testable).sum())
            cells.add(label, block, testable, images=images, labelled=labelled, without=without,
                      labelled_without=labelled_base - labelled)
    if not cells.label:
        return (), too_few
    n1, k1 = (np.asarray(cells.columns[k], dtype=float) for k in ("images", "labelled"))
    n2, k2 = (np.asarray(cells.columns[k], dtype=float) for k in ("without", "labelled_without"))
    low, high = newcombe(k1, n1, k2, n2)
    p, tests = association_p(k1, n1 - k1, k2, n2 - k2)
    q = benjamini_hochberg(p)
    significant = (q <= FDR) & ((low > 0) | (high < 0)) & (np.abs(k1 / n1 - k2 / n2) >= MIN_DIFFERENCE) & (not small)
    found = []
    for i in range(len(p)):
        rate, rate_without = float(k1[i] / n1[i]), float(k2[i] / n2[i])
        finding = Finding(cells.label[i], cells.field[i], cells.value[i], int(n1[i]), rate, rate_without,
                          (float(low[i]), float(high[i])), bool(significant[i]), int(n2[i]), int(k1[i]), int(k2[i]),
                          rate - rate_without, rate / rate_without if rate_without else None, float(p[i]),
                          float(q[i]), tests[i], "")
        found.append(_with_text(finding, spec, small))
    order = {label: i for i, label in enumerate(tested)}
    field_order = {b.name: i for i, b in enumerate(blocks)}
    found.sort(key=lambda f: (order[f.label], not f.significant, f.p_value, -abs(f.difference),
                              field_order[f.field], f.value))
    return tuple(found), too_few


def percent(share: float) -> str:
    """41%, 0.4%, 0%: whole percents, one decimal under 10%."""
    value = 100 * share
    return f"{value:.0f}%" if value >= 9.95 or value == 0 else f"{value:.1f}%"


def label_phrase(label: str, spec: LabelSpec) -> str:
    """How the words say that an image carries ``label``: 'in keep/', 'rated 4 stars or more'."""
    if spec.source == "folder":
        return f"in {label}/"
    if spec.source == "rating":
        return f"rated {spec.threshold} stars or more" if label == KEEPER else f"rated under {spec.threshold} stars"
    return f"labelled {label!r}"


def _with_text(f: Finding, spec: LabelSpec, small: bool) -> Finding:
    subject = SUBJECTS.get(f.field, "images with " + f.field.lower() + " {value}").format(value=f.value)
    carry = label_phrase(f.label, spec)
    shares = f"{percent(f.rate)} of {f.images:,} vs {percent(f.rate_without)} of {f.images_without:,}"
    if f.ratio is None:
        text = f"{subject} are {carry} and no other image is: {shares}"
    elif f.ratio >= 1:
        text = f"{subject} are {carry} {f.ratio:.1f}× as often: {shares}"
    else:
        text = f"{subject} are {carry} only {f.ratio:.2f}× as often: {shares}"
    if small:
        text += " (too few labelled images to tell whether this is more than chance)"
    elif not f.significant:
        text += " (could be chance: not significant)"
    return Finding(**{**f.__dict__, "text": text[0].upper() + text[1:]})


__all__ = ["FDR", "MIN_DIFFERENCE", "MIN_CELL", "MIN_LABELLED", "Finding", "Importance", "LabelAnalysis", "LabelCount", "LabelModel",
           "label_analysis", "label_phrase", "percent"]
