"""Charts of the insight reports: themes, model cards, labels and keepers."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure

from ..analysis import (LabelAnalysis)
from ..analysis.counts import format_number
from ..analysis.labels import percent
from ..analysis.model_cards import ModelCard
from ..analysis.topics import ThemeContext, Topics
from .figures import (BAR_COLOR, QUARTILE_COLOR, _bar_height, _barh,
                      _empty, _figure, _month_ticks, _short, _text_inches)


def topics_chart(topics: Topics, context: Sequence[ThemeContext]) -> Figure:
    """Each theme's images per month: which themes grow and fade."""
    fig = _figure(12, 5)
    months = sorted({m for c in context for m, _ in c.months})
    if not topics.themes or not months:
        _empty(fig, "No themes" if not topics.themes else "No dated images")
        fig.suptitle("Themes of the prompts by month")
        return fig
    ax = fig.subplots()
    x = list(range(len(months)))
    words = {t.number: ", ".join(t.words[:4]) for t in topics.themes}
    for c in context:
        per_month = dict(c.months)
        ax.plot(x, [per_month.get(m, 0) for m in months], marker="o", markersize=3,
                label=_short(f"{c.number}: {words.get(c.number, '')}", 50))
    ax.set_ylabel("Images")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    _month_ticks(ax, months)
    fig.suptitle("Themes of the prompts by month (created_at)", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig



CARD_MODELS = 12  # models in the model cards chart
ROUGH_COLOR = "#a9bcd6"


def model_cards_chart(cards: Sequence[ModelCard]) -> Figure:
    """The most used models' CFG scale and steps: the interquartile range as a bar, the median
    as a dot; light when the quartiles rest on few images (``model_cards.txt`` has the numbers)."""
    cards = list(cards[:CARD_MODELS])
    fig = _figure(12, max(3.0, 0.42 * len(cards) + 1.6))
    if not cards:
        _empty(fig, "No image names a model")
        fig.suptitle("Usual settings per model")
        return fig
    axes = fig.subplots(1, 2, sharey=True)
    labels = [f"{_short(c.model, 40)} ({c.images:,})" for c in cards]
    for ax, (prefix, name) in zip(axes, (("cfg", "CFG scale"), ("steps", "Steps"))):
        for y, card in enumerate(cards):
            median = getattr(card, f"{prefix}_median")
            if median is None:
                continue
            color = ROUGH_COLOR if prefix in card.small_sample else BAR_COLOR
            low, high = getattr(card, f"{prefix}_q1"), getattr(card, f"{prefix}_q3")
            ax.plot([low, high], [y, y], color=color, linewidth=7, solid_capstyle="butt")
            ax.plot([median], [y], "o", color=QUARTILE_COLOR, markersize=5)
            ax.text(high, y, f"  {format_number(round(median, 2))}", va="center", fontsize=8)
        ax.set_title(f"{name}: median (dot) and Q1–Q3 (bar)", fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.15)
    axes[0].set_yticks(range(len(cards)), labels, fontsize=9)
    axes[0].invert_yaxis()
    fig.suptitle("Usual settings of the most used models (light: fewer than 10 images)", fontsize=12)
    width, height = fig.get_size_inches()
    label_width = max(_text_inches(label, 9) for label in labels)
    fig.subplots_adjust(left=min(0.45, (label_width + 0.3) / width), right=0.98, top=1 - 0.75 / height,
                        bottom=0.35 / height, wspace=0.08)
    return fig


SIGNIFICANT_COLOR = "#2e7d4f"
LABEL_FINDINGS = 15


def label_chart(la: LabelAnalysis, top_n: int = LABEL_FINDINGS) -> Figure:
    """Left: the strongest findings (significant first) as the difference of the shares with
    its 95% interval; right: the model's fields by permutation importance."""
    shown = sorted(la.findings, key=lambda f: (not f.significant, f.p_value))[:top_n]
    fig = _figure(14, _bar_height(max(len(shown), len(la.model.importances), 4)))
    if not shown:
        _empty(fig, "No label, field and value with enough images to compare")
        fig.suptitle(f"Labels ({la.source})")
        return fig
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
    y = list(range(len(shown)))
    for yi, f in zip(y, shown):
        color = SIGNIFICANT_COLOR if f.significant else "#8a949e"
        low, high = (100 * v for v in f.ci95)
        left.plot([low, high], [yi, yi], color=color, linewidth=2)
        left.plot([100 * f.difference], [yi], "o", color=color)
        left.text(high, yi, f"  {percent(f.rate)} vs {percent(f.rate_without)}", va="center", fontsize=7)
    left.axvline(0, color="#67727e", linewidth=0.8)
    names = [f"{f.field}: {f.value}" + (f" ({f.label})" if len(la.tested) > 1 else "") for f in shown]
    left.set_yticks(y, [_short(n, 40) for n in names], fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("share with the label minus share of the others (percentage points), 95% interval", fontsize=8)
    left.set_title("Strongest findings (green: significant)", fontsize=11)
    left.spines[["top", "right"]].set_visible(False)
    model = la.model
    if model.importances:
        _barh(right, [i.field for i in model.importances], [max(i.importance, 0.0) for i in model.importances],
              fmt="{:.3f}")
        right.set_xlabel("drop of held-out ROC-AUC when the field is shuffled", fontsize=8)
        right.set_title(f"Model: ROC-AUC {model.auc:.2f} (chance 0.5)", fontsize=11)
    else:
        right.text(0.5, 0.5, model.note or "no model", ha="center", va="center", color="#67727e", wrap=True)
        right.set_axis_off()
    fig.suptitle(f"What the images of {', '.join(repr(t) for t in la.tested[:3]) or 'a label'} have in common "
                 f"({la.labelled:,} labelled images, --label-by {_short(la.source, 40)})", fontsize=12)
    fig.tight_layout()
    return fig


