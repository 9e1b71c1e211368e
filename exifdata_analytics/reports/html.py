"""The HTML report: one self-contained page (every table, every chart embedded), all text from
the database and the user escaped."""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from ..analysis import Analysis, Counts, Examples, WEEKDAYS
from ..analysis.distributions import SMALL_SAMPLE
from ..analysis.model_cards import ModelCard
from .files import prepare_output_dir, write_file
from .html_parts import (bar_cell, counts_table, e, example_cell, html_table, page_script, thumbnails,
                         thumbnails_block)
from .text import HTML_REPORT, NONE, format_count, habits_counted, pairs_inline, trends_dated_by
from .text import (LORA_REPORT, NEGATIVE_TAGS_REPORT, NEGATIVE_WORDS_REPORT, PARAMETER_REPORT, PROMPT_TAGS_REPORT,
                   PROMPT_WORDS_REPORT)
from .text import DISTRIBUTIONS_REPORT, format_stat
from .text import fps_text, play_time, videos_summary
from .text import (CO_USE_REPORT, MODEL_CARDS_REPORT, co_use_notes, pair_row, percent,
                   sampler_label)
from .label_text import (FINDING_HEADERS, LABEL_REPORT, finding_rows, label_summary, method_note, model_summary,
                         plain_words, small_sample_warning)

