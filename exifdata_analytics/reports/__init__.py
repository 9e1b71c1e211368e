"""parameter_statistic's reports: the text reports in the original's formats (``text``), the
self-contained HTML report (``html``), every section as data (``json``: report.json), and
writing them safely (``files``). Formatting only: every number comes from an ``analysis.Analysis``."""
from __future__ import annotations

from .files import prepare_output_dir, write_file, write_text_reports
from .html import format_html, write_html_report
from .json import JSON_REPORT, SCHEMA_VERSION, format_json, report_data, to_data, write_json_report
from .text import (CAMERA_REPORT, CO_USE_REPORT, COMBINATIONS_REPORT, COMPARISON_REPORT, COVERAGE_REPORT,
                   HABITS_REPORT, HTML_REPORT, KEYWORD_REPORT, LORA_REPORT, MODEL_CARDS_REPORT, NEGATIVE_TAGS_REPORT,
                   NEGATIVE_WORDS_REPORT, ORIGINAL_REPORTS, PARAMETER_REPORT, PROMPT_TAGS_REPORT, PROMPT_WORDS_REPORT,
                   TFIDF_REPORT, TOPICS_REPORT, TRENDS_REPORT, format_camera, format_co_use, format_combinations, format_comparison,
                   format_coverage, format_habits, format_keyword_analysis, format_lora_usage, format_model_cards,
                   format_parameter_counts, format_tfidf, format_trends, format_value_counts, format_word_counts,
                   text_reports)

__all__ = [
    "prepare_output_dir", "write_file", "write_text_reports", "format_html", "write_html_report",
    "JSON_REPORT", "SCHEMA_VERSION", "format_json", "report_data", "to_data", "write_json_report",
    "CO_USE_REPORT", "MODEL_CARDS_REPORT", "format_co_use", "format_model_cards",
    "CAMERA_REPORT", "COMBINATIONS_REPORT", "COMPARISON_REPORT", "COVERAGE_REPORT", "HABITS_REPORT", "HTML_REPORT",
    "KEYWORD_REPORT", "LORA_REPORT", "NEGATIVE_TAGS_REPORT", "NEGATIVE_WORDS_REPORT", "ORIGINAL_REPORTS",
    "PARAMETER_REPORT", "PROMPT_TAGS_REPORT", "PROMPT_WORDS_REPORT", "TFIDF_REPORT", "TOPICS_REPORT", "TRENDS_REPORT",
    "format_camera", "format_combinations", "format_comparison", "format_coverage", "format_habits",
    "format_keyword_analysis", "format_lora_usage", "format_parameter_counts", "format_tfidf", "format_trends",
    "format_value_counts", "format_word_counts", "text_reports",
]
