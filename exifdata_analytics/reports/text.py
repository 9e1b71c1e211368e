"""parameter_statistic's text reports, in the original's formats.

Formatting only: every number comes from an ``analysis.Analysis``. The five reports of the
original keep its layouts exactly (as its README documents them):

* ``keyword_analysis.txt``  ``Keyword: …`` / ``Count: …`` / ``Top Models: …`` / ``Top Samplers: …``
* ``prompt_word_counts.txt`` and ``negative_prompt_word_counts.txt``  ``Analysis for … words:``
  then ``word: count``
* ``parameter_counts.txt``  ``Analysis for Sampler:`` blocks laid out as pandas prints a
  value count (name line, then value and count columns)
* ``tfidf_analysis.txt``  ``TF-IDF Analysis of Prompts:`` then ``term: score``

The further reports use the same ``Analysis for …:`` / ``name: count`` style.
"""
from __future__ import annotations

import logging
from typing import Iterable, Sequence

from ..analysis import (UNRECORDED, VIA_MTIME, WEEKDAYS, Analysis, CameraStats, Comparison, Counts, CrossTab, Habits,
                        LoraUsage, SourceCounts, StageStats, Trends, VideoStats)
from ..analysis.counts import format_number
from ..analysis.co_use import CoUse, Pair, PairTable
from ..analysis.distributions import FAR_OUT, NUMERIC_PARAMETERS, SIDE_PX, SMALL_SAMPLE, Distribution
from ..analysis.model_cards import QUARTILE_PARAMETERS, ModelCard
from ..analysis.topics import ThemeContext, Topics
from ..coverage import CoverageTable
from ..texttable import table_lines
from .label_text import LABEL_REPORT, format_label_analysis

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
STAGES_REPORT = "generation_stages.txt"
VIDEOS_REPORT = "videos.txt"
COMPARISON_REPORT = "comparison.txt"
DISTRIBUTIONS_REPORT = "parameter_distributions.txt"
TOPICS_REPORT = "prompt_topics.txt"
MODEL_CARDS_REPORT = "model_cards.txt"
CO_USE_REPORT = "co_usage.txt"
HTML_REPORT = "report.html"

ORIGINAL_REPORTS = (KEYWORD_REPORT, PROMPT_WORDS_REPORT, NEGATIVE_WORDS_REPORT, PARAMETER_REPORT, TFIDF_REPORT)

NONE = "(none)"


# -- the original's five reports ---------------------------------------------------------

def pairs_inline(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in items) if items else NONE


def format_keyword_analysis(analysis: Analysis) -> str:
    if not analysis.keywords:
        return ("No keywords were given: pass --keywords \"a, b\" or --keywords-file FILE, "
                "or list them in keywords.txt.\n")
    blocks = []
    for k in analysis.keywords:
        blocks.append(f"Keyword: {k.keyword}\n"
                      f"Count: {k.count}\n"
                      f"Top Models: {pairs_inline(k.top_models)}\n"
                      f"Top Samplers: {pairs_inline(k.top_samplers)}\n")
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

def format_count(value: int) -> str:
    return f"{value:,}"


def _images(count: int) -> str:
    return f"{count:,} image" + ("" if count == 1 else "s")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> list[str]:
    """Fixed-width columns; the first ``left`` columns left-aligned, the rest right-aligned."""
    return table_lines([str(h) for h in headers], [[str(c) for c in r] for r in rows],
                       numeric=range(left, len(headers)))


def format_lora_usage(lora: LoraUsage, images: int) -> str:
    lines = [f"Analysis for LoRAs ({format_count(lora.images_with_lora)} of {format_count(images)} images use at least one):"]
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


# the date sources as a reader calls them
_SOURCE_NAMES = {"file_name": "file name", UNRECORDED: "not recorded"}


def sources_inline(counts: SourceCounts) -> str:
    """'embedded 4, file name 1, mtime 2': images per source of their date."""
    def name(source: str) -> str:
        base, via, _ = source.partition(VIA_MTIME)
        return _SOURCE_NAMES.get(base, base) + via
    return ", ".join(f"{name(source)} {format_count(n)}" for source, n in counts) if counts else NONE


def _source_notes(counts: SourceCounts) -> list[str]:
    names = {source.partition(VIA_MTIME)[0] for source, _ in counts}
    notes = []
    if any(VIA_MTIME in source for source, _ in counts):
        notes.append('"+ mtime": the day from that source, the hour from the file\'s modification time on that day')
    if UNRECORDED in names:
        notes.append("not recorded: indexed before dates had sources; DB_filler.py --reparse records them")
    return notes