logger = logging.getLogger(__name__)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:24px}
header p{margin:2px 0;opacity:.9}
nav{position:sticky;top:0;z-index:5;padding:10px 28px;background:#e8edf3;font-size:14px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
nav a{margin-right:14px;color:#1f3a5f;white-space:nowrap;line-height:1.9}
section{scroll-margin-top:64px}
th[tabindex]{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
input.filter{display:block;margin:6px 0 2px;padding:4px 8px;width:min(320px,100%);border:1px solid #c5ccd6;border-radius:5px}
td.bar{width:160px;min-width:80px}
td.bar i{display:block;height:10px;background:#4a78b5;border-radius:2px}
td.ex{white-space:nowrap}
img.ex{width:auto;height:48px;max-width:72px;margin:0 3px 0 0;border:1px solid #d5dae1;vertical-align:middle}
img.ex:hover{height:96px;max-width:none}
.order{margin:4px 0}
.order button{margin-right:6px;padding:2px 8px;border:1px solid #c5ccd6;border-radius:4px;background:#fff;cursor:pointer}
.block{overflow-x:auto}
main{padding:8px 28px 40px;max-width:1600px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:18px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{margin-top:4px;color:#1f3a5f}
h3{margin-bottom:6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border-bottom:1px solid #e3e6ea;padding:3px 10px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f3f7}
img{max-width:100%;height:auto;border:1px solid #e3e6ea;margin:6px 0}
.grid{display:flex;flex-wrap:wrap;gap:24px}
.grid>div{flex:1 1 640px;min-width:320px}
.muted{color:#67727e;font-size:13px}
code{background:#f0f3f7;padding:1px 4px;border-radius:3px}
"""


_e = e
_html_table = html_table


def _img(plots: Mapping[str, Path], key: str, alt: str) -> str:
    path = plots.get(key)
    if path is None or not Path(path).exists():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


@dataclass(frozen=True)
class PageExamples:
    """The example thumbnails of one page: which images for which value, their data URIs and prompts."""
    examples: Examples = Examples()
    thumbs: Mapping[int, str] = field(default_factory=dict)
    prompts: Mapping[int, str] = field(default_factory=dict)
    note: str = ""


def _counts_block(counts: Counts, plots: Mapping[str, Path], key: str, unit: str = "images", source: str = "",
                  ex: PageExamples = PageExamples(), parameter: Optional[str] = None) -> str:
    if not counts.items:  # its chart only says "no values"
        return f'<div class="block"><h3>{_e(counts.name)}</h3><p class="muted">No values.</p></div>'
    table = counts_table(counts, ex.examples, ex.thumbs, ex.prompts, unit, source, parameter)
    return f'<div class="block"><h3>{_e(counts.name)}</h3>{_img(plots, key, counts.name)}{table}</div>'



def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="muted">{_e(note)}</p>' if note else ""
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>{note_html}{body}</section>'


def _topics_section(analysis: Analysis, plots: Mapping[str, Path]) -> str:
    topics = analysis.topics
    if not topics.themes:
        return _section("topics", "Themes of the prompts", "", f"None: {topics.chosen_by}.")
    models = {c.number: c.top_models for c in analysis.topic_context}
    rows = [(t.number, ", ".join(t.words[:8]), t.images, f"{100 * t.share:.1f}%", pairs_inline(t.tags[:5]),
             pairs_inline(models.get(t.number, ()))) for t in topics.themes]
    return _section("topics", "Themes of the prompts",
                    _img(plots, "topics", "Themes by month")
                    + _html_table(["Theme", "Words", "images", "share", "top tags", "top models"], rows),
                    f"{len(topics.themes)} themes in {format_count(topics.prompts)} prompts ({topics.chosen_by}).")


def _distributions_section(analysis: Analysis, plots: Mapping[str, Path]) -> str:
    """Numeric parameters by value: the chart, the statistics table, each parameter's values or bins."""
    dists = analysis.distributions
    rows = [(d.name, d.source, d.images, d.without, d.left_out,
             *(format_stat(v) if v is not None else "" for v in (d.minimum, d.q1, d.median, d.q3, d.maximum, d.mean)))
            for d in dists]
    table = _html_table(["Parameter", "from", "images", "without", "left out", "min", "Q1", "median", "Q3", "max",
                         "mean"], rows)
    blocks = "".join(f"<div><h3>{_e(d.name)}</h3>"
                     + _html_table(["bin" if d.binned else "value", "images"], [(v.label, v.images) for v in d.values])
                     + "</div>" for d in dists if d.values)
    few = [d.name for d in dists if d.small_sample]
    note = (f"Quartiles by numpy's 'linear' method; values that cannot be settings are left out and counted "
            f"({DISTRIBUTIONS_REPORT} has the rules)."
            + (f" Fewer than {SMALL_SAMPLE} images, rough quartiles: {', '.join(few)}." if few else ""))
    return _section("distributions", "Numeric parameters by value",
                    _img(plots, "distributions", "Numeric parameters by value") + table
                    + f'<div class="grid">{blocks}</div>', note)


def _quartiles(card: ModelCard, prefix: str) -> str:
    """'7 (6–7.5)': median (Q1–Q3), 'rough' on few images."""
    if not getattr(card, f"{prefix}_images"):
        return ""
    q1, median, q3 = (format_stat(getattr(card, f"{prefix}_{q}")) for q in ("q1", "median", "q3"))
    return f"{median} ({q1}–{q3})" + (", rough" if prefix in card.small_sample else "")


def _most_used(card: ModelCard, items: Sequence, label: Callable) -> str:
    return f"{label(items[0])} ({percent(items[0].images / card.images)})" if items else ""


def _model_cards_section(analysis: Analysis, plots: Mapping[str, Path]) -> str:
    """The most used models' cards as one table, with the chart of their CFG and steps."""
    rows = [(card.model, card.images, percent(card.share), card.first_used or "", card.last_used or "",
             *(_quartiles(card, prefix) for prefix in ("cfg", "steps", "denoise")),
             _most_used(card, card.top_samplers, lambda u: sampler_label(u.sampler, u.schedule)),
             _most_used(card, card.sizes, lambda u: f"{u.size} {u.aspect_ratio}".rstrip()),
             _most_used(card, card.vaes, lambda u: u.name), _most_used(card, card.loras, lambda u: u.name))
            for card in analysis.model_cards]
    body = _img(plots, "model_cards", "Usual settings per model") if rows else ""
    body += _html_table(["Model", "images", "share", "first used", "last used", "CFG scale", "Steps",
                         "Denoising", "top sampler", "top size", "top VAE", "top LoRA"],
                        rows) if rows else '<p class="muted">No image names a model.</p>'
    return _section("model-cards", "Model cards", body,
                    "Each model's usual settings: share of the images that name a model; first and last use by "
                    "created_at; CFG scale, steps and denoising strength as median (Q1–Q3) over the values that "
                    f"can be settings, 'rough' under {SMALL_SAMPLE} images; the most used sampler, size, VAE and "
                    f"LoRA with their share of the model's images. {MODEL_CARDS_REPORT} has every model, with "
                    "their date sources, LoRA weights and generators.")


def _co_use_section(analysis: Analysis) -> str:
    """The pairs of each kind that stand out, and those always used together."""
    co = analysis.co_use
    if co is None:
        return ""
    body = ""
    for table in (co.lora_model, co.lora_lora, co.tags):
        a, b = table.a_name, table.b_name + (" 2" if table.a_name == table.b_name else "")
        headers = [a, b, "both", f"with {a}", f"with {b}", "lift", "lift low", f"{a}→{b}", f"{b}→{a}", "*"]
        body += (f"<h3>{_e(table.a_name)} + {_e(table.b_name)}</h3>"
                 f"<p class=\"muted\">n = {format_count(table.images)} images; {format_count(table.supported)} "
                 "pairs meet the support, "
                 f"{format_count(table.standing_out)} stand{'s' if table.standing_out == 1 else ''} out.</p>")
        body += _html_table(headers, [pair_row(p) for p in table.pairs]) if table.pairs else ""
        if table.always:
            body += "<p>Always together (one never used without the other):</p>" + _html_table(
                headers, [pair_row(p) for p in table.always])
    note = " ".join(co_use_notes(co))
    return _section("co-use", "Co-use", body, f"{note} ({CO_USE_REPORT} has more pairs.)")
def _labels_section(analysis: Analysis, plots: Mapping[str, Path]) -> str:
    """--label-by: the labels, the findings in words, the table of findings, the model."""
    la = analysis.label_analysis
    paragraphs = [*label_summary(la), small_sample_warning(la)]
    body = "".join(f"<p>{_e(line)}</p>" for line in paragraphs if line)
    words = plain_words(la)
    if words:
        body += "<h3>In plain words</h3><ul>" + "".join(f"<li>{_e(w.lstrip('- '))}</li>" for w in words) + "</ul>"
    body += _img(plots, "labels", "Label findings and model")
    body += f"<h3>Findings</h3>{_html_table(FINDING_HEADERS, finding_rows(la.findings))}"
    body += "<h3>Model</h3>" + "".join(f"<p>{_e(line)}</p>" for line in model_summary(la.model))
    if la.model.importances:
        body += _html_table(["field", "importance (ROC-AUC drop)", "±"],
                            [(i.field, f"{i.importance:.4f}", f"{i.std:.4f}") for i in la.model.importances])
    return _section("labels", "Labels and keepers", body, method_note(la) + f" All cells: {LABEL_REPORT}.")


def format_html(analysis: Analysis, plots: Mapping[str, Path], generated: Optional[datetime] = None,
                thumbs: Optional[Mapping[int, str]] = None, missing_thumbs: int = 0) -> str:
    """One self-contained page: every table, every chart embedded as base64 PNG, the example
    thumbnails (``thumbs``: image id -> data URI) inlined, all text from the database and the
    user escaped; its own script makes the tables sortable and filterable."""
    generated = generated or datetime.now()
    o = analysis.options
    thumbs = dict(thumbs or {})
    note = ""
    if analysis.examples.by_value:
        note = (f" Example images: up to {o.examples} for each of the top values."
                + (f" {format_count(missing_thumbs)} could not be shown (moved, deleted or not an image)."
                   if missing_thumbs else ""))
    ex = PageExamples(analysis.examples, thumbs, {i.id: i.prompt or "" for i in analysis.examples.images}, note)
    sections: list[tuple[str, str, str]] = []  # (anchor, nav title, html)

    # summary
    summary_rows = [
        ("Database", analysis.db_path),
        ("Rows in the database", format_count(analysis.total_rows)),
        ("Filters", o.filters.describe()),
        ("Rows matching the filters", format_count(analysis.matching_rows)),
        ("Duplicate copies counted once (same sha256)",
         format_count(analysis.duplicates_dropped) if o.dedupe else "off (every file counted)"),
        ("Images analysed", format_count(analysis.images)),
        ("Images with a prompt", format_count(analysis.with_prompt)),
    ]
    sections.append(("summary", "Summary", _section("summary", "Summary", _html_table(["", ""], summary_rows))))

    params = "".join(_counts_block(c, plots, 'param:' + c.name, source=PARAMETER_REPORT, ex=ex)
                     for c in analysis.parameters)
    sections.append(("parameters", "Parameters", _section(
        "parameters", "Parameters", f'<div class="grid">{params}</div>',
        "Images per value; click a column to sort, type to filter; the bar's share and an example's prompt "
        "show on hover. Empty values are not counted." + ex.note)))
    sections.append(("distributions", "By value", _distributions_section(analysis, plots)))
    sections.append(("topics", "Themes", _topics_section(analysis, plots)))

    if analysis.keywords:
        rows = [(k.keyword, k.count, pairs_inline(k.top_models), pairs_inline(k.top_samplers))
                for k in analysis.keywords]
        kw = _img(plots, "keywords", "Keyword counts") + _html_table(
            ["Keyword", "Images", f"Top {o.top_models} models", f"Top {o.top_samplers} samplers"], rows)
    else:
        kw = '<p class="muted">No keywords were given.</p>'
    sections.append(("keywords", "Keywords", _section(
        "keywords", "Keywords", kw, "Images whose prompt contains the keyword as a whole word or phrase "
                                    "(case-insensitive).")))

    words = "".join(_counts_block(c, plots, key, unit=unit, source=source) for c, key, unit, source in (
        (analysis.prompt_words, "words:prompt", "count", PROMPT_WORDS_REPORT),
        (analysis.negative_words, "words:negative", "count", NEGATIVE_WORDS_REPORT),
        (analysis.prompt_tags, "tags:prompt", "images", PROMPT_TAGS_REPORT),
        (analysis.negative_tags, "tags:negative", "images", NEGATIVE_TAGS_REPORT)))
    tfidf = _img(plots, "tfidf", "TF-IDF") + _html_table(["Term", "summed TF-IDF"],
                                                         [(t, f"{s:.3f}") for t, s in analysis.tfidf])
    sections.append(("prompts", "Prompts", _section(
        "prompts", "Prompts", f'<div class="grid">{words}</div><h3>TF-IDF</h3>{tfidf}',
        "Words are counted per occurrence, tags (comma-separated, weights and brackets removed) once per image. "
        "LoRAs and embeddings are resources, not words.")))

    lora = analysis.lora
    lora_rows = [(s.name, s.images, "" if s.mean_weight is None else f"{s.mean_weight:.2f}") for s in lora.loras]
    lora_total = max(1, lora.images_with_lora)
    lora_extra = [bar_cell(s.name, s.images, lora_total) + example_cell(ex.examples.ids_for("LoRA", s.name),
                                                                          ex.thumbs, ex.prompts) for s in lora.loras]
    body = _img(plots, "lora", "LoRA usage") + _html_table(["LoRA", "images", "mean weight"], lora_rows, LORA_REPORT,
                                                           lora_extra)
    body += "<h3>LoRA + Model</h3>" + _html_table(["LoRA", "Model", "images"], lora.by_model, LORA_REPORT)
    for other in lora.other:
        body += f"<h3>{_e(other.name)}</h3>" + _html_table([other.name, "images"], other.items)
    sections.append(("resources", "LoRAs", _section(
        "resources", "LoRAs and other resources", body,
        f"{format_count(lora.images_with_lora)} of {format_count(analysis.images)} images use at least one LoRA.")))

    sections.append(("model-cards", "Model cards", _model_cards_section(analysis, plots)))
    if analysis.co_use is not None:
        sections.append(("co-use", "Co-use", _co_use_section(analysis)))

    combos = ""
    for tab, key in ((analysis.model_sampler, "heat:model_sampler"), (analysis.sampler_cfg, "heat:sampler_cfg")):
        combos += (f"<h3>{_e(tab.row_name)} + {_e(tab.col_name)}</h3>" + _img(plots, key, f"{tab.row_name} x {tab.col_name}")
                   + _html_table([tab.row_name, tab.col_name, "images"], tab.pairs))
    sections.append(("combinations", "Combinations", _section("combinations", "Combinations", combos)))

    t = analysis.trends
    rows = [(m, n, pairs_inline([bm]) if bm else NONE, pairs_inline([bs]) if bs else NONE)
            for m, n, bm, bs in zip(t.months, t.images, t.top_model, t.top_sampler)]
    sections.append(("trends", "Trends", _section(
        "trends", "Trends by month", _img(plots, "trends", "Trends by month")
        + _html_table(["Month", "images", "top model", "top sampler"], rows),
        " ".join(["By created_at, when the image was made: a date in the file (EXIF, XMP, PNG), a time the "
                  "generator recorded, a date in the file or folder name, else the file's modification time.",
                  *(line + "." for line in trends_dated_by(t))]))))

    h = analysis.habits
    habits = _img(plots, "habits", "Weekday and hour") + '<div class="grid"><div>' + _html_table(
        ["Weekday", "images"], list(zip(WEEKDAYS, h.weekday))) + "</div><div>" + _html_table(
        ["Hour", "images"], [(f"{i:02d}", n) for i, n in enumerate(h.hour)]) + "</div></div>"
    sections.append(("habits", "Habits", _section("habits", "Weekday and hour", habits,
                                                  " ".join(line + "." for line in habits_counted(h)))))

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

    st = analysis.stages
    if st.multi_pass:
        later = [(p.role, p.images, ", ".join(f"{m} ({n})" for m, n in p.models),
                  ", ".join(f"{m} ({n})" for m, n in p.samplers),
                  "-" if p.steps_median is None else p.steps_median, "-" if p.denoise_median is None else p.denoise_median)
                 for p in st.later_passes]
        sections.append(("stages", "Generation stages", _section(
            "stages", "Generation stages",
            _html_table(["Pipeline", "images"], [(p.roles, p.images) for p in st.pipelines])
            + "<h3>Later passes</h3>"
            + _html_table(["Role", "images", "models", "samplers", "median steps", "median denoise"], later),
            f"{format_count(st.multi_pass)} of {format_count(st.images)} images were made in more than one sampler "
            "pass. A later pass by a detailer node (FaceDetailer, DetailerForEach) is a detailer, one with another "
            "model a refiner (SDXL refiner, Wan 2.2's low-noise expert), one with the same model a hires pass.")))

    vid = analysis.videos
    if vid.moving:
        formats = [(f.format, f.kind, f.files, play_time(f.play_time_s), play_time(f.median_duration_s),
                    fps_text(f.median_frame_rate))
                   for f in vid.formats]
        made_with = [(c.name, pairs_inline(c.top(5)))
                     for c in (vid.generators, vid.models, vid.samplers, vid.sizes)]
        sections.append(("videos", "Videos", _section(
            "videos", "Videos and animations",
            _html_table(["Format", "kind", "files", "play time", "median", "median fps"], formats)
            + '<div class="grid"><div>' + _html_table(["Play time", "files"], vid.durations) + "</div><div>"
            + _html_table(["fps", "files"], [(fps_text(r), n) for r, n in vid.frame_rates[:10]]) + "</div></div>"
            + _html_table(["Made with", "most used"], made_with),
            f"{videos_summary(vid)} {play_time(vid.play_time_s)} of play time in all.")))

    if analysis.camera.images:
        cam = "".join(f"<div>{_counts_block(c, {}, '')}</div>" for c in analysis.camera.fields)
        sections.append(("camera", "Camera photos", _section(
            "camera", "Camera photos", _img(plots, "camera", "Camera photos") + f'<div class="grid">{cam}</div>',
            f"{format_count(analysis.camera.images)} ordinary photos (no generation data, EXIF names a camera).")))

    if analysis.comparison is not None:
        c = analysis.comparison
        comp = _img(plots, "comparison", "Comparison")
        for name, rows in c.parameters:
            table_rows = [(v, na, f"{100 * na / c.images_a:.1f}%" if c.images_a else "-",
                           nb, f"{100 * nb / c.images_b:.1f}%" if c.images_b else "-") for v, na, nb in rows]
            comp += f"<h3>{_e(name)}</h3>" + _html_table([name, "A", "A %", "B", "B %"], table_rows)
        sections.append(("comparison", "Comparison", _section(
            "comparison", "Comparison", comp,
            f"A = {c.label_a} ({format_count(c.images_a)} images); B = {c.label_b} ({format_count(c.images_b)} images).")))

    if analysis.label_analysis is not None:
        sections.append(("labels", "Labels", _labels_section(analysis, plots)))

    nav = "".join(f'<a href="#{_e(anchor)}">{_e(title)}</a>' for anchor, title, _ in sections)
    body = "".join(s for _, _, s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>ExifData Analytics report</title><style>{_CSS}</style></head><body>"
        f"<header><h1>ExifData Analytics report</h1>"
        f"<p>{format_count(analysis.images)} images from {_e(analysis.db_path)}</p>"
        f"<p>Generated {_e(generated.strftime('%Y-%m-%d %H:%M'))}; filters: {_e(o.filters.describe())}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>{thumbnails_block(thumbs)}{page_script()}</body></html>\n"
    )


def write_html_report(analysis: Analysis, plots: Mapping[str, Path], out_dir: Path,
                      thumbnail_dir: Optional[Path] = None) -> Path:
    """report.html; the example thumbnails are made (or read from ``thumbnail_dir``'s cache) here."""
    prepare_output_dir(out_dir)
    thumbs, missing = thumbnails(analysis.examples, thumbnail_dir)
    return write_file(out_dir / HTML_REPORT, format_html(analysis, plots, thumbs=thumbs, missing_thumbs=missing))
