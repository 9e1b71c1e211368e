"""parameter_statistic's charts: one builder per figure, one ``save_figure()``.

Figures are made with matplotlib's object API on the Agg canvas (no pyplot state, no GUI
backend, nothing left open between figures), so plotting works on servers and in threads.
Bar charts are horizontal: long model and sampler names stay readable instead of being
rotated and clipped. Every builder takes results from ``analysis`` and returns a Figure.
"""
from __future__ import annotations

import logging
import os
import pickle
import unicodedata
import warnings
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from .analysis import (WEEKDAYS, Analysis, CameraStats, Comparison, Counts, CrossTab, Habits,
                       KeywordResult, LabelAnalysis, LoraUsage, Trends)
from .analysis.labels import percent
from .analysis.counts import format_number
from .analysis.distributions import Distribution
from .analysis.model_cards import ModelCard
from .analysis.topics import ThemeContext, Topics
from .coverage import CoverageTable
from .errors import InputError
from .safe_files import atomic_write

logger = logging.getLogger(__name__)

TOP_N = 20
DPI = 100
BAR_COLOR = "#3b6ea5"
OTHER_COLOR = "#e08a3c"
LABEL_CHARS = 48


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _text_inches(text: str, fontsize: float) -> float:
    """Approximate rendered width: DejaVu Sans averages ~0.6 em per character, East Asian
    wide characters a full em. Laying out by estimate avoids tight_layout's extra draw
    (a third of each chart's cost)."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)
    return ems * fontsize / 72


def _margins(fig: Figure, labels: Sequence[str] = (), fontsize: float = 9, title: bool = True,
             xlabel: bool = True, right: float = 0.35) -> None:
    """Room for the y labels on the left, the title on top and the x label below."""
    width, height = fig.get_size_inches()
    label_width = max((_text_inches(_short(label), fontsize) for label in labels), default=0.3)
    left = min(0.6, (label_width + 0.25) / width)
    top = 1 - (0.5 if title else 0.2) / height
    bottom = (0.6 if xlabel else 0.35) / height
    fig.subplots_adjust(left=left, right=1 - right / width, top=top, bottom=bottom)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


# Every label is literal text: a tag, model or LoRA name such as '$_$' must not be read as
# mathtext (a ValueError ends the run) or TeX. Texts made while the figure is drawn (tick labels
# are created then) take these settings; the ones made before are switched in save_figure.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


def _literal_text(fig: Figure) -> None:
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        text.set_usetex(False)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save as PNG (whole or not at all, never through a symlink: ``safe_files.atomic_write``)
    and release the figure's memory. Every text is drawn as written."""
    try:
        _literal_text(fig)
        with atomic_write(path, "wb") as fh, matplotlib.rc_context(LITERAL_TEXT):
            fig.savefig(fh, format="png", dpi=DPI)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; pass another folder with --out DIR") from None
    finally:
        fig.clear()
    return path


def _empty(fig: Figure, message: str):
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#67727e", wrap=True)
    ax.set_axis_off()
    return ax


def _barh(ax, labels: Sequence[str], values: Sequence[float], fmt: str = "{:,}", color: str = BAR_COLOR,
          notes: Sequence[str] = ()) -> None:
    """Horizontal bars, largest on top, value (and note) written at the end of each bar."""
    y = list(range(len(labels)))
    ax.barh(y, values, color=color)
    ax.set_yticks(y, [_short(label) for label in labels], fontsize=9)
    ax.invert_yaxis()
    top = max(values) if len(values) else 0
    for i, (yi, v) in enumerate(zip(y, values)):
        note = f"  {notes[i]}" if i < len(notes) and notes[i] else ""
        ax.text(v + top * 0.01, yi, fmt.format(v) + note, va="center", fontsize=8)
    ax.set_xlim(0, top * (1.22 if notes else 1.12) if top else 1)
    ax.spines[["top", "right"]].set_visible(False)


def _bar_height(n: int) -> float:
    return max(3.0, 0.32 * n + 1.6)


