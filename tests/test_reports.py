"""parameter_statistic's outputs: text reports against golden files, the original's layouts,
plots written as real PNGs, and the HTML report escaped (and rendered, when Chromium exists).

Regenerate the golden files after an intended format change with
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_reports.py`` and review the diff.
"""
from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from exifdata_analytics import analysis as A
from exifdata_analytics import db, plots, reports
from test_analysis import build_small_db, record, run

GOLDEN = Path(__file__).parent / "golden" / "statistic_small"
CHROMIUM = Path("/usr/bin/chromium")
# deterministic reports (the TF-IDF floats are compared separately, to 9 places)
GOLDEN_REPORTS = (
    "keyword_analysis.txt", "prompt_word_counts.txt", "negative_prompt_word_counts.txt", "parameter_counts.txt",
    "prompt_tag_counts.txt", "negative_prompt_tag_counts.txt", "lora_usage.txt", "combinations.txt",
    "trends.txt", "habits.txt", "coverage.txt", "camera_photos.txt", "comparison.txt", "parameter_distributions.txt", "prompt_topics.txt",
    "model_cards.txt", "co_usage.txt",
)


@pytest.fixture(scope="module")
def small_analysis(tmp_path_factory) -> A.Analysis:
    path = build_small_db(tmp_path_factory.mktemp("reports") / "small.db")
    return run(path, keywords=("cat", "long hair", "unicorn"), top_models=2, top_samplers=2,
               compare=("folder=/lib/a", "folder=/lib/b"))


def test_text_reports_match_the_golden_files(small_analysis):
    texts = reports.text_reports(small_analysis)
    assert set(reports.ORIGINAL_REPORTS) <= set(texts)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in GOLDEN_REPORTS:
            (GOLDEN / name).write_text(texts[name], encoding="utf-8", newline="\n")
        (GOLDEN / "tfidf_analysis.txt").write_text(texts["tfidf_analysis.txt"], encoding="utf-8", newline="\n")
    for name in GOLDEN_REPORTS:
        assert texts[name] == (GOLDEN / name).read_text(encoding="utf-8"), name
    golden_tfidf = _tfidf_lines((GOLDEN / "tfidf_analysis.txt").read_text(encoding="utf-8"))
    ours = _tfidf_lines(texts["tfidf_analysis.txt"])
    assert [t for t, _ in ours] == [t for t, _ in golden_tfidf]
    assert [s for _, s in ours] == pytest.approx([s for _, s in golden_tfidf], rel=1e-9)


def _tfidf_lines(text: str) -> list[tuple[str, float]]:
    lines = text.splitlines()
    assert lines[0] == "TF-IDF Analysis of Prompts:"
    return [(term, float(score)) for term, score in (line.rsplit(": ", 1) for line in lines[1:])]


def test_keyword_report_has_the_original_four_lines_per_keyword(small_analysis):
    text = reports.format_keyword_analysis(small_analysis)
    blocks = text.split("\n\n")
    assert len(blocks) == 3
    for block in blocks:
        lines = block.strip("\n").split("\n")
        assert [re.match(r"^(Keyword|Count|Top Models|Top Samplers): ", line).group(1) for line in lines] == [
            "Keyword", "Count", "Top Models", "Top Samplers"]
    assert blocks[0] == ("Keyword: cat\nCount: 3\nTop Models: dreamshaper_8 (2), sdxl_base (1)\n"
                         "Top Samplers: DPM++ 2M (1), Euler a (1)")


def test_parameter_counts_are_laid_out_as_pandas_prints_a_value_count():
    counts = A.Counts("Size", (("576x768", 149), ("768x768", 5), ("1024x1024", 3)))
    series = pd.Series([149, 5, 3], index=pd.Index(["576x768", "768x768", "1024x1024"], name="Size"))
    assert reports.format_value_counts(counts) == series.to_string()  # what the original wrote
    assert reports.format_parameter_counts([counts]).startswith("Analysis for Size:\nSize\n576x768      149\n")


def test_word_count_and_tfidf_reports_read_back_to_the_numbers(small_analysis):
    words = reports.format_word_counts(small_analysis.prompt_words).splitlines()
    assert words[0] == "Analysis for prompt words:"
    assert dict(line.rsplit(": ", 1) for line in words[1:]) == {w: str(c) for w, c in small_analysis.prompt_words.items}
    negative = reports.format_word_counts(small_analysis.negative_words).splitlines()
    assert negative[0] == "Analysis for negative prompt words:"
    scores = _tfidf_lines(reports.format_tfidf(small_analysis.tfidf))
    assert scores == [(t, s) for t, s in small_analysis.tfidf]  # repr round-trips floats exactly


def test_reports_are_written_as_utf8_files(small_analysis, tmp_path):
    written = reports.write_text_reports(small_analysis, tmp_path / "out")
    names = {p.name for p in written}
    assert set(reports.ORIGINAL_REPORTS) <= names and "comparison.txt" in names
    assert not list((tmp_path / "out").glob("*.tmp"))
    text = (tmp_path / "out" / "prompt_tag_counts.txt").read_text(encoding="utf-8")
    assert "hatsune miku (vocaloid): 1" in text


def test_empty_analysis_reports_say_so(tmp_path):
    path = tmp_path / "empty.db"
    db.connect(path).close()
    texts = reports.text_reports(run(path))
    assert texts["keyword_analysis.txt"].startswith("No keywords were given")
    assert texts["tfidf_analysis.txt"] == "TF-IDF Analysis of Prompts:\n"
    assert texts["parameter_counts.txt"].startswith("Analysis for Sampler:\nSampler\n\nAnalysis for CFG scale:")
    assert "camera_photos.txt" not in texts