def trends_dated_by(trends: Trends) -> list[str]:
    """Which sources dated the images of the trends."""
    if not trends.sources:
        return []
    return [f"Dated by: {sources_inline(trends.sources)}", *_source_notes(trends.sources)]


def habits_counted(habits: Habits) -> list[str]:
    """Which images the habits count, which they leave out and why."""
    lines = []
    if habits.sources:
        lines.append(f"Counted: {_images(habits.images)} with a time of day, dated by: {sources_inline(habits.sources)}")
        if habits.mtime_only:
            lines.append(f"Of these, {format_count(habits.mtime_only)} dated only by the file's modification time "
                         "(mtime), which a copy or a restore changes")
    if habits.date_only:
        lines.append(f"Left out for lack of a time of day: {_images(habits.left_out)}, dated by: "
                     f"{sources_inline(habits.date_only)}")
    if habits.undated:
        lines.append(f"Images without a usable date: {format_count(habits.undated)}")
    return lines + _source_notes(habits.sources + habits.date_only)


def format_trends(trends: Trends) -> str:
    lines = ["Images per month (by created_at):"]
    lines += [f"{m}: {n}" for m, n in zip(trends.months, trends.images)]
    if trends.undated:
        lines.append(f"(no date: {trends.undated})")
    lines += trends_dated_by(trends)
    lines += ["", "Top model per month:"]
    lines += [f"{m}: {pairs_inline([best])}" for m, best in zip(trends.months, trends.top_model) if best]
    lines += ["", "Top sampler per month:"]
    lines += [f"{m}: {pairs_inline([best])}" for m, best in zip(trends.months, trends.top_sampler) if best]
    lines += [""] + _legend_table("Most used models per month (images):", trends.months, trends.models)
    lines += [""] + _legend_table("Most used samplers per month (images):", trends.months, trends.samplers)
    return "\n".join(lines) + "\n"


def format_habits(habits: Habits) -> str:
    lines = ["Images by weekday (by created_at; images with a time of day):"]
    lines += [f"{day}: {n}" for day, n in zip(WEEKDAYS, habits.weekday)]
    lines += ["", "Images by hour of day:"]
    lines += [f"{h:02d}: {n}" for h, n in enumerate(habits.hour)]
    counted = habits_counted(habits)
    if counted:
        lines += [""] + counted
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
    if coverage.unknown:
        lines += ["", "Sampler and schedule spellings the names tables do not know (counted as written; "
                      "add them to exifdata_analytics/names/samplers.csv or schedules.csv):"]
        lines += _table(["field", "spelling", "images"], [(u.field, u.spelling, u.images) for u in coverage.unknown],
                        left=2)
    if coverage.unread:
        lines += ["", "ComfyUI nodes whose values could not be read (a setting or the prompt was linked to them: "
                      "language-model text, or a node the parser does not know yet):"]
        lines += _table(["node class", "images"], [(u.node_class, u.images) for u in coverage.unread], left=1)
    if coverage.disagreements:
        lines += ["", "ComfyUI save nodes whose A1111-style text disagrees with the graph (the graph's values are "
                      "kept; the text's are in params_json under 'infotext'):"]
        lines += _table(["field", "images"], [(d.field, d.images) for d in coverage.disagreements], left=1)
    return "\n".join(lines) + "\n"


def format_stages(stages: StageStats) -> str:
    lines = [f"Images made in more than one sampler pass: {format_count(stages.multi_pass)} of "
             f"{format_count(stages.images)} ({100 * stages.share:.1f}%).",
             "Each pass is a stage. The first is the one every other report counts; a later pass by a detailer",
             "node (FaceDetailer, DetailerForEach) is a 'detailer', one with another model a 'refiner' (an SDXL",
             "refiner, Wan 2.2's low-noise expert), one with the same model a 'hires' pass (denoise below 1, or",
             "an upscaled latent), else a 'pass'.", "", "Pipelines:"]
    lines += _table(["stages", "images", "share"], [(p.roles, p.images, f"{100 * p.images / stages.multi_pass:.1f}%")
                                                   for p in stages.pipelines])
    for later in stages.later_passes:
        lines += ["", f"Later passes, {later.role}: {format_count(later.images)} images; median steps "
                      f"{format_number(later.steps_median) if later.steps_median is not None else '-'}, median denoise "
                      f"{format_number(later.denoise_median) if later.denoise_median is not None else '-'}"]
        lines += ["  models: " + (", ".join(f"{name} ({n})" for name, n in later.models) or NONE),
                  "  samplers: " + (", ".join(f"{name} ({n})" for name, n in later.samplers) or NONE)]
    return "\n".join(lines) + "\n"