def bar_chart(counts: Counts, title: str, xlabel: str = "Images", top_n: int = TOP_N) -> Figure:
    """One bar per value (the ``top_n`` most frequent)."""
    items = counts.top(top_n)
    fig = _figure(10, _bar_height(len(items)))
    if not items:
        _empty(fig, f"No {counts.name} values in the selected images")
        fig.suptitle(title)
        return fig
    ax = fig.add_subplot()
    _barh(ax, [k for k, _ in items], [v for _, v in items])
    shown = f"top {len(items)} of {len(counts.items):,} values" if len(counts.items) > len(items) \
        else f"{len(items):,} values"
    ax.set_title(f"{title} ({shown})", fontsize=12)
    ax.set_xlabel(xlabel)
    _margins(fig, [k for k, _ in items])
    return fig


def parameter_chart(counts: Counts) -> Figure:
    return bar_chart(counts, f"Frequency of {counts.name}")


def tfidf_chart(scores: Sequence[tuple[str, float]], top_n: int = TOP_N) -> Figure:
    items = list(scores[:top_n])
    fig = _figure(10, _bar_height(len(items)))
    if not items:
        _empty(fig, "No prompt words to score")
        fig.suptitle("Top TF-IDF Words")
        return fig
    ax = fig.add_subplot()
    _barh(ax, [t for t, _ in items], [s for _, s in items], fmt="{:,.1f}")
    ax.set_title("Top TF-IDF Words (summed over all prompts)", fontsize=12)
    ax.set_xlabel("TF-IDF Score")
    _margins(fig, [t for t, _ in items])
    return fig


def keyword_chart(keywords: Sequence[KeywordResult]) -> Figure:
    counts = Counts("keywords", tuple((k.keyword, k.count) for k in keywords))
    return bar_chart(counts, "Images per keyword", top_n=40)


def lora_chart(lora: LoraUsage, top_n: int = TOP_N) -> Figure:
    items = lora.loras[:top_n]
    fig = _figure(10, _bar_height(len(items)))
    if not items:
        _empty(fig, "No LoRAs in the selected images")
        fig.suptitle("LoRA usage")
        return fig
    ax = fig.add_subplot()
    labels = [s.name for s in items]
    _barh(ax, labels, [s.images for s in items],
          notes=[f"(weight {s.mean_weight:.2f})" if s.mean_weight is not None else "" for s in items])
    ax.set_title(f"LoRA usage: images and mean weight — {lora.images_with_lora:,} images use a LoRA", fontsize=12)
    ax.set_xlabel("Images")
    _margins(fig, labels)
    return fig