# -- plots ------------------------------------------------------------------------------------

def test_every_plot_is_written_as_a_png_with_the_original_names(small_analysis, tmp_path):
    out = tmp_path / "plots"
    written = plots.write_plots(small_analysis, out)  # (with the helper process: test_cli_statistic)
    names = {p.name for p in written.values()}
    expected = {f"{name}_counts.png" for name, _ in A.PARAMETERS} | {
        "prompt words_counts.png", "negative prompt words_counts.png", "tfidf_analysis.png",
        "prompt tags_counts.png", "negative prompt tags_counts.png", "lora_usage.png", "model_sampler_heatmap.png",
        "sampler_cfg_heatmap.png", "trends_by_month.png", "weekday_hour.png", "parse_coverage.png",
        "keyword_counts.png", "camera_photos.png", "comparison.png", "parameter_distributions.png", "model_cards.png"}
    assert names == expected
    assert {p.name for p in out.iterdir()} == expected
    for path in written.values():
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            assert im.format == "PNG" and im.width >= 600 and im.height >= 250
            # a chart, not a blank canvas
            assert len(im.convert("RGB").getcolors(1 << 16) or range(1 << 16)) > 8, path.name


def test_charts_are_shared_evenly_between_the_two_processes(small_analysis):
    jobs = plots.plot_jobs(small_analysis)
    mine, theirs = plots._share(jobs)
    assert sorted(j.key for j in mine + theirs) == sorted(j.key for j in jobs)
    assert abs(sum(j.cost for j in mine) - sum(j.cost for j in theirs)) <= max(j.cost for j in jobs)


def test_bar_chart_draws_at_most_twenty_readable_bars():
    counts = A.Counts("Model", tuple((f"model_{i:02d}_" + "x" * 80, 100 - i) for i in range(30)))
    fig = plots.parameter_chart(counts)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 20 and labels[0].startswith("model_00_")
    assert all(len(label) <= plots.LABEL_CHARS for label in labels)  # long names shortened with …
    assert "top 20 of 30 values" in ax.get_title()


# -- HTML -------------------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory) -> tuple[Path, str]:
    """A report whose database and keywords carry markup: all of it must arrive as text."""
    tmp = tmp_path_factory.mktemp("html")
    path = tmp / "hostile.db"
    con = db.connect(path)
    db.write_batch(con, [
        (record(f"/h/{i}.png", sha256=f"{i:064d}", prompt=f"{HOSTILE}, <img src=x onerror=alert(1)>, cat & dog, "
                                                          f"tag{i % 3}",
                negative_prompt="bad & ugly", sampler="Euler <a>", cfg_scale=7.0, steps=20, width=512, height=512,
                model=f"{HOSTILE} & model", created_at=f"2024-0{1 + i % 3}-0{1 + i}T1{i}:00:00"), ())
        for i in range(6)])
    con.close()
    # as written: canonical names drop what looks like folders ('</script>'), these keep all the markup
    analysis = run(path, keywords=("cat", "<b>bold</b>"), raw_names=True)
    out = tmp / "out"
    drawn = plots.write_plots(analysis, out)
    html_path = reports.write_html_report(analysis, drawn, out)
    return html_path, html_path.read_text(encoding="utf-8")


def test_html_report_escapes_all_user_text(hostile_html):
    _, page = hostile_html
    from tests.test_robust_output import without_our_scripts

    html = without_our_scripts(page)
    assert "<script" not in html.lower()
    assert "<img src=x" not in html and "<b>bold" not in html and "Euler <a>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; model" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "Euler &lt;a&gt;" in html


def test_html_report_is_self_contained_with_every_chart_embedded(hostile_html):
    html_path, html = hostile_html
    sources = re.findall(r'<img alt="[^"]*" src="([^"]+)"', html)
    pngs = list(html_path.parent.glob("*.png"))
    empty_parameters = ("VAE", "Denoising strength", "Scheduler")  # charts saying "no values" are not embedded
    assert len(sources) == len(pngs) - len(empty_parameters) >= 18
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    with Image.open(io.BytesIO(base64.b64decode(sources[0].split(",", 1)[1]))) as im:
        assert im.format == "PNG"
    assert not re.search(r'(?:src|href)="(?!data:|#)', html)  # nothing fetched from elsewhere
    for anchor in ("summary", "parameters", "keywords", "prompts", "resources", "model-cards", "co-use", "combinations",
                   "trends", "habits", "coverage"):
        assert f'id="{anchor}"' in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_html_report_renders_in_headless_chromium_with_charts(hostile_html, tmp_path):
    html_path, _ = hostile_html
    shot = tmp_path / "report.png"
    base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(base + ["--dump-dom", html_path.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    # the browser's own parse found no markup from the data: only the page's two script elements
    assert dom.stdout.lower().count("<script") == 2 and 'id="thumbs"' in dom.stdout
    assert dom.stdout.count("<img") >= 18
    done = subprocess.run(base + [f"--screenshot={shot}", "--window-size=1280,2400", html_path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.exists(), done.stderr
    with Image.open(shot) as im:
        rgb = im.convert("RGB")
        # the charts' bar colour (#3b6ea5) covers a visible area of the page
        bar_pixels = sum(n for n, (r, g, b) in rgb.getcolors(1 << 20) or []
                         if abs(r - 0x3B) < 12 and abs(g - 0x6E) < 12 and abs(b - 0xA5) < 12)
        assert bar_pixels > 5000, bar_pixels
    if os.environ.get("STATISTIC_SCREENSHOT"):  # keep the picture for a human to look at
        shutil.copy(shot, os.environ["STATISTIC_SCREENSHOT"])