def play_time(seconds: float | None) -> str:
    """12.5 -> '12.5 s'; 3725 -> '1 h 02 min 05 s'."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{format_number(round(seconds, 2))} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s")


def fps_text(rate: float | None) -> str:
    """Frames per second to 0.01 as written ('8', '23.98'); '-' for none."""
    return "-" if rate is None else format_number(round(rate, 2))


def videos_summary(videos: VideoStats) -> str:
    """The first sentence of the videos report (and of the HTML section)."""
    return (f"Videos and animations: {format_count(videos.moving)} of {format_count(videos.images)} images "
            f"({100 * videos.share:.1f}%): {format_count(videos.videos)} video files (MP4, MOV, WebM, MKV) and "
            f"{format_count(videos.animations)} animations (GIF, WebP, APNG with more than one frame).")


def format_videos(videos: VideoStats) -> str:
    lines = [videos_summary(videos), "",
             f"Play time: {play_time(videos.play_time_s)} in all; median {play_time(videos.median_duration_s)}, "
             f"shortest {play_time(videos.shortest_s)}, longest {play_time(videos.longest_s)} "
             f"({format_count(videos.with_duration)} files record a play time).", ""]
    lines += _table(["format", "kind", "files", "with play time", "play time", "median", "median fps"],
                    [(f.format, f.kind, f.files, f.with_duration, play_time(f.play_time_s),
                      play_time(f.median_duration_s), fps_text(f.median_frame_rate)) for f in videos.formats], left=2)
    lines += ["", "Play time:"] + _table(["play time", "files"], videos.durations)
    lines += ["", "Frame rates (frames per second; a video track's, or an animation's frames over its play time):"]
    lines += _table(["fps", "files"], [(fps_text(r), n) for r, n in videos.frame_rates]) if videos.frame_rates else [NONE]
    lines += ["", f"Frame counts: {format_count(videos.with_frame_count)} files record one (GIF, APNG; video "
                  "containers do not)" + (f"; median {format_number(videos.median_frames)}, most "
                                          f"{format_count(videos.most_frames)}." if videos.with_frame_count else ".")]
    for counts in (videos.generators, videos.models, videos.samplers, videos.sizes):
        lines += ["", f"{counts.name}s of the videos and animations: " + pairs_inline(counts.top(10))]
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


def format_stat(value: float) -> str:
    """A statistic at three decimals, written as the generators write numbers (7, 7.25)."""
    return format_number(round(value, 3))


def _text_bar(count: int, peak: int, width: int = 40) -> str:
    return "#" * (max(1, round(width * count / peak)) if count else 0)


def format_distribution(dist: Distribution) -> list[str]:
    """One parameter: the statistics line, what is missing or left out, then its values or
    bins in value order with their images and a bar."""
    lines = [f"Analysis for {dist.name} ({dist.source}):"]
    if not dist.images:
        lines.append("n 0 (no usable values)")
    else:
        lines.append(f"n {dist.images}  min {format_stat(dist.minimum)}  Q1 {format_stat(dist.q1)}  median {format_stat(dist.median)}  "
                     f"Q3 {format_stat(dist.q3)}  max {format_stat(dist.maximum)}  mean {format_stat(dist.mean)}")
    lines.append(f"without a value: {_images(dist.without)}; left out (cannot be a setting): {_images(dist.left_out)}")
    if dist.small_sample:
        lines.append(f"(fewer than {SMALL_SAMPLE} images: the quartiles are rough)")
    if dist.values:
        if dist.binned:
            lines.append(f"(bins of width {format_number(dist.bin_width)}, [low, high); values further than "
                         f"{format_number(FAR_OUT)} IQR from the quartiles in the open-ended bins)")
        peak = max(v.images for v in dist.values)
        rows = [[v.label, format_count(v.images), _text_bar(v.images, peak)] for v in dist.values]
        lines += table_lines(["bin" if dist.binned else "value", "images", ""], rows, numeric=(1,))
    return lines


def format_distributions(distributions: Sequence[Distribution]) -> str:
    ranges = ", ".join(f"{p.name} {format_number(p.low)}..{format_number(p.high)}" + (" whole" if p.integer else "")
                       for p in NUMERIC_PARAMETERS)
    lines = ["Numeric parameters along their value axis: n images with a usable value, quartiles by numpy's",
             "'linear' method (the median of an even count is the mean of the two middle values), mean.",
             f"Settings are {ranges};",
             f"sizes {SIDE_PX[0]}..{SIDE_PX[1]} px a side, whole. Other values (infinities too) are left out and",
             "counted; an empty value (NULL, NaN) is 'without a value'."]
    for dist in distributions:
        lines += [""] + format_distribution(dist)
    return "\n".join(lines) + "\n"


def format_topics(topics: Topics, context: Sequence[ThemeContext] = ()) -> str:
    """prompt_topics.txt: each theme's words, size, top tags, models and months."""
    if not topics.themes:
        return f"Themes in the prompts: none ({topics.chosen_by}).\n"
    lines = [f"Themes in the prompts: {len(topics.themes)} themes in {format_count(topics.prompts)} prompts "
             f"({topics.chosen_by}).",
             "Method: NMF on the prompts' TF-IDF (words in more than half of the prompts, in fewer than 3, "
             "and stop words left out); an image belongs to the theme that weighs most in its prompt."]
    if topics.without_theme:
        lines.append(f"{format_count(topics.without_theme)} prompts have none of the themes' words.")
    by_number = {c.number: c for c in context}
    for theme in topics.themes:
        lines += ["", f"Theme {theme.number}: {', '.join(theme.words)} "
                      f"({_images(theme.images)}, {100 * theme.share:.1f}%)"]
        lines.append(f"  top tags: {pairs_inline(theme.tags)}")
        extra = by_number.get(theme.number)
        if extra is not None:
            lines.append(f"  top models: {pairs_inline(extra.top_models)}")
            lines.append("  by month: " + (", ".join(f"{m} {n}" for m, n in extra.months) or NONE))
    return "\n".join(lines) + "\n"


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _uses(items: Sequence[tuple[str, int]], total: int) -> str:
    """'Euler a 120 (60.0%), DDIM 80 (40.0%)': images and share of ``total``."""
    return ", ".join(f"{name} {format_count(n)} ({percent(n / total)})" for name, n in items) or NONE


