"""parameter_statistic's text reports (in the original's formats) and the HTML report.

Formatting only: every number comes from an ``analysis.Analysis``. The five reports of the
original keep its layouts exactly (reference/original-README.md):

* ``keyword_analysis.txt``  ``Keyword: …`` / ``Count: …`` / ``Top Models: …`` / ``Top Samplers: …``
* ``prompt_word_counts.txt`` and ``negative_prompt_word_counts.txt``  ``Analysis for … words:``
  then ``word: count``
* ``parameter_counts.txt``  ``Analysis for Sampler:`` blocks laid out as pandas prints a
  value count (name line, then value and count columns)
* ``tfidf_analysis.txt``  ``TF-IDF Analysis of Prompts:`` then ``term: score``

The further reports use the same ``Analysis for …:`` / ``name: count`` style.
"""
from __future__ import annotations

import base64
import html
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from .analysis import Analysis, CameraStats, Comparison, Counts, CrossTab, Habits, LoraUsage, Trends, WEEKDAYS
from .coverage import CoverageTable
from .errors import InputError
from .texttable import table_lines

logger = logging.getLogger(__name__)

KEYWORD_REPORT = "keyword_analysis.txt"
PROMPT_WORDS_REPORT = "prompt_word_counts.txt"
NEGATIVE_WORDS_REPORT = "negative_prompt_word_counts.txt"
PARAMETER_REPORT = "parameter_counts.txt"
TFIDF_REPORT = "tfidf_analysis.txt"
PROMPT_TAGS_REPORT = "prompt_tag_counts.txt"
NEGATIVE_TAGS_REPORT = "negative_prompt_tag_counts.txt"
LORA_REPORT = "lora_usage.txt"
COMBINATIONS_REPORT = "combinations.txt"
TRENDS_REPORT = "trends.txt"
HABITS_REPORT = "habits.txt"
COVERAGE_REPORT = "coverage.txt"
CAMERA_REPORT = "camera_photos.txt"
COMPARISON_REPORT = "comparison.txt"
HTML_REPORT = "report.html"

ORIGINAL_REPORTS = (KEYWORD_REPORT, PROMPT_WORDS_REPORT, NEGATIVE_WORDS_REPORT, PARAMETER_REPORT, TFIDF_REPORT)

NONE = "(none)"


# -- the original's five reports ---------------------------------------------------------

def _pairs_inline(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in items) if items else NONE


def format_keyword_analysis(analysis: Analysis) -> str:
    if not analysis.keywords:
        return ("No keywords were given: pass --keywords \"a, b\" or --keywords-file FILE, "
                "or list them in keywords.txt.\n")
    blocks = []
    for k in analysis.keywords:
        blocks.append(f"Keyword: {k.keyword}\n"
                      f"Count: {k.count}\n"
                      f"Top Models: {_pairs_inline(k.top_models)}\n"
                      f"Top Samplers: {_pairs_inline(k.top_samplers)}\n")
    return "\n".join(blocks)


def format_word_counts(counts: Counts) -> str:
    """'Analysis for prompt words:' then one 'word: count' line per word."""
    lines = [f"Analysis for {counts.name}:"]
    lines += [f"{word}: {count}" for word, count in counts.items]
    return "\n".join(lines) + "\n"


def format_value_counts(counts: Counts) -> str:
    """A value count laid out as pandas prints one (the original wrote
    ``value_counts().to_string()``): the name, then values left-aligned and counts
    right-aligned, four spaces apart."""
    lines = [counts.name]
    if counts.items:
        width = max(len(value) for value, _ in counts.items)
        count_width = max(len(str(count)) for _, count in counts.items)
        lines += [f"{value.ljust(width)}    {str(count).rjust(count_width)}" for value, count in counts.items]
    return "\n".join(lines)


def format_parameter_counts(parameters: Iterable[Counts]) -> str:
    return "".join(f"Analysis for {c.name}:\n{format_value_counts(c)}\n\n" for c in parameters)


def format_tfidf(scores: Sequence[tuple[str, float]]) -> str:
    lines = ["TF-IDF Analysis of Prompts:"]
    lines += [f"{term}: {score!r}" for term, score in scores]
    return "\n".join(lines) + "\n"


# -- further reports -------------------------------------------------------------------------

def _n(value: int) -> str:
    return f"{value:,}"