def heatmap(tab: CrossTab) -> Figure:
    rows, cols = tab.rows, tab.cols
    fig = _figure(max(7.0, 0.75 * len(cols) + 4.5), max(3.5, 0.45 * len(rows) + 2.4))
    title = f"{tab.row_name} × {tab.col_name} (images)"
    if not rows or not cols:
        _empty(fig, f"No images with both {tab.row_name} and {tab.col_name}")
        fig.suptitle(title)
        return fig
    ax = fig.add_subplot()
    image = ax.imshow(tab.grid, cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(range(len(cols)), [_short(c, 24) for c in cols], rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [_short(r, 36) for r in rows], fontsize=8)
    peak = max((max(r) for r in tab.grid), default=0)
    for i, r in enumerate(tab.grid):
        for j, v in enumerate(r):
            if v:
                ax.text(j, i, f"{v:,}", ha="center", va="center", fontsize=7,
                        color="white" if v > peak * 0.55 else "#1d2733")  # readable on dark cells
    ax.set_title(title + " — most used values", fontsize=12)
    ax.set_xlabel(tab.col_name)
    ax.set_ylabel(tab.row_name)
    width, height = fig.get_size_inches()
    row_labels = max(_text_inches(_short(r, 36), 8) for r in rows)
    col_labels = max(_text_inches(_short(c, 24), 8) for c in cols) * 0.65  # sin 40°
    fig.subplots_adjust(left=min(0.6, (row_labels + 0.7) / width), right=1 - 0.3 / width,
                        bottom=min(0.5, (col_labels + 0.6) / height), top=1 - 0.45 / height)
    fig.colorbar(image, ax=ax, shrink=0.8, fraction=0.05, pad=0.02)
    return fig


def _month_ticks(ax, months: Sequence[str]) -> None:
    step = max(1, len(months) // 18)
    ax.set_xticks(range(0, len(months), step), [months[i] for i in range(0, len(months), step)],
                  rotation=45, ha="right", fontsize=8)


def trends_chart(trends: Trends) -> Figure:
    fig = _figure(12, 10)
    if not trends.months:
        _empty(fig, "No dated images")
        fig.suptitle("Trends by month")
        return fig
    axes = fig.subplots(3, 1, sharex=True)
    x = list(range(len(trends.months)))
    axes[0].bar(x, trends.images, color=BAR_COLOR)
    axes[0].set_title("Images per month", fontsize=11)
    for ax, series, what in ((axes[1], trends.models, "models"), (axes[2], trends.samplers, "samplers")):
        for name, values in series:
            ax.plot(x, values, marker="o", markersize=3, label=_short(name, 40))
        ax.set_title(f"Most used {what} per month (images)", fontsize=11)
        if series:
            ax.legend(fontsize=8, loc="upper left", frameon=False)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    _month_ticks(axes[2], trends.months)
    fig.suptitle("Trends by month (created_at)", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


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


def habits_chart(habits: Habits) -> Figure:
    fig = _figure(12, 4.6)
    if not any(any(row) for row in habits.grid):
        _empty(fig, "No images with a time of day")
        fig.suptitle("Weekday and hour")
        return fig
    ax = fig.add_subplot()
    image = ax.imshow(habits.grid, cmap="Greens", aspect="auto", vmin=0)
    ax.set_yticks(range(7), [d[:3] for d in WEEKDAYS])
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_xlabel("Hour of day")
    ax.set_title("When images are made: weekday × hour", fontsize=12)
    fig.subplots_adjust(left=0.06, right=0.95, bottom=0.14, top=0.9)
    fig.colorbar(image, ax=ax, shrink=0.8, fraction=0.04, pad=0.02, label="images")
    return fig


def coverage_chart(coverage: CoverageTable) -> Figure:
    rows = coverage.rows
    fig = _figure(10, _bar_height(len(rows)))
    if not rows:
        _empty(fig, "No images")
        fig.suptitle("Parse coverage")
        return fig
    ax = fig.add_subplot()
    labels = [r.generator if r.generator != "(none)" else f"(none: {r.status})" for r in rows]
    y = list(range(len(rows)))
    left = [0] * len(rows)
    colors = ["#3b6ea5", "#e08a3c", "#5aa469", "#b5495b", "#8e6bbf", "#7a7a7a"]
    for k, fmt in enumerate(coverage.formats):
        values = [dict(r.by_format).get(fmt, 0) for r in rows]
        ax.barh(y, values, left=left, label=fmt, color=colors[k % len(colors)])
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(y, [_short(label) for label in labels], fontsize=9)
    ax.invert_yaxis()
    ax.legend(fontsize=8, frameon=False)
    ax.set_xlabel("Images")
    ax.set_title("Parse coverage: files per generator / status and format", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    _margins(fig, labels)
    return fig


def camera_chart(camera: CameraStats, top_n: int = 10) -> Figure:
    fig = _figure(14, 9)
    axes = fig.subplots(2, 3).ravel()
    for ax, counts in zip(axes, camera.fields):
        items = counts.top(top_n)
        if items:
            _barh(ax, [k for k, _ in items], [v for _, v in items])
        else:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", color="#67727e")
            ax.set_axis_off()
        ax.set_title(counts.name, fontsize=11)
    fig.suptitle(f"Camera photos ({camera.images:,} images)", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def comparison_chart(comparison: Comparison, top_n: int = 10) -> Figure:
    params = [p for p in comparison.parameters if p[1]]
    ncols = 2
    nrows = max(1, (len(params) + 1) // 2)
    fig = _figure(14, 3.8 * nrows)
    if not params:
        _empty(fig, "Nothing to compare")
        return fig
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, rows) in zip(axes, params):
        rows = rows[:top_n]
        y = list(range(len(rows)))
        share_a = [100 * a / comparison.images_a if comparison.images_a else 0 for _, a, _ in rows]
        share_b = [100 * b / comparison.images_b if comparison.images_b else 0 for _, _, b in rows]
        ax.barh([v - 0.2 for v in y], share_a, height=0.4, color=BAR_COLOR, label="A")
        ax.barh([v + 0.2 for v in y], share_b, height=0.4, color=OTHER_COLOR, label="B")
        ax.set_yticks(y, [_short(v, 32) for v, _, _ in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("% of the subset's images", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=8, frameon=False)
    for ax in axes[len(params):]:
        ax.set_axis_off()
    fig.suptitle(f"A = {_short(comparison.label_a, 60)} ({comparison.images_a:,})   vs   "
                 f"B = {_short(comparison.label_b, 60)} ({comparison.images_b:,})", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (3.8 * nrows)))
    return fig


QUARTILE_COLOR = "#b5495b"


def _spread_ticks(xs: Sequence[float], gap: float) -> list[float]:
    """Of the sorted ``xs``, those at least ``gap`` apart (from the left), so labels do not collide."""
    kept: list[float] = []
    for x in xs:
        if not kept or x - kept[-1] >= gap:
            kept.append(x)
    return kept


def _distribution_panel(ax, dist: Distribution) -> None:
    """Bars along the value axis (open-ended far-out bins hatched, one bin wide, beyond the
    edges), the interquartile range shaded, the median solid and the quartiles dashed."""
    bars = dist.values
    if dist.binned:
        width = float(dist.bin_width)
        for bar in bars:
            left = {"below": bar.high - width, "above": bar.low}.get(bar.kind, bar.low)
            hatched = bar.kind != "bin"
            ax.bar(left, bar.images, width=width, align="edge", color=OTHER_COLOR if hatched else BAR_COLOR,
                   hatch="//" if hatched else None, edgecolor="white", linewidth=0.5)
            if hatched:
                ax.text(left + width / 2, bar.images, f"{bar.label}: {bar.images:,}", ha="center", va="bottom",
                        fontsize=7)
    else:
        xs = [bar.low for bar in bars]
        span = xs[-1] - xs[0]
        whole = all(float(x).is_integer() for x in xs)
        # bars no wider than the closest two values, yet visible when two values nearly touch
        width = max(0.8 * min(b - a for a, b in zip(xs, xs[1:])), span / 120) if span else (0.8 if whole else 0.1)
        ax.bar(xs, [bar.images for bar in bars], width=width, color=BAR_COLOR, edgecolor=BAR_COLOR, linewidth=0.5)
        if span < 4 * width:  # one value, or values close together: room on both sides
            pad = max(2 * width, span / 2)
            ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        ticks = _spread_ticks(xs, (span or 4 * width) / 7)
        if len(xs) <= 12:
            ax.set_xticks(ticks, [next(bar.name or bar.label for bar in bars if bar.low == t) for t in ticks])
    ax.axvspan(dist.q1, dist.q3, color=QUARTILE_COLOR, alpha=0.12, linewidth=0)
    for value, style in ((dist.q1, "--"), (dist.q3, "--"), (dist.median, "-")):
        ax.axvline(value, color=QUARTILE_COLOR, linestyle=style, linewidth=1.4 if style == "-" else 1.0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def distributions_chart(distributions: Sequence[Distribution]) -> Figure:
    """One small panel per numeric parameter: images along its value axis, median and quartiles
    marked (``parameter_distributions.txt`` has the numbers)."""
    ncols = 3
    nrows = max(1, -(-len(distributions) // ncols))
    fig = _figure(14, 3.6 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, dist in zip(axes, distributions):
        if dist.values:
            _distribution_panel(ax, dist)
            few = ", few images" if dist.small_sample else ""
            ax.set_title(f"{dist.name} (n={dist.images:,}{few}, median {format_number(round(dist.median, 3))})",
                         fontsize=10)
            ax.set_xlabel(dist.source, fontsize=8)
            ax.set_ylabel("Images", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no usable values", ha="center", va="center", color="#67727e")
            ax.set_title(dist.name, fontsize=10)
            ax.set_axis_off()
    for ax in axes[len(distributions):]:
        ax.set_axis_off()
    handles = [Line2D([], [], color=QUARTILE_COLOR, linewidth=1.4, label="median"),
               Line2D([], [], color=QUARTILE_COLOR, linestyle="--", label="quartiles (Q1, Q3)")]
    fig.legend(handles=handles, loc="upper right", fontsize=8, frameon=False)
    fig.suptitle("Numeric parameters by value", fontsize=13)
    height = 3.6 * nrows + 0.6
    # fixed margins (the labels are ours and short): tight_layout would add a third draw
    fig.subplots_adjust(left=0.05, right=0.985, bottom=0.75 / height, top=1 - 1.0 / height, hspace=0.45,
                        wspace=0.22)
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


@dataclass(frozen=True)
class PlotJob:
    """One chart: ``builder(*args)`` makes the figure. Builders are module functions and
    args are result dataclasses, so a job can be sent to a helper process."""

    key: str
    file_name: str
    builder: Callable[..., Figure]
    args: tuple
    cost: float = 1.0  # relative drawing time, to share the work evenly


def plot_jobs(analysis: Analysis) -> list[PlotJob]:
    """Every chart of this analysis. The original's file names are kept:
    ``<Parameter>_counts.png``, ``prompt words_counts.png``, ``negative prompt
    words_counts.png``, ``tfidf_analysis.png``."""
    jobs = [PlotJob(f"param:{c.name}", f"{c.name}_counts.png", parameter_chart, (c,), 0.5)
            for c in analysis.parameters]
    jobs += [
        PlotJob("words:prompt", "prompt words_counts.png", bar_chart,
                (analysis.prompt_words, "Frequency of prompt words", "Count")),
        PlotJob("words:negative", "negative prompt words_counts.png", bar_chart,
                (analysis.negative_words, "Frequency of negative prompt words", "Count")),
        PlotJob("tags:prompt", "prompt tags_counts.png", bar_chart, (analysis.prompt_tags, "Frequency of prompt tags")),
        PlotJob("tags:negative", "negative prompt tags_counts.png", bar_chart,
                (analysis.negative_tags, "Frequency of negative prompt tags")),
        PlotJob("tfidf", "tfidf_analysis.png", tfidf_chart, (analysis.tfidf,)),
        PlotJob("lora", "lora_usage.png", lora_chart, (analysis.lora,)),
        PlotJob("heat:model_sampler", "model_sampler_heatmap.png", heatmap, (analysis.model_sampler,)),
        PlotJob("heat:sampler_cfg", "sampler_cfg_heatmap.png", heatmap, (analysis.sampler_cfg,)),
        PlotJob("trends", "trends_by_month.png", trends_chart, (analysis.trends,), 2.5),
        PlotJob("habits", "weekday_hour.png", habits_chart, (analysis.habits,)),
        PlotJob("coverage", "parse_coverage.png", coverage_chart, (analysis.coverage,), 0.6),
        PlotJob("distributions", "parameter_distributions.png", distributions_chart, (analysis.distributions,), 2.0),
        PlotJob("model_cards", "model_cards.png", model_cards_chart, (analysis.model_cards[:CARD_MODELS],), 0.8),
    ]
    if analysis.keywords:
        jobs.append(PlotJob("keywords", "keyword_counts.png", keyword_chart, (analysis.keywords,)))
    if analysis.topics.themes:
        jobs.append(PlotJob("topics", "prompt_topics.png", topics_chart, (analysis.topics, analysis.topic_context)))
    if analysis.camera.images:
        jobs.append(PlotJob("camera", "camera_photos.png", camera_chart, (analysis.camera,), 2.5))
    if analysis.comparison is not None:
        jobs.append(PlotJob("comparison", "comparison.png", comparison_chart, (analysis.comparison,), 3.0))
    if analysis.label_analysis is not None:
        jobs.append(PlotJob("labels", "label_analysis.png", label_chart, (analysis.label_analysis,), 1.5))
    return jobs


# fonts that cover Chinese/Japanese/Korean prompts, where installed (DejaVu Sans has no CJK)
_CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR", "Noto Sans CJK TC", "Source Han Sans",
              "WenQuanYi Zen Hei", "Microsoft YaHei", "Yu Gothic", "Meiryo", "MS Gothic", "Malgun Gothic",
              "Hiragino Sans", "Hiragino Kaku Gothic ProN", "PingFang SC", "Apple SD Gothic Neo")


@lru_cache(maxsize=1)
def _font_family() -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in _CJK_FONTS if name in installed))


def draw(jobs: Sequence[PlotJob], out_dir: Path) -> dict[str, Path]:
    """Draw and save ``jobs`` into ``out_dir`` (also the helper process's entry point)."""
    written = {}
    missing_glyphs = False
    # matplotlib falls back from font to font per character (3.6+); characters no installed
    # font has are drawn as boxes: say so once in the log instead of one warning per label
    with matplotlib.rc_context({"font.family": list(_font_family()), **LITERAL_TEXT}), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for job in jobs:
            written[job.key] = save_figure(job.builder(*job.args), out_dir / _safe_name(job.file_name))
    for w in caught:
        if "missing from font" in str(w.message):
            missing_glyphs = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing_glyphs:
        logger.info("some characters of the labels are not in any installed font and show as boxes; "
                    "installing a CJK font (e.g. fonts-noto-cjk) fixes that")
    return written


def _share(jobs: Sequence[PlotJob]) -> tuple[list[PlotJob], list[PlotJob]]:
    """Two piles of about equal drawing time (largest first onto the lighter pile)."""
    mine: list[PlotJob] = []
    theirs: list[PlotJob] = []
    load = [0.0, 0.0]
    for job in sorted(jobs, key=lambda j: -j.cost):
        pile = 0 if load[0] <= load[1] else 1
        (mine if pile == 0 else theirs).append(job)
        load[pile] += job.cost
    return mine, theirs


def write_plots(analysis: Analysis, out_dir: Path, executor: Optional[Executor] = None) -> dict[str, Path]:
    """Draw and save every chart; returns key -> file, in a stable order. With an
    ``executor`` (the CLI's helper process), about half of the charts are drawn there at the
    same time: drawing is CPU-bound and matplotlib is single-threaded."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}; "
                         "pass another folder with --out DIR") from None
    jobs = plot_jobs(analysis)
    if executor is None or len(jobs) < 4:
        return draw(jobs, out_dir)
    mine, theirs = _share(jobs)
    try:
        future = executor.submit(draw, theirs, out_dir)
    except (BrokenExecutor, RuntimeError) as exc:  # RuntimeError: the executor was shut down
        logger.warning("the helper process is not available (%s); drawing every chart here", exc)
        return draw(jobs, out_dir)
    written = draw(mine, out_dir)
    try:
        written.update(future.result())
    except (BrokenExecutor, OSError, EOFError, pickle.PicklingError) as exc:
        logger.warning("the helper process failed (%s); drawing its charts here", exc)
        written.update(draw(theirs, out_dir))
    return {job.key: written[job.key] for job in jobs}


def _safe_name(name: str) -> str:
    # parameter names are ours, but keep any future one from escaping the folder
    return name.replace(os.sep, "_").replace("/", "_")
