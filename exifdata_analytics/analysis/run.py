"""Every statistic of parameter_statistic.py in one call: ``analyse()`` returns an ``Analysis``
that ``reports`` and ``plots`` format, computed in one read snapshot of the database."""
from __future__ import annotations

import logging
import pickle
import sqlite3
import time
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from typing import Optional

from ..coverage import CoverageCounter, CoverageTable
from ..memory import release_freed_memory
from .breakdowns import Comparison, CrossTab, compare, crosstab
from .camera import CameraStats, camera_stats
from .co_use import CoUse, co_use
from .counts import Counts, parameter_counts
from .distributions import Distribution, numeric_distributions
from .examples import Examples, pick_examples
from .keywords import KeywordResult, keyword_analysis
from .label_sources import LabelSpec
from .labels import LabelAnalysis, label_analysis
from .model_cards import ModelCard, model_cards
from .prompt_statistics import PromptStatistics, prompt_statistics_from, streamed_prompt_statistics
from .prompt_stream import iter_cleaned, text_counts
from .resources import LoraUsage, lora_usage
from .selection import (Filters, load_resources, load_selection, parse_compare_spec, read_snapshot,
                        snapshot_fingerprint)
from .stages import StageStats, stage_stats
from .topics import ThemeContext, Topics, describe_topics
from .timeline import Habits, Trends, monthly_trends, weekday_hour
from .videos import MotionReader, VideoStats, video_stats

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class AnalysisOptions:
    keywords: tuple[str, ...] = ()
    top_models: int = 3
    top_samplers: int = 3
    filters: Filters = field(default_factory=Filters)
    dedupe: bool = True
    compare: Optional[tuple[str, str]] = None  # two subset specs, e.g. ('folder=/a', 'folder=/b')
    tfidf_top: int = 50
    raw_names: bool = False  # count samplers, models, … as written instead of one name per thing
    topics: Optional[int] = None  # themes of the prompts: how many (None: the data chooses; 0: none)
    label_by: Optional[LabelSpec] = None  # --label-by: where each image's label comes from
    examples: int = 0  # example images per top value of each parameter, model and LoRA (the HTML report's)


@dataclass(frozen=True)
class Analysis:
    db_path: str
    options: AnalysisOptions
    total_rows: int
    matching_rows: int
    images: int
    duplicates_dropped: int
    with_prompt: int
    parameters: tuple[Counts, ...]
    prompt_words: Counts
    negative_words: Counts
    prompt_tags: Counts
    negative_tags: Counts
    tfidf: tuple[tuple[str, float], ...]
    keywords: tuple[KeywordResult, ...]
    lora: LoraUsage
    model_sampler: CrossTab
    sampler_cfg: CrossTab
    trends: Trends
    habits: Habits
    coverage: CoverageTable
    camera: CameraStats
    distributions: tuple[Distribution, ...] = ()  # numeric parameters along their value axis
    topics: Topics = Topics()  # themes of the prompts
    topic_context: tuple[ThemeContext, ...] = ()  # each theme's top models and months
    comparison: Optional[Comparison] = None
    model_cards: tuple[ModelCard, ...] = ()  # each model's usual settings, most used first
    co_use: Optional[CoUse] = None  # LoRA x model, LoRA x LoRA and tag pairs by lift
    label_analysis: Optional[LabelAnalysis] = None  # --label-by: what the images of a label have in common
    stages: StageStats = StageStats()  # images made in more than one sampler pass
    videos: VideoStats = VideoStats()  # videos and animations: formats, play time, frame rates
    examples: Examples = Examples()  # a few images for each top value (with --html)

    def parameter(self, name: str) -> Counts:
        return next(c for c in self.parameters if c.name == name)


def analyse(con: sqlite3.Connection, options: AnalysisOptions, db_path: str = "",
            executor: Optional[Executor] = None) -> Analysis:
    """Every statistic of parameter_statistic for the selected images.

    With an ``executor`` (the CLI passes a helper process), the prompt statistics, the
    costliest part, are computed there from the database file while this process computes
    everything else."""
    with read_snapshot(con):  # every statistic counts the same rows even while DB_filler writes
        return _analyse(con, options, db_path, executor)