def _images(count: int) -> str:
    return f"{count:,} image" + ("" if count == 1 else "s")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> list[str]:
    """Fixed-width columns; the first ``left`` columns left-aligned, the rest right-aligned."""
    return table_lines([str(h) for h in headers], [[str(c) for c in r] for r in rows],
                       numeric=range(left, len(headers)))


def format_lora_usage(lora: LoraUsage, images: int) -> str:
    lines = [f"Analysis for LoRAs ({_n(lora.images_with_lora)} of {_n(images)} images use at least one):"]
    for s in lora.loras:
        weight = f", mean weight {s.mean_weight:.2f}" if s.mean_weight is not None else ""
        lines.append(f"{s.name}: {_images(s.images)}{weight}")
    lines += ["", "Analysis for LoRA + Model:"]
    lines += [f"{name} + {model}: {count}" for name, model, count in lora.by_model]
    for other in lora.other:
        lines += ["", f"Analysis for {other.name} resources:"]
        lines += [f"{name}: {count}" for name, count in other.items]
    return "\n".join(lines) + "\n"


def _format_crosstab(tab: CrossTab) -> list[str]:
    lines = [f"Analysis for {tab.row_name} + {tab.col_name}:"]
    lines += [f"{a} + {b}: {count}" for a, b, count in tab.pairs]
    return lines


def format_combinations(model_sampler: CrossTab, sampler_cfg: CrossTab) -> str:
    return "\n".join(_format_crosstab(model_sampler) + [""] + _format_crosstab(sampler_cfg)) + "\n"


def _legend_table(title: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> list[str]:
    if not series:
        return [title, NONE]
    headers = ["month"] + [f"[{i + 1}]" for i in range(len(series))]
    rows = [[m] + [s[1][j] for s in series] for j, m in enumerate(months)]
    return [title] + _table(headers, rows) + [f"[{i + 1}] {name}" for i, (name, _) in enumerate(series)]


def format_trends(trends: Trends) -> str:
    lines = ["Images per month (by created_at):"]
    lines += [f"{m}: {n}" for m, n in zip(trends.months, trends.images)]
    if trends.undated:
        lines.append(f"(no date: {trends.undated})")
    lines += ["", "Top model per month:"]
    lines += [f"{m}: {_pairs_inline([best])}" for m, best in zip(trends.months, trends.top_model) if best]
    lines += ["", "Top sampler per month:"]
    lines += [f"{m}: {_pairs_inline([best])}" for m, best in zip(trends.months, trends.top_sampler) if best]
    lines += [""] + _legend_table("Most used models per month (images):", trends.months, trends.models)
    lines += [""] + _legend_table("Most used samplers per month (images):", trends.months, trends.samplers)
    return "\n".join(lines) + "\n"


def format_habits(habits: Habits) -> str:
    lines = ["Images by weekday (by created_at):"]
    lines += [f"{day}: {n}" for day, n in zip(WEEKDAYS, habits.weekday)]
    lines += ["", "Images by hour of day:"]
    lines += [f"{h:02d}: {n}" for h, n in enumerate(habits.hour)]
    if habits.undated:
        lines += ["", f"Images without a usable date: {habits.undated}"]
    return "\n".join(lines) + "\n"


def format_coverage(coverage: CoverageTable) -> str:
    if not coverage.rows:
        return "Parse coverage by generator:\n(no images)\n"
    headers = ["generator", "status", "images", *coverage.formats]
    rows = [[r.generator, r.status, r.images, *(n for _, n in r.by_format)] for r in coverage.rows]
    lines = ["Parse coverage by generator (files per generator, parse status and format):"]
    lines += _table(headers, rows, left=2)
    parsed = [r for r in coverage.rows if r.status == "ok"]
    lines += ["", "Fields found, in % of each generator's parsed images:"]
    if parsed:
        fields = [name for name, _ in parsed[0].filled]
        rows = [[r.generator, r.images, *(f"{100 * n / r.images:.0f}" for _, n in r.filled)] for r in parsed]
        lines += _table(["generator", "images", *fields], rows)
    else:
        lines.append(NONE)
    return "\n".join(lines) + "\n"


def format_camera(camera: CameraStats) -> str:
    header = f"Camera photos (images without generation data whose EXIF names a camera): {camera.images}\n\n"
    return header + format_parameter_counts(camera.fields)


def format_comparison(comparison: Comparison) -> str:
    a, b = comparison.label_a, comparison.label_b
    lines = [f"Comparison of A = {a} ({_images(comparison.images_a)})",
             f"          and B = {b} ({_images(comparison.images_b)})",
             "Shares are of each subset's images."]

    def pct(n: int, total: int) -> str:
        return f"{100 * n / total:.1f}%" if total else "-"

    for name, rows in comparison.parameters:
        lines += ["", f"Analysis for {name}:"]
        if not rows:
            lines.append(NONE)
            continue
        table_rows = [[v, na, pct(na, comparison.images_a), nb, pct(nb, comparison.images_b)] for v, na, nb in rows]
        lines += _table([name, "A", "A %", "B", "B %"], table_rows)
    return "\n".join(lines) + "\n"


# -- writing -----------------------------------------------------------------------------------

def text_reports(analysis: Analysis) -> dict[str, str]:
    """File name -> content of every text report for this analysis."""
    reports = {
        KEYWORD_REPORT: format_keyword_analysis(analysis),
        PROMPT_WORDS_REPORT: format_word_counts(analysis.prompt_words),
        NEGATIVE_WORDS_REPORT: format_word_counts(analysis.negative_words),
        PARAMETER_REPORT: format_parameter_counts(analysis.parameters),
        TFIDF_REPORT: format_tfidf(analysis.tfidf),
        PROMPT_TAGS_REPORT: format_word_counts(analysis.prompt_tags),
        NEGATIVE_TAGS_REPORT: format_word_counts(analysis.negative_tags),
        LORA_REPORT: format_lora_usage(analysis.lora, analysis.images),
        COMBINATIONS_REPORT: format_combinations(analysis.model_sampler, analysis.sampler_cfg),
        TRENDS_REPORT: format_trends(analysis.trends),
        HABITS_REPORT: format_habits(analysis.habits),
        COVERAGE_REPORT: format_coverage(analysis.coverage),
    }
    if analysis.camera.images:
        reports[CAMERA_REPORT] = format_camera(analysis.camera)
    if analysis.comparison is not None:
        reports[COMPARISON_REPORT] = format_comparison(analysis.comparison)
    return reports


def prepare_output_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}; "
                         "pass another folder with --out DIR") from None
    if not os.access(out_dir, os.W_OK):
        raise InputError(f"cannot write to the output folder {out_dir}; pass another folder with --out DIR")
    return out_dir


