"""parameter_statistic's computations: the database -> pandas -> plain, typed results.

Nothing here prints, plots or writes files. The modules, by job:

* ``selection``: which images (filters compiled by the search language, de-duplication by
  content) and reading them compactly;
* ``counts``: value counts of the parameters;
* ``distributions``: numeric parameters along their value axis (quartiles, bins);
* ``prompts``: prompt cleaning, tags, the word matrix, word counts, TF-IDF;
* ``keywords``: whole-word keyword hits and their top models/samplers;
* ``prompt_statistics``: the prompt statistics as one job (the CLI's helper process runs it);
* ``resources``: LoRAs and other resources;
* ``breakdowns``: cross-tabs and side-by-side comparison of two subsets;
* ``timeline``: trends by month, weekday/hour habits, each by the source of the dates;
* ``camera``: ordinary photos' camera fields;
* ``stages``: images made in more than one sampler pass, their pipelines and later passes;
* ``videos``: videos and animations: formats, play time, frame rates, what made them;
* ``examples``: a few images for each top value, for the HTML report's thumbnails;
* ``model_cards``: each model's usual settings;
* ``co_use``: LoRA x model, LoRA x LoRA and tag pairs ranked by lift;
* ``labels`` (with ``label_sources``, ``label_fields``, ``label_model``): what the images of a label
  (``--label-by``: folder, rating, a CSV) have in common, with intervals, FDR and one model;
* ``run``: ``analyse()``, everything above for one run, in one read snapshot.

Conventions shared by every statistic: empty values are not a category; images are counted
once per content (``sha256``) unless ``dedupe`` is off, so a mirrored backup folder does not
double the numbers (rows without a hash are always kept); the filters apply to every
statistic; ties are broken by the value, so reports are stable from run to run.

The names below are the package's API, importable from ``exifdata_analytics.analysis``.
"""
from __future__ import annotations

from ..errors import DatabaseError, InputError
from .breakdowns import COMPARE_PARAMETERS, Comparison, CrossTab, compare, crosstab
from .camera import CAMERA_FIELDS, CameraStats, camera_fields, camera_stats
from .stages import LaterPass, Pipeline, StageStats, stage_stats
from .examples import ExampleImage, Examples, pick_examples
from .co_use import CoUse, Pair, PairTable
from .counts import NUMERIC_COLUMNS, PARAMETERS, TEXT_COLUMNS, Counts, format_number, parameter_counts, value_counts
from .distributions import (ASPECT_RATIO, MEGAPIXELS, NUMERIC_PARAMETERS, Distribution, NumericParameter, ValueCount,
                            numeric_distributions, quartiles, ratio_name)
from .keywords import KeywordResult, keyword_analysis, keyword_hits, keyword_pattern, normalise_keyword, parse_keywords
from .label_sources import LabelSpec, parse_label_spec
from .labels import Finding, Importance, LabelAnalysis, LabelCount, LabelModel, label_analysis
from .model_cards import ModelCard
from .prompt_statistics import PromptStatistics, prompt_statistics, prompt_statistics_from
from .prompt_stream import cleaned_texts, count_matrix
from .prompts import (TOKEN_PATTERN, Vocabulary, clean_prompt, clean_prompts, prompt_tags, tag_counts,
                      word_counts)
from .resources import LORA_KINDS, LoraStat, LoraUsage, lora_usage
from .run import Analysis, AnalysisOptions, analyse
from .selection import (COMPARE_KEYS, Filters, Selection, check_schema, compact_frame, load_resources,
                        load_selection, load_texts, open_database, parse_compare_spec, read_snapshot, selection_sql,
                        snapshot_fingerprint)
from .timeline import (UNRECORDED, VIA_MTIME, WEEKDAYS, Habits, SourceCounts, Trends, monthly_trends, source_counts,
                       weekday_hour)
from .videos import VIDEO_FORMATS, FormatMotion, MotionReader, VideoStats, video_stats

__all__ = [
    "DatabaseError", "InputError",
    "COMPARE_PARAMETERS", "Comparison", "CrossTab", "compare", "crosstab",
    "CAMERA_FIELDS", "CameraStats", "camera_fields", "camera_stats",
    "LaterPass", "Pipeline", "StageStats", "stage_stats",
    "ExampleImage", "Examples", "pick_examples",
    "NUMERIC_COLUMNS", "PARAMETERS", "TEXT_COLUMNS", "Counts", "format_number", "parameter_counts", "value_counts",
    "ASPECT_RATIO", "MEGAPIXELS", "NUMERIC_PARAMETERS", "Distribution", "NumericParameter", "ValueCount",
    "numeric_distributions", "quartiles", "ratio_name",
    "KeywordResult", "keyword_analysis", "keyword_hits", "keyword_pattern", "normalise_keyword", "parse_keywords",
    "LabelSpec", "parse_label_spec", "Finding", "Importance", "LabelAnalysis", "LabelCount", "LabelModel",
    "label_analysis",
    "PromptStatistics", "cleaned_texts", "prompt_statistics", "prompt_statistics_from",
    "TOKEN_PATTERN", "Vocabulary", "clean_prompt", "clean_prompts", "count_matrix", "prompt_tags", "tag_counts",
    "word_counts",
    "LORA_KINDS", "LoraStat", "LoraUsage", "lora_usage",
    "Analysis", "AnalysisOptions", "analyse",
    "COMPARE_KEYS", "Filters", "Selection", "check_schema", "compact_frame", "load_resources", "load_selection",
    "load_texts", "open_database", "parse_compare_spec", "read_snapshot", "selection_sql", "snapshot_fingerprint",
    "CoUse", "Pair", "PairTable", "ModelCard",  # (their functions: analysis.co_use, analysis.model_cards)
    "WEEKDAYS", "Habits", "Trends", "monthly_trends", "weekday_hour",
    "UNRECORDED", "VIA_MTIME", "SourceCounts", "source_counts",
    "VIDEO_FORMATS", "FormatMotion", "MotionReader", "VideoStats", "video_stats",
]
