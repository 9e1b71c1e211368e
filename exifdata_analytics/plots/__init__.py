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
import warnings
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence

import matplotlib
from matplotlib.figure import Figure

from ..analysis import Analysis
from ..errors import InputError
from .charts import (bar_chart, camera_chart, comparison_chart, coverage_chart, distributions_chart, habits_chart,
                     heatmap, keyword_chart, lora_chart, parameter_chart, tfidf_chart, trends_chart)
from .figures import DPI, LABEL_CHARS, LITERAL_TEXT, TOP_N, save_figure
from .insights import CARD_MODELS, label_chart, model_cards_chart, topics_chart

logger = logging.getLogger(__name__)


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


__all__ = ["PlotJob", "plot_jobs", "draw", "write_plots", "save_figure", "DPI", "LABEL_CHARS", "TOP_N",
           "bar_chart", "camera_chart", "comparison_chart", "coverage_chart", "distributions_chart", "habits_chart",
           "heatmap", "keyword_chart", "lora_chart", "parameter_chart", "tfidf_chart", "trends_chart",
           "label_chart", "model_cards_chart", "topics_chart"]