def _analyse(con: sqlite3.Connection, options: AnalysisOptions, db_path: str,
             executor: Optional[Executor]) -> Analysis:
    fingerprint = snapshot_fingerprint(con)
    future = None
    if executor is not None and db_path:
        try:
            future = executor.submit(prompt_statistics_from, db_path, options.filters, options.dedupe,
                                     options.keywords, options.tfidf_top, options.topics,
                                     options.label_by is not None)
        except (BrokenExecutor, RuntimeError) as exc:  # RuntimeError: the executor was shut down
            logger.warning("the helper process is not available (%s); working in this process", exc)
    coverage, motion = CoverageCounter(), MotionReader()  # read in the selection's scan
    selection = load_selection(con, options.filters, options.dedupe, raw_names=options.raw_names,
                               also=(coverage, motion))
    frame = selection.frame
    resources = load_resources(con, frame["id"], raw_names=options.raw_names)
    release_freed_memory()  # the chunks read: the next steps' arrays reuse the pages, not add to them
    negative_words, negative_tags = text_counts(con, "negative_prompt", options.filters, options.dedupe,
                                                words_name="negative prompt words", tags_name="negative prompt tags")
    release_freed_memory()
    parameters = parameter_counts(frame)
    rest = dict(
        parameters=parameters,
        distributions=numeric_distributions(frame),
        negative_words=negative_words,
        negative_tags=negative_tags,
        lora=lora_usage(frame, resources),
        model_sampler=crosstab(frame, ("Model", "model"), ("Sampler", "sampler")),
        sampler_cfg=crosstab(frame, ("Sampler", "sampler"), ("CFG scale", "cfg_scale"), max_cols=12),
        trends=monthly_trends(frame),
        habits=weekday_hour(frame),
        coverage=coverage.table(),
        camera=camera_stats(con, frame["id"]),
        stages=stage_stats(con, frame["id"]),
        videos=video_stats(frame, motion.table()),
        examples=pick_examples(con, frame, parameters, resources, per=options.examples),
        comparison=_comparison(con, options) if options.compare else None,
        model_cards=model_cards(frame, resources),
    )
    release_freed_memory()
    waited = time.perf_counter()
    stats = None
    collected = _collect(future)
    if future is not None:
        logger.info("waited %.2f s for the helper's prompt statistics", time.perf_counter() - waited)
    if collected is not None:
        helper_fingerprint, stats = collected
        if helper_fingerprint != fingerprint:
            # the database changed between the two snapshots: count the prompts here, in ours
            logger.info("the database changed during the run; prompt statistics recomputed in one snapshot")
            stats = None
    if stats is None:
        stats = streamed_prompt_statistics(iter_cleaned(con, "prompt", options.filters, options.dedupe),
                                           options.keywords, options.tfidf_top, options.topics,
                                           options.label_by is not None)
    if options.label_by is not None:  # after the prompt statistics, whose tags of each image it uses
        rest["label_analysis"] = label_analysis(con, frame, resources, options.label_by, options.filters,
                                                options.dedupe, stats.image_tags)
    return Analysis(
        db_path=db_path,
        options=options,
        total_rows=selection.total_rows,
        matching_rows=selection.matching_rows,
        images=selection.images,
        duplicates_dropped=selection.duplicates_dropped,
        with_prompt=int(frame["has_prompt"].sum()),
        prompt_words=stats.words,
        prompt_tags=stats.tags,
        tfidf=stats.tfidf,
        keywords=keyword_analysis(frame, dict(stats.keyword_hits), options.top_models, options.top_samplers),
        co_use=co_use(frame, resources, stats.tag_pairs),
        **rest,
        topics=stats.topics,
        topic_context=describe_topics(stats.topics, frame, options.top_models),
    )


def _collect(future: Optional[Future]) -> Optional[tuple[tuple, PromptStatistics]]:
    """The helper's result, or None when it failed (then this process computes it)."""
    if future is None:
        return None
    try:
        return future.result()
    except (BrokenExecutor, OSError, EOFError, pickle.PicklingError) as exc:
        logger.warning("the helper process failed (%s); computing the prompt statistics here", exc)
        return None


def _comparison(con: sqlite3.Connection, options: AnalysisOptions) -> Comparison:
    spec_a, spec_b = options.compare  # type: ignore[misc]
    sides = []
    for spec in (spec_a, spec_b):
        subset = parse_compare_spec(spec)
        sel = load_selection(con, options.filters, options.dedupe, subset=subset, raw_names=options.raw_names)
        _, tags = text_counts(con, "prompt", options.filters, options.dedupe, subset, tags_name="prompt tags")
        sides.append((sel, tags))
    (a, tags_a), (b, tags_b) = sides
    return compare(a, b, spec_a, spec_b, tags_a=tags_a, tags_b=tags_b)
