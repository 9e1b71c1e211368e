"""Co-use: which LoRAs go with which models, which LoRAs with each other, which prompt tags
with each other (``co_usage.txt``, ``report.json`` -> ``co_use``), ranked by lift, not by raw
frequency, so that two things used together far more often than chance stand out even when
neither is common, and "always used together" is visible.

For a pair (A, B) among ``n`` images: ``both`` images have A and B, ``a_images`` have A,
``b_images`` B; lift = P(A and B) / (P(A) P(B)) = both * n / (a_images * b_images) (1: as often
as chance; 3: three times as often); confidence A -> B = both / a_images (100%: A is never
used without B).

Which images ``n`` counts: those that have at least one item of each side (LoRA x model: the
images with a LoRA and a model; LoRA x LoRA: the images with a LoRA; tag x tag: the images
with a prompt tag). Otherwise images that cannot hold either side (photos, images without
LoRAs) would raise every lift alike: two LoRAs picked independently by the one user in ten
who uses LoRAs would have a lift of about 10 over all images.

The support rule: only items in at least ``MIN_ITEM_IMAGES`` images and pairs in at least
``MIN_PAIR_IMAGES`` are ranked, so a pair of two one-off items (lift n) does not top the list.

Ranking by ``lift_low``, a lower bound of the lift: with A the rarer item of the pair (its
share is the uncertain part; the commoner one's share rests on more images and is taken as
known), lift = confidence(A -> B) / P(B), and ``lift_low`` is the one-sided Wilson lower bound
of confidence(A -> B) divided by P(B). Its level is 95% for all the candidate pairs of a kind
together (Bonferroni: the bound of each pair is at 1 - 0.05 / candidates, where candidates
are all the pairs of items that meet the item support), so of a kind's pairs that are used
together only by chance, 95 runs in 100 show none that ``stands_out`` (``lift_low`` > 1). A
pair seen in few images gets a low bound: few observations shrink the lift towards nothing.

Prompt tags are the comma-separated tags of the cleaned prompts (``prompts.prompt_tags``),
only the ``TOP_TAGS`` most used, so memory stays bounded; the tag pairs are counted in the
prompt job (``TagPairs``: in the helper process, whose result must pickle and stays
small: a square of counts).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from statistics import NormalDist
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .counts import Counts
from .resources import LORA_KINDS

logger = logging.getLogger(__name__)

MIN_ITEM_IMAGES = 5
MIN_PAIR_IMAGES = 3
LEVEL = 0.95  # family-wise, per kind of pair
TOP_TAGS = 150  # the most used prompt tags whose pairs are counted
MAX_PAIRS = 100  # ranked pairs kept per kind
MAX_ALWAYS = 50  # "always together" pairs kept per kind


@dataclass(frozen=True)
class Cooccurrence:
    """How many of ``images`` images hold each item, and each pair of items (one of side A,
    one of side B; a single side when ``same``, pairs then with i < j)."""

    images: int
    names_a: tuple[str, ...]
    counts_a: tuple[int, ...]
    names_b: tuple[str, ...]
    counts_b: tuple[int, ...]
    pairs: tuple[tuple[int, int, int], ...]  # (index in A, index in B, images with both)
    same: bool


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    both: int
    a_images: int
    b_images: int
    lift: float
    lift_low: float  # lower bound of the lift (see the module)
    confidence_ab: float  # of the images with A, the share that has B
    confidence_ba: float
    stands_out: bool  # lift_low > 1: together more often than chance, at the family-wise level

    @property
    def always(self) -> bool:
        """One of the two is never used without the other."""
        return self.both == self.a_images or self.both == self.b_images


@dataclass(frozen=True)
class PairTable:
    """The ranked pairs of one kind (LoRA x model, LoRA x LoRA, tag x tag)."""

    kind: str
    a_name: str
    b_name: str
    images: int  # n: the images with at least one item of each side
    items_a: int  # items meeting the support rule
    items_b: int
    candidates: int  # pairs of such items: the family of the bound
    supported: int  # pairs meeting the support rule
    standing_out: int  # of those, pairs with lift_low > 1
    pairs: tuple[Pair, ...] = ()  # supported pairs by lift_low, at most MAX_PAIRS
    always: tuple[Pair, ...] = ()  # supported pairs with a confidence of 100%, by images together


@dataclass(frozen=True)
class CoUse:
    min_item_images: int
    min_pair_images: int
    level: float
    lora_model: PairTable
    lora_lora: PairTable
    tags: PairTable


def wilson_lower(successes: np.ndarray, trials: np.ndarray, z: float) -> np.ndarray:
    """The Wilson score interval's lower end for successes / trials at ``z`` standard deviations."""
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return np.maximum(0.0, (centre - spread) / (1 + z2 / trials))


