"""``label_analysis.txt``: what the images of a label have in common, in plain words first,
then every tested cell as a table, then the model. The summary sentences are shared with the
HTML report."""
from __future__ import annotations

import logging
from typing import Sequence

from ..analysis import Finding, LabelAnalysis, LabelModel
from ..analysis.labels import percent
from ..texttable import table_lines

logger = logging.getLogger(__name__)

LABEL_REPORT = "label_analysis.txt"
PLAIN_WORDS_PER_LABEL = 15  # significant findings spelled out per label; the table has all


def _pairs(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in items)


def interval(f: Finding) -> str:
    """'+28 pp [+19, +37]': the difference of the shares and its 95% interval, in percentage points."""
    low, high = f.ci95
    return f"{_points(f.difference)} pp [{_points(low)}, {_points(high)}]"


def _points(share: float) -> str:
    return f"{100 * share + 0.0:+.1f}".replace("-0.0", "+0.0")


def p_text(value: float) -> str:
    return "<0.0001" if value < 1e-4 else f"{value:.4f}" if value < 0.01 else f"{value:.3f}"


def label_summary(la: LabelAnalysis) -> list[str]:
    """Which images were labelled, with which labels, and which labels were tested."""
    lines = [f"Labels from --label-by {la.source}: {la.labelled:,} of {la.images:,} selected images carry one."]
    if la.left_out:
        lines.append("Without a label (left out): " + "; ".join(f"{n:,} {why}" for why, n in la.left_out) + ".")
    if la.ratings:
        lines.append(f"Ratings read: {_pairs(la.ratings)}.")
    if la.labels:
        lines.append(f"Labels: {_pairs([(c.label, c.images) for c in la.labels])}.")
    if len(la.tested) == 1 and len(la.labels) == 2:
        other = next(c.label for c in la.labels if c.label != la.tested[0])
        lines.append(f"Tested: {la.tested[0]!r} against {other!r}.")
    elif la.tested:
        lines.append(f"Tested: each of {', '.join(repr(t) for t in la.tested)} against all other labelled images.")
    lines += [note[0].upper() + note[1:] + "." for note in la.notes]
    return lines


def small_sample_warning(la: LabelAnalysis) -> str:
    if not la.small_sample:
        return ""
    return (f"Too few labelled images to say much: {la.labelled:,} (at least {la.min_labelled} are needed, and at "
            f"least {la.min_cell} images of a label and {la.min_cell} others). The shares below are what these "
            "images show; no effect is claimed.")


def model_summary(model: LabelModel) -> list[str]:
    """The model in sentences: what it predicts, its cross-validated ROC-AUC against chance."""
    if model.auc is None:
        return [model.note[0].upper() + model.note[1:] + "." if model.note else "No model."]
    lines = [f"Model: {model.method}.",
             f"It predicts {model.label!r} against the rest from {model.features:,} value columns of "
             f"{model.images:,} images" + (f" ({model.note})." if model.note else ".")]
    if model.auc >= 0.8:
        verdict = "tell its images from the others well"
    elif model.auc >= 0.7:
        verdict = "tell its images from the others fairly well"
    elif model.auc >= 0.6:
        verdict = "tell its images from the others somewhat"
    else:
        verdict = "hardly tell its images from the others"
    times = f" (mean of {model.shuffles} shuffles)" if model.shuffles > 1 else ""
    shuffled = (f"; with the labels shuffled it scores {model.shuffled_auc:.2f}{times}"
                if model.shuffled_auc is not None else "")
    lines.append(f"Cross-validated ROC-AUC {model.auc:.2f} ± {model.auc_std:.2f} over {model.folds} folds, against "
                 f"{model.chance:.1f} for chance{shuffled}: the fields together {verdict}.")
    return lines


def method_note(la: LabelAnalysis) -> str:
    return (f"Shares are taken among the images that could have the field (those with a value; for LoRAs those "
            f"with generation data, for prompt tags those with a prompt). Difference: rate - rate_without in "
            f"percentage points, with its 95% interval (Newcombe's hybrid score interval). p: Fisher's exact test "
            f"where an expected count is under 5, else Pearson's chi-square. q: Benjamini-Hochberg over all "
            f"{la.cells_tested:,} tested cells; significant (*) when q <= {la.fdr:g}, the interval excludes 0 and the "
            f"difference is at least {la.min_difference * 100:g} points, so about {la.fdr:.0%} of the flagged cells may be chance. Cells with fewer than {la.min_cell} images "
            f"with the value, or without it, are not tested ({la.cells_too_few:,} such cells).")


def finding_rows(findings: Sequence[Finding]) -> list[list[str]]:
    return [[f.label, f.field, f.value, f"{f.images:,}", percent(f.rate), f"{f.images_without:,}",
             percent(f.rate_without), interval(f), p_text(f.q_value), "*" if f.significant else ""] for f in findings]


FINDING_HEADERS = ("label", "field", "value", "images", "rate", "others", "rate_without", "difference [95%]", "q",
                   "sig")


def plain_words(la: LabelAnalysis) -> list[str]:
    """The significant findings as sentences, per label the strongest first."""
    if la.small_sample:
        return []
    lines = []
    for label in la.tested:
        found = [f for f in la.significant if f.label == label]
        lines += [f"- {f.text}" for f in found[:PLAIN_WORDS_PER_LABEL]]
        if len(found) > PLAIN_WORDS_PER_LABEL:
            lines.append(f"  … and {len(found) - PLAIN_WORDS_PER_LABEL} more for {label!r} in the table below")
    if not lines:
        lines.append(f"No value of any field goes with a label more often than chance explains "
                     f"({la.cells_tested:,} cells tested).")
    return lines


def format_label_analysis(la: LabelAnalysis) -> str:
    lines = ["What the images of each label have in common", ""] + label_summary(la)
    warning = small_sample_warning(la)
    if warning:
        lines += ["", warning]
    words = plain_words(la)
    if words:
        lines += ["", "In plain words:"] + words
    lines += ["", "Findings (every tested label, field and value; the shares are of images with the label):"]
    if la.findings:
        lines += table_lines(FINDING_HEADERS, finding_rows(la.findings), numeric=(3, 4, 5, 6, 8),
                             max_widths={2: 48})
    else:
        lines.append("(none tested)")
    lines += ["", method_note(la), "", "Model of all fields together:"] + model_summary(la.model)
    if la.model.importances:
        lines += ["", "Fields by permutation importance (how much the held-out ROC-AUC drops when the field's "
                      "values are shuffled between images; 0 or less: the model does not need it):"]
        lines += table_lines(("field", "importance", "±"),
                             [(i.field, f"{i.importance:.4f}", f"{i.std:.4f}") for i in la.model.importances],
                             numeric=(1, 2))
    return "\n".join(lines) + "\n"
