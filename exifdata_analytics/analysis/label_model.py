"""One interpretable model of a label: which fields, together, tell a label's images apart.

Logistic regression (scikit-learn, L2, balanced class weights) on the fields' 0/1 indicator
columns (``label_fields``): each value adds to the log-odds of the label, so the model is the
cells' shares taken together, each adjusted for the others. Its quality is the ROC-AUC of
stratified k-fold cross-validation (each image scored by a model that never saw it): 0.5 is
chance, 1.0 a perfect ranking of the label's images above the others. As a baseline the same
cross-validation runs with the labels shuffled (five times up to 10,000 images, once above),
which gives what chance looks like on this data.

Fields are ranked by permutation importance (``sklearn.inspection.permutation_importance``) on
a held-out quarter: how much the held-out ROC-AUC drops when one field's values are shuffled
between images. A field is permuted as a whole, not one-hot column by column: the model takes
one column per field holding row numbers into that field's block, so permuting a column hands
every image another image's values of that field.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .label_fields import FieldBlock

logger = logging.getLogger(__name__)

FOLDS = 5
REPEATS = 5  # permutations per field
HOLDOUT = 0.25
MAX_IMAGES = 50_000  # above this the model is fitted on a stratified random sample of this size
MIN_CLASS = 10  # images of the label and of the rest a model needs
# label shuffles of the chance baseline: several where one would be noisy (a few hundred images
# give a shuffled ROC-AUC anywhere in 0.4..0.6), one where the spread is about 0.01
SHUFFLES_SMALL, SMALL = 5, 10_000
SEED = 0
METHOD = (f"logistic regression (L2, balanced class weights) on one 0/1 column per value; ROC-AUC of "
          f"stratified {FOLDS}-fold cross-validation; permutation importance: the drop of ROC-AUC on a held-out "
          f"{HOLDOUT:.0%} when one field is shuffled ({REPEATS} shuffles)")


@dataclass(frozen=True)
class Importance:
    """A field's permutation importance: the mean drop of held-out ROC-AUC when its values are
    shuffled between images (0: the model does not use it), and the spread over the shuffles."""

    field: str
    importance: float
    std: float = 0.0


@dataclass(frozen=True)
class LabelModel:
    """The model of one label against the rest; ``auc`` None when there was too little to fit."""

    auc: Optional[float]
    importances: tuple[Importance, ...] = ()
    label: str = ""
    auc_std: Optional[float] = None  # spread over the folds
    shuffled_auc: Optional[float] = None  # the same cross-validation with the labels shuffled (mean of shuffles)
    shuffles: int = 0
    chance: float = 0.5
    folds: int = 0
    images: int = 0  # images the model was fitted on
    sampled_from: int = 0  # labelled images before sampling (equal to images when all were used)
    features: int = 0  # one-hot columns
    method: str = METHOD
    note: str = ""  # why there is no model, or what limits it


def _estimator():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=1000)


class _FieldRows:
    """The fitted regression over the fields' blocks, taking as X one column per field of row
    numbers into that field's block (what lets ``permutation_importance`` shuffle fields)."""

    _estimator_type = "classifier"

    def __init__(self, blocks: Sequence):
        self.blocks = blocks
        self.model = _estimator()

    def design(self, rows: np.ndarray):
        from scipy.sparse import hstack

        return hstack([block[rows[:, j]] for j, block in enumerate(self.blocks)], format="csr")

    def fit(self, rows: np.ndarray, y: np.ndarray) -> "_FieldRows":
        self.model.fit(self.design(rows), y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self.design(rows))

    def decision_function(self, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(self.design(rows))

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict(self.design(rows))

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())


def _sample(y: np.ndarray) -> np.ndarray:
    """Row numbers of a stratified random sample of ``MAX_IMAGES`` (all rows when fewer)."""
    if len(y) <= MAX_IMAGES:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=MAX_IMAGES, stratify=y, random_state=SEED)
    return np.sort(keep)


def label_model(blocks: Sequence[FieldBlock], y: np.ndarray, label: str) -> LabelModel:
    """The model of ``y`` (True: the image carries ``label``) from the fields ``blocks``."""
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    used = [b for b in blocks if b.values and b.matrix.nnz]
    positives = int(y.sum())
    smaller = min(positives, len(y) - positives)
    if smaller < MIN_CLASS:
        return LabelModel(None, label=label, note=f"no model: fewer than {MIN_CLASS} images are {label!r} or "
                                                  "not (it needs both to learn from)")
    if not used:
        return LabelModel(None, label=label, note="no model: no field has a value with enough images")
    rows = _sample(y)
    y = y[rows]
    matrices = [b.matrix.tocsr()[rows] for b in used]
    fields = _FieldRows(matrices)
    every = np.repeat(np.arange(len(y))[:, None], len(used), axis=1)
    design = fields.design(every)
    folds = min(FOLDS, int(min(y.sum(), len(y) - y.sum())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    scores = cross_val_score(_estimator(), design, y, cv=cv, scoring="roc_auc")
    rng = np.random.default_rng(SEED)
    shuffles = SHUFFLES_SMALL if len(y) <= SMALL else 1
    shuffled = [np.mean(cross_val_score(_estimator(), design, rng.permutation(y), cv=cv, scoring="roc_auc"))
                for _ in range(shuffles)]
    train, test = train_test_split(np.arange(len(y)), test_size=HOLDOUT, stratify=y, random_state=SEED)
    fields.fit(every[train], y[train])
    result = permutation_importance(fields, every[test], y[test], scoring="roc_auc", n_repeats=REPEATS,
                                    random_state=SEED)
    ranked = sorted(zip(used, result.importances_mean, result.importances_std), key=lambda t: -t[1])
    importances = tuple(Importance(b.name, round(float(m), 6), round(float(s), 6)) for b, m, s in ranked)
    labelled = len(blocks[0].base)
    sampled = (f"fitted on a stratified random sample of {len(y):,} of the {labelled:,} labelled images"
               if len(y) < labelled else "")
    return LabelModel(float(np.mean(scores)), importances, label, float(np.std(scores)), float(np.mean(shuffled)),
                      shuffles=shuffles, folds=folds, images=len(y), sampled_from=labelled, features=design.shape[1],
                      note=sampled)