def bonferroni_z(candidates: int, level: float = LEVEL) -> float:
    """The one-sided z of a bound at ``level`` for ``candidates`` bounds together."""
    return NormalDist().inv_cdf(1 - (1 - level) / max(1, candidates))


def _incidence(rows: np.ndarray, items: pd.Series, n_rows: int):
    """Rows x items 0/1 matrix (sparse) and the item names, from (row, item) pairs."""
    from scipy.sparse import csr_matrix  # scikit-learn's own dependency

    codes, names = pd.factorize(items, sort=False)
    matrix = csr_matrix((np.ones(len(codes), dtype=np.int32), (rows, codes)), shape=(n_rows, len(names)))
    matrix.data[:] = 1  # duplicates were summed
    return matrix, tuple(str(n) for n in names)


def _cooccurrence(a, names_a, b, names_b, same: bool) -> Cooccurrence:
    """Counts of the items and pairs of two incidence matrices over the same rows."""
    both = (a.T @ b).tocoo()
    keep = both.row < both.col if same else np.ones(len(both.data), dtype=bool)
    pairs = tuple(zip(both.row[keep].tolist(), both.col[keep].tolist(), both.data[keep].tolist()))
    return Cooccurrence(a.shape[0], names_a, tuple(np.asarray(a.sum(axis=0)).ravel().tolist()), names_b,
                        tuple(np.asarray(b.sum(axis=0)).ravel().tolist()), pairs, same)


def _lora_rows(frame: pd.DataFrame, resources: pd.DataFrame) -> pd.DataFrame:
    if resources.empty:
        return pd.DataFrame({"image_id": [], "name": []})
    loras = resources[resources["kind"].isin(LORA_KINDS)]
    return loras[loras["image_id"].isin(frame["id"])][["image_id", "name"]].drop_duplicates()


def lora_cooccurrence(frame: pd.DataFrame, resources: pd.DataFrame) -> tuple[Cooccurrence, Cooccurrence]:
    """LoRA x model (over the images with a LoRA and a model) and LoRA x LoRA (over the images
    with a LoRA)."""
    loras = _lora_rows(frame, resources)
    image_codes, images = pd.factorize(loras["image_id"], sort=True)
    matrix, names = _incidence(image_codes, loras["name"], len(images))
    lora_lora = _cooccurrence(matrix, names, matrix, names, same=True)
    models = frame.set_index("id")["model"].reindex(images)
    with_model = np.flatnonzero(models.notna().to_numpy())
    rows = np.arange(len(with_model))
    model_matrix, model_names = _incidence(rows, models.iloc[with_model].reset_index(drop=True), len(with_model))
    lora_model = _cooccurrence(matrix[with_model], names, model_matrix, model_names, same=False)
    return lora_model, lora_lora


class TagPairs:
    """Pairs of the ``top`` most used prompt tags among the images with at least one prompt tag,
    counted chunk by chunk (``add``). ``names``: every tag column of the run's tag vocabulary,
    ``real``: which of them are tags (``prompts.is_tag``), ``tags``: the images of each tag,
    counted over the same prompts beforehand."""

    def __init__(self, names: np.ndarray, real: np.ndarray, tags: Counts, top: int = TOP_TAGS) -> None:
        self.kept = tuple(tag for tag, n in tags.items[:top] if n >= MIN_ITEM_IMAGES)
        self.counts = tuple(n for _, n in tags.items[:len(self.kept)])
        position = {tag: i for i, tag in enumerate(self.kept)}
        self.slot = np.array([position.get(t, -1) for t in names.tolist()], dtype=np.int64)  # tag column -> kept
        self.ok = real
        self.both = np.zeros((len(self.kept), len(self.kept)), dtype=np.int64)
        self.tagged = 0  # images with any prompt tag: the n of the lifts

    def add(self, tags) -> None:
        """One chunk's rows x tag-columns matrix (0/1)."""
        from scipy.sparse import csr_matrix

        if not tags.shape[0]:
            return
        width = tags.shape[1]
        self.tagged += int((tags @ self.ok[:width].astype(np.int64) > 0).sum())
        coo = tags.tocoo()
        slots = self.slot[:width][coo.col]
        mine = slots >= 0
        incidence = csr_matrix((np.ones(int(mine.sum()), dtype=np.int64), (coo.row[mine], slots[mine])),
                               shape=(tags.shape[0], len(self.kept)))
        self.both += (incidence.T @ incidence).toarray()

    def result(self) -> Cooccurrence:
        rows, cols = np.nonzero(np.triu(self.both, k=1))
        pairs = tuple(zip(rows.tolist(), cols.tolist(), self.both[rows, cols].tolist()))
        return Cooccurrence(self.tagged, self.kept, self.counts, self.kept, self.counts, pairs, True)