def _write(path: Path, text: str) -> Path:
    # write next to the target, then rename: a crash never leaves half a report behind
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; pass another folder with --out DIR") from None
    return path


def write_text_reports(analysis: Analysis, out_dir: Path) -> list[Path]:
    prepare_output_dir(out_dir)
    return [_write(out_dir / name, text) for name, text in text_reports(analysis).items()]


# -- HTML ------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:24px}
header p{margin:2px 0;opacity:.9}
nav{padding:10px 28px;background:#e8edf3;font-size:14px}
nav a{margin-right:14px;color:#1f3a5f}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:18px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{margin-top:4px;color:#1f3a5f}
h3{margin-bottom:6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border-bottom:1px solid #e3e6ea;padding:3px 10px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f3f7}
img{max-width:100%;height:auto;border:1px solid #e3e6ea;margin:6px 0}
.grid{display:flex;flex-wrap:wrap;gap:24px}
.grid>div{flex:1 1 480px;min-width:320px}
.muted{color:#67727e;font-size:13px}
code{background:#f0f3f7;padding:1px 4px;border-radius:3px}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_NUMERIC_CELL = re.compile(r"^-?[\d,]+(?:\.\d+)?%?$")


def _is_number(cell: object) -> bool:
    return isinstance(cell, (int, float)) or bool(_NUMERIC_CELL.match(str(cell)))


def _cell(value: object) -> object:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], limit: Optional[int] = None) -> str:
    """A table; columns holding only numbers are right-aligned."""
    shown = list(rows[:limit] if limit else rows)
    numeric = [bool(shown) and all(_is_number(r[i]) for r in shown) for i in range(len(headers))]
    head = "".join(f'<th{" class=n" if numeric[i] else ""}>{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if numeric[i] else ""}>{_e(_cell(c))}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in shown)
    more = (f'<p class="muted">{_n(len(rows) - len(shown))} more rows in the text report.</p>'
            if limit and len(rows) > len(shown) else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _img(plots: Mapping[str, Path], key: str, alt: str) -> str:
    path = plots.get(key)
    if path is None or not Path(path).exists():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _counts_block(counts: Counts, plots: Mapping[str, Path], key: str, limit: int = 20, unit: str = "images") -> str:
    if not counts.items:
        return f"<h3>{_e(counts.name)}</h3><p class=\"muted\">No values.</p>"
    table = _html_table([counts.name, unit], counts.items, limit=limit)
    return f"<h3>{_e(counts.name)}</h3>{_img(plots, key, counts.name)}{table}"


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="muted">{_e(note)}</p>' if note else ""
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>{note_html}{body}</section>'


def format_html(analysis: Analysis, plots: Mapping[str, Path], generated: Optional[datetime] = None) -> str:
    """One self-contained page: every table, every chart embedded as base64 PNG, all text
    from the database and the user escaped."""
    generated = generated or datetime.now()
    o = analysis.options
    sections: list[tuple[str, str, str]] = []  # (anchor, nav title, html)

    # summary
    summary_rows = [
        ("Database", analysis.db_path),
        ("Rows in the database", _n(analysis.total_rows)),
        ("Filters", o.filters.describe()),
        ("Rows matching the filters", _n(analysis.matching_rows)),
        ("Duplicate copies counted once (same sha256)",
         _n(analysis.duplicates_dropped) if o.dedupe else "off (every file counted)"),
        ("Images analysed", _n(analysis.images)),
        ("Images with a prompt", _n(analysis.with_prompt)),
    ]
    sections.append(("summary", "Summary", _section("summary", "Summary", _html_table(["", ""], summary_rows))))

    params = "".join(f"<div>{_counts_block(c, plots, 'param:' + c.name)}</div>" for c in analysis.parameters)
    sections.append(("parameters", "Parameters", _section(
        "parameters", "Parameters", f'<div class="grid">{params}</div>',
        "Images per value (top 20; parameter_counts.txt has all). Empty values are not counted.")))

    if analysis.keywords:
        rows = [(k.keyword, k.count, _pairs_inline(k.top_models), _pairs_inline(k.top_samplers))
                for k in analysis.keywords]
        kw = _img(plots, "keywords", "Keyword counts") + _html_table(
            ["Keyword", "Images", f"Top {o.top_models} models", f"Top {o.top_samplers} samplers"], rows)
    else:
        kw = '<p class="muted">No keywords were given.</p>'
    sections.append(("keywords", "Keywords", _section(
        "keywords", "Keywords", kw, "Images whose prompt contains the keyword as a whole word or phrase "
                                    "(case-insensitive).")))

    words = "".join(f"<div>{_counts_block(c, plots, key, limit=30, unit=unit)}</div>" for c, key, unit in (
        (analysis.prompt_words, "words:prompt", "count"), (analysis.negative_words, "words:negative", "count"),
        (analysis.prompt_tags, "tags:prompt", "images"), (analysis.negative_tags, "tags:negative", "images")))
    tfidf = _img(plots, "tfidf", "TF-IDF") + _html_table(["Term", "summed TF-IDF"],
                                                         [(t, f"{s:.3f}") for t, s in analysis.tfidf], limit=30)
    sections.append(("prompts", "Prompts", _section(
        "prompts", "Prompts", f'<div class="grid">{words}</div><h3>TF-IDF</h3>{tfidf}',
        "Words are counted per occurrence, tags (comma-separated, weights and brackets removed) once per image. "
        "LoRAs and embeddings are resources, not words.")))

    lora = analysis.lora
    lora_rows = [(s.name, s.images, "" if s.mean_weight is None else f"{s.mean_weight:.2f}") for s in lora.loras]
    body = _img(plots, "lora", "LoRA usage") + _html_table(["LoRA", "images", "mean weight"], lora_rows, limit=30)
    body += "<h3>LoRA + Model</h3>" + _html_table(["LoRA", "Model", "images"], lora.by_model,
                                                  limit=30)
    for other in lora.other:
        body += f"<h3>{_e(other.name)}</h3>" + _html_table([other.name, "images"], other.items, limit=30)
    sections.append(("resources", "LoRAs", _section(
        "resources", "LoRAs and other resources", body,
        f"{_n(lora.images_with_lora)} of {_n(analysis.images)} images use at least one LoRA.")))

    combos = ""
    for tab, key in ((analysis.model_sampler, "heat:model_sampler"), (analysis.sampler_cfg, "heat:sampler_cfg")):
        combos += (f"<h3>{_e(tab.row_name)} + {_e(tab.col_name)}</h3>" + _img(plots, key, f"{tab.row_name} x {tab.col_name}")
                   + _html_table([tab.row_name, tab.col_name, "images"], tab.pairs, limit=20))
    sections.append(("combinations", "Combinations", _section("combinations", "Combinations", combos)))

    t = analysis.trends
    rows = [(m, n, _pairs_inline([bm]) if bm else NONE, _pairs_inline([bs]) if bs else NONE)
            for m, n, bm, bs in zip(t.months, t.images, t.top_model, t.top_sampler)]
    sections.append(("trends", "Trends", _section(
        "trends", "Trends by month", _img(plots, "trends", "Trends by month")
        + _html_table(["Month", "images", "top model", "top sampler"], rows),
        "By created_at: the date the image was made (EXIF/PNG time, else the file's modification time).")))

    h = analysis.habits
    habits = _img(plots, "habits", "Weekday and hour") + '<div class="grid"><div>' + _html_table(
        ["Weekday", "images"], list(zip(WEEKDAYS, h.weekday))) + "</div><div>" + _html_table(
        ["Hour", "images"], [(f"{i:02d}", n) for i, n in enumerate(h.hour)]) + "</div></div>"
    sections.append(("habits", "Habits", _section("habits", "Weekday and hour", habits)))

    cov = analysis.coverage
    cov_rows = [(r.generator, r.status, r.images, *(n for _, n in r.by_format)) for r in cov.rows]
    fields_rows = [(r.generator, r.images, *(f"{100 * n / r.images:.0f}%" for _, n in r.filled))
                   for r in cov.rows if r.status == "ok" and r.images]
    field_names = [name for name, _ in cov.rows[0].filled] if cov.rows else []
    cov_html = (_img(plots, "coverage", "Parse coverage")
                + _html_table(["Generator", "status", "images", *cov.formats], cov_rows)
                + "<h3>Fields found (share of parsed images)</h3>"
                + _html_table(["Generator", "images", *field_names], fields_rows))
    sections.append(("coverage", "Coverage", _section(
        "coverage", "Parse coverage", cov_html,
        "What the parsers understood, per generator and file format. '(none)' are files without "
        "recognised generation data.")))

    if analysis.camera.images:
        cam = "".join(f"<div>{_counts_block(c, {}, '', limit=15)}</div>" for c in analysis.camera.fields)
        sections.append(("camera", "Camera photos", _section(
            "camera", "Camera photos", _img(plots, "camera", "Camera photos") + f'<div class="grid">{cam}</div>',
            f"{_n(analysis.camera.images)} ordinary photos (no generation data, EXIF names a camera).")))

    if analysis.comparison is not None:
        c = analysis.comparison
        comp = _img(plots, "comparison", "Comparison")
        for name, rows in c.parameters:
            table_rows = [(v, na, f"{100 * na / c.images_a:.1f}%" if c.images_a else "-",
                           nb, f"{100 * nb / c.images_b:.1f}%" if c.images_b else "-") for v, na, nb in rows]
            comp += f"<h3>{_e(name)}</h3>" + _html_table([name, "A", "A %", "B", "B %"], table_rows)
        sections.append(("comparison", "Comparison", _section(
            "comparison", "Comparison", comp,
            f"A = {c.label_a} ({_n(c.images_a)} images); B = {c.label_b} ({_n(c.images_b)} images).")))

    nav = "".join(f'<a href="#{_e(anchor)}">{_e(title)}</a>' for anchor, title, _ in sections)
    body = "".join(s for _, _, s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>ExifData Analytics report</title><style>{_CSS}</style></head><body>"
        f"<header><h1>ExifData Analytics report</h1>"
        f"<p>{_n(analysis.images)} images from {_e(analysis.db_path)}</p>"
        f"<p>Generated {_e(generated.strftime('%Y-%m-%d %H:%M'))}; filters: {_e(o.filters.describe())}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )


def write_html_report(analysis: Analysis, plots: Mapping[str, Path], out_dir: Path) -> Path:
    prepare_output_dir(out_dir)
    return _write(out_dir / HTML_REPORT, format_html(analysis, plots))