# card prefix -> the parameter's name in the reports
QUARTILE_NAMES = {"cfg": "CFG scale", "steps": "Steps", "denoise": "Denoising strength"}


def card_quartiles(card: ModelCard, prefix: str) -> str:
    """'7 (Q1 6.5, Q3 7.5; 120 images)', '(no values)', with ', rough' under ``SMALL_SAMPLE``."""
    n = getattr(card, f"{prefix}_images")
    if not n:
        return "(no values)"
    q1, median, q3 = (format_stat(getattr(card, f"{prefix}_{q}")) for q in ("q1", "median", "q3"))
    return f"{median} (Q1 {q1}, Q3 {q3}; {_images(n)}{', rough' if prefix in card.small_sample else ''})"


def sampler_label(sampler: str, schedule: str | None) -> str:
    return f"{sampler} / {schedule}" if schedule else sampler


def format_model_card(card: ModelCard) -> list[str]:
    sources = f" (dated by: {sources_inline(card.date_sources)})" if card.date_sources else ""
    used = f"{card.first_used} .. {card.last_used}{sources}" if card.first_used else "(no dated images)"
    loras = ", ".join(f"{s.name} {format_count(s.images)} ({percent(s.images / card.images)}"
                      + (f", weight {s.mean_weight:.2f})" if s.mean_weight is not None else ")") for s in card.loras)
    return [f"Model: {card.model}", f"Images: {format_count(card.images)} ({percent(card.share)})", f"Used: {used}",
            *(f"{QUARTILE_NAMES[prefix]}: {card_quartiles(card, prefix)}" for prefix, _ in QUARTILE_PARAMETERS),
            "Samplers: " + _uses([(sampler_label(u.sampler, u.schedule), u.images) for u in card.top_samplers],
                                 card.images),
            "Sizes: " + _uses([(f"{u.size} {u.aspect_ratio}".rstrip(), u.images) for u in card.sizes], card.images),
            "VAEs: " + _uses([(u.name, u.images) for u in card.vaes], card.images),
            f"LoRAs ({_images(card.images_with_lora)} with one): {loras or NONE}",
            "Generators: " + _uses([(u.name, u.images) for u in card.generators], card.images)]