def rank_pairs(co: Optional[Cooccurrence], kind: str, a_name: str, b_name: str) -> PairTable:
    """The pairs of ``co`` that meet the support rule, ranked by ``lift_low`` (see the module)."""
    if co is None:
        return _table(None, kind, a_name, b_name, 0, ())
    ca, cb = np.array(co.counts_a, dtype=float), np.array(co.counts_b, dtype=float)
    ok_a, ok_b = ca >= MIN_ITEM_IMAGES, cb >= MIN_ITEM_IMAGES
    k_a, k_b = int(ok_a.sum()), int(ok_b.sum())
    candidates = k_a * (k_a - 1) // 2 if co.same else k_a * k_b
    if not co.pairs:
        return _table(co, kind, a_name, b_name, candidates, (), k_a, k_b)
    z = bonferroni_z(candidates)
    i, j, both = (np.array(col, dtype=np.int64) for col in zip(*co.pairs))
    keep = ok_a[i] & ok_b[j] & (both >= MIN_PAIR_IMAGES)
    i, j, both = i[keep], j[keep], both[keep].astype(float)
    n = float(co.images)
    n_a, n_b = ca[i], cb[j]
    lift = both * n / (n_a * n_b)
    rarer, commoner = np.minimum(n_a, n_b), np.maximum(n_a, n_b)
    low = wilson_lower(both, rarer, z) * n / commoner
    pairs = [Pair(co.names_a[i[k]], co.names_b[j[k]], int(both[k]), int(n_a[k]), int(n_b[k]), float(lift[k]),
                  float(low[k]), float(both[k] / n_a[k]), float(both[k] / n_b[k]), bool(low[k] > 1))
             for k in range(len(i))]
    if co.same:  # one side: name the pair with the rarer item first
        pairs = [p if p.a_images <= p.b_images else _swapped(p) for p in pairs]
    pairs.sort(key=lambda p: (-p.lift_low, -p.lift, -p.both, p.a.casefold(), p.b.casefold(), p.a, p.b))
    return _table(co, kind, a_name, b_name, candidates, pairs, k_a, k_b)


def _swapped(p: Pair) -> Pair:
    return Pair(p.b, p.a, p.both, p.b_images, p.a_images, p.lift, p.lift_low, p.confidence_ba, p.confidence_ab,
                p.stands_out)


def _table(co: Optional[Cooccurrence], kind: str, a_name: str, b_name: str, candidates: int,
           pairs: Sequence[Pair], k_a: int = 0, k_b: int = 0) -> PairTable:
    always = sorted((p for p in pairs if p.always),
                    key=lambda p: (-p.both, -p.lift_low, p.a.casefold(), p.b.casefold(), p.a, p.b))
    return PairTable(kind, a_name, b_name, co.images if co else 0, k_a, k_b, candidates, len(pairs),
                     sum(p.stands_out for p in pairs), tuple(pairs[:MAX_PAIRS]), tuple(always[:MAX_ALWAYS]))


def co_use(frame: pd.DataFrame, resources: pd.DataFrame, tags: Optional[Cooccurrence]) -> CoUse:
    """The three kinds of pairs; ``tags`` comes from the prompt job (``tag_cooccurrence``)."""
    lora_model, lora_lora = lora_cooccurrence(frame, resources)
    return CoUse(MIN_ITEM_IMAGES, MIN_PAIR_IMAGES, LEVEL,
                 rank_pairs(lora_model, "lora_model", "LoRA", "Model"),
                 rank_pairs(lora_lora, "lora_lora", "LoRA", "LoRA"),
                 rank_pairs(tags, "tags", "Tag", "Tag"))


__all__ = ["MIN_ITEM_IMAGES", "MIN_PAIR_IMAGES", "LEVEL", "TOP_TAGS", "Cooccurrence", "Pair", "PairTable", "CoUse",
           "wilson_lower", "bonferroni_z", "lora_cooccurrence", "TagPairs", "rank_pairs", "co_use"]
