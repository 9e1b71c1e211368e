"""The original's charts and the frequency, trend, coverage and distribution charts: one
builder per figure, each taking results from ``analysis`` and returning a Figure."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..analysis import (WEEKDAYS, CameraStats, Comparison, Counts, CrossTab, Habits,
                        KeywordResult, LoraUsage, Trends)
from ..analysis.counts import format_number
from ..analysis.distributions import Distribution
from ..coverage import CoverageTable
from .figures import (BAR_COLOR, OTHER_COLOR, QUARTILE_COLOR, TOP_N, _bar_height, _barh,
                      _empty, _figure, _margins, _month_ticks, _short, _text_inches)


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