def format_model_cards(cards: Sequence[ModelCard]) -> str:
    named = sum(c.images for c in cards)
    lines = ["Model cards: each model's usual settings, most used first.",
             f"Images and share: of the {_images(named)} that name a model. Used: the days of the earliest and",
             "latest created_at (dated by: where those dates came from). Quartiles by numpy's 'linear' method over",
             f"the values that can be settings ({DISTRIBUTIONS_REPORT} has the rules); rough: fewer than "
             f"{SMALL_SAMPLE} values.",
             "Samplers (with their schedule), sizes, VAEs, LoRAs, generators: the most used, images and share of",
             "the model's images."]
    for card in cards:
        lines += [""] + format_model_card(card)
    if not cards:
        lines += ["", "(no image names a model)"]
    return "\n".join(lines) + "\n"


CO_USE_SHOWN = 25


def pair_row(p: Pair) -> list[str]:
    return [p.a, p.b, format_count(p.both), format_count(p.a_images), format_count(p.b_images), f"{p.lift:.2f}",
            f"{p.lift_low:.2f}", percent(p.confidence_ab), percent(p.confidence_ba), "*" if p.stands_out else ""]


def pair_table(table: PairTable, pairs: Sequence[Pair]) -> list[str]:
    a, b = table.a_name, table.b_name + (" 2" if table.a_name == table.b_name else "")
    return _table([a, b, "both", f"with {a}", f"with {b}", "lift", "lift low", f"{a}->{b}", f"{b}->{a}", ""],
                  [pair_row(p) for p in pairs], left=2)


def format_pair_table(table: PairTable) -> list[str]:
    lines = [f"Analysis for {table.a_name} + {table.b_name} (n = {_images(table.images)}; "
             f"{table.supported:,} of {table.candidates:,} candidate pairs meet the support, "
             f"{table.standing_out:,} stand{'s' if table.standing_out == 1 else ''} out):"]
    if not table.pairs:
        return lines + [NONE]
    lines += pair_table(table, table.pairs[:CO_USE_SHOWN])
    if table.supported > CO_USE_SHOWN:
        lines.append(f"({table.supported - CO_USE_SHOWN:,} more pairs meet the support, ranked lower)")
    lines += ["", f"Always together ({table.a_name} + {table.b_name}: one never used without the other):"]
    lines += pair_table(table, table.always[:CO_USE_SHOWN]) if table.always else [NONE]
    return lines


def co_use_notes(co: CoUse) -> list[str]:
    """What the co-use numbers mean (the head of co_usage.txt and the note of the HTML section)."""
    return ["Co-use: pairs used together, ranked by lift (how many times as often as chance), not by frequency.",
            "For a pair A, B among n images: both = images with A and B; lift = both * n / (A * B);",
            "A->B = both / A (100%: A is never used without B). n: the images with at least one item of each side",
            "(LoRA + Model: images with a LoRA and a model; LoRA + LoRA: with a LoRA; Tag + Tag: with a prompt tag).",
            f"Support: items in at least {co.min_item_images} images, pairs in at least {co.min_pair_images}. "
            "Ranked by 'lift low', the lift's lower bound",
            f"(Wilson, on the rarer item's confidence) at {co.level:.0%} for all the candidate pairs of a kind "
            "together (Bonferroni);",
            "* marks pairs whose lower bound is above 1: used together more often than chance. Prompt tags: the "
            "most used only."]


def format_co_use(co: CoUse) -> str:
    lines = co_use_notes(co)
    for table in (co.lora_model, co.lora_lora, co.tags):
        lines += [""] + format_pair_table(table)
    return "\n".join(lines) + "\n"


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
        DISTRIBUTIONS_REPORT: format_distributions(analysis.distributions),
        TOPICS_REPORT: format_topics(analysis.topics, analysis.topic_context),
        MODEL_CARDS_REPORT: format_model_cards(analysis.model_cards),
    }
    if analysis.co_use is not None:
        reports[CO_USE_REPORT] = format_co_use(analysis.co_use)
    if analysis.camera.images:
        reports[CAMERA_REPORT] = format_camera(analysis.camera)
    if analysis.stages.multi_pass:
        reports[STAGES_REPORT] = format_stages(analysis.stages)
    if analysis.videos.moving:
        reports[VIDEOS_REPORT] = format_videos(analysis.videos)
    if analysis.comparison is not None:
        reports[COMPARISON_REPORT] = format_comparison(analysis.comparison)
    if analysis.label_analysis is not None:
        reports[LABEL_REPORT] = format_label_analysis(analysis.label_analysis)
    return reports
