"""Numeric parameters along their value axis: quartiles against hand-computed values, planted
distributions in a real SQLite database (odd and even counts, one value, no values, values
that cannot be settings), the binning rule, aspect-ratio names, the report, chart and HTML."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from exifdata_analytics import analysis as A
from exifdata_analytics import db, plots, reports
from exifdata_analytics.analysis.distributions import FAR_OUT, MAX_VALUES, SMALL_SAMPLE
from exifdata_analytics.reports.text import DISTRIBUTIONS_REPORT, format_distribution
from test_analysis import record, run


def dist(analysis: A.Analysis, name: str) -> A.Distribution:
    return next(d for d in analysis.distributions if d.name == name)


def bars(d: A.Distribution) -> list[tuple[str, int]]:
    return [(v.label, v.images) for v in d.values]


def stats(d: A.Distribution) -> tuple:
    return d.minimum, d.q1, d.median, d.q3, d.maximum, d.mean


# -- quantiles --------------------------------------------------------------------------------

@pytest.mark.parametrize("values, expected", [
    # n = 4: positions 0.75, 1.5, 2.25 -> 1 + 0.75*(2-1), (2+3)/2, 3 + 0.25*(4-3)
    ([4, 1, 3, 2], (1.75, 2.5, 3.25)),
    # n = 5: positions 1, 2, 3 fall on values
    ([5, 4, 3, 2, 1], (2.0, 3.0, 4.0)),
    # n = 9: 1 1 2 3 4 5 5 6 9, positions 2, 4, 6
    ([3, 1, 4, 1, 5, 9, 2, 6, 5], (2.0, 4.0, 5.0)),
    # n = 6: 10 20 20 30 40 100, positions 1.25, 2.5, 3.75 -> 20, 25, 37.5
    ([10, 20, 20, 30, 40, 100], (20.0, 25.0, 37.5)),
    # n = 2: positions 0.25, 0.5, 0.75
    ([7, 8], (7.25, 7.5, 7.75)),
    ([7.5], (7.5, 7.5, 7.5)),
])
def test_quartiles_are_the_linear_interpolation_computed_by_hand(values, expected):
    assert A.quartiles(np.array(values, dtype=float)) == pytest.approx(expected, abs=1e-12)


# -- planted in a real database -----------------------------------------------------------

def planted_rows() -> list:
    """CFG: 3 5 7 7 7 8 12 usable (odd n = 7), 150 and -1 left out, one row without.
    Steps: 10 20 20 30 usable in the rows that have them (even n = 4); 0, -5, 20.5 and
    20000 left out. Denoising strength: one usable value 0.5 and 1.5 left out. Clip skip: 2
    in one image. Sizes: 512x768 twice, 768x512, 1024x1024, 1360x768 usable, 4x4 left out,
    one without a height. A byte-identical copy of the first image counts once."""
    cfg = [3, 5, 7, 7, 7, 8, 12, 150, -1, None, None, None]
    steps = [10, 20, 20, 30, 0, -5, 20.5, 20000, None, None, None, None]
    denoise = [0.5, 1.5] + [None] * 10
    clip = [2] + [None] * 11
    sizes = [(512, 768), (512, 768), (768, 512), (1024, 1024), (1360, 768), (4, 4), (512, None)] + [(None, None)] * 5
    rows = []
    for i in range(12):
        rows.append((record(f"/p/{i}.png", sha256=f"{i:064d}", cfg_scale=cfg[i], steps=steps[i],
                            denoising_strength=denoise[i], clip_skip=clip[i], width=sizes[i][0],
                            height=sizes[i][1]), ()))
    first = rows[0][0]
    rows.append((record("/backup/0.png", **{k: v for k, v in first.__dict__.items()
                                            if k not in ("path", "folder", "file_name")}), ()))
    return rows


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> A.Analysis:
    path = tmp_path_factory.mktemp("dists") / "planted.db"
    con = db.connect(path)
    db.write_batch(con, planted_rows())
    con.close()
    return run(path)


def test_the_selection_reads_clip_skip_as_a_number(planted, tmp_path):
    path = tmp_path / "clip.db"
    con = db.connect(path)
    db.write_batch(con, planted_rows())
    con.close()
    con = A.open_database(path)
    frame = A.load_selection(con).frame
    con.close()
    assert frame["clip_skip"].dtype == float and frame["clip_skip"].notna().sum() == 1
    assert dist(planted, "Clip skip").images == 1


def test_odd_count_cfg_with_values_that_cannot_be_settings_left_out(planted):
    cfg = dist(planted, "CFG scale")
    assert (cfg.images, cfg.without, cfg.left_out) == (7, 3, 2)  # 150 and -1 out; the copy counts once
    # 3 5 7 7 7 8 12: positions 1.5, 3, 4.5
    assert stats(cfg) == pytest.approx((3, 6, 7, 7.5, 12, 49 / 7))
    assert bars(cfg) == [("3", 1), ("5", 1), ("7", 3), ("8", 1), ("12", 1)]
    assert not cfg.binned and cfg.small_sample


def test_even_count_steps_median_is_the_mean_of_the_middle_two(planted):
    steps = dist(planted, "Steps")
    assert (steps.images, steps.without, steps.left_out) == (4, 4, 4)  # 0, -5, 20.5 and 20000 out
    assert stats(steps) == pytest.approx((10, 17.5, 20, 22.5, 30, 20))
    assert bars(steps) == [("10", 1), ("20", 2), ("30", 1)]


def test_a_single_value_and_no_values(planted):
    denoise = dist(planted, "Denoising strength")
    assert (denoise.images, denoise.left_out, denoise.without) == (1, 1, 10)
    assert stats(denoise) == (0.5,) * 6
    assert bars(denoise) == [("0.5", 1)]
    clip = dist(planted, "Clip skip")
    assert stats(clip) == (2,) * 6 and clip.without == 11


def test_sizes_as_megapixels_and_aspect_ratio_with_usual_names(planted):
    mp, ratio = dist(planted, "Megapixels"), dist(planted, "Aspect ratio")
    for d in (mp, ratio):
        assert (d.images, d.left_out, d.without) == (5, 1, 6)  # 4x4 out; 512x? and no size: without
    # 0.393216 0.393216 0.393216 1.044480 1.048576
    assert stats(mp) == pytest.approx((0.393216, 0.393216, 0.393216, 1.04448, 1.048576,
                                       (3 * 0.393216 + 1.04448 + 1.048576) / 5))
    assert bars(mp) == [("0.393", 3), ("1.044", 1), ("1.049", 1)]
    # 2/3 2/3 1 1.5 1.7708: median 1
    assert ratio.median == 1 and ratio.q1 == pytest.approx(2 / 3) and ratio.q3 == 1.5
    assert bars(ratio) == [("0.667 (2:3)", 2), ("1 (1:1)", 1), ("1.5 (3:2)", 1), ("1.771 (~16:9)", 1)]


def test_an_empty_selection_has_every_parameter_without_values(tmp_path):
    path = tmp_path / "empty.db"
    db.connect(path).close()
    found = run(path).distributions
    assert [d.name for d in found] == [p.name for p in A.NUMERIC_PARAMETERS] + [A.MEGAPIXELS, A.ASPECT_RATIO]
    assert all(d.images == d.without == d.left_out == 0 and d.values == () and d.median is None for d in found)


# -- the binning rule -------------------------------------------------------------------------

def frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {c: np.full(n, np.nan) for c in ("cfg_scale", "steps", "denoising_strength", "clip_skip", "width", "height")}
    base.update({k: np.asarray(v, dtype=float) for k, v in columns.items()})
    return pd.DataFrame(base)


def steps_of(values) -> A.Distribution:
    return dist_of(frame(steps=values), "Steps")


def dist_of(f: pd.DataFrame, name: str) -> A.Distribution:
    return next(d for d in A.numeric_distributions(f) if d.name == name)


def test_up_to_max_values_distinct_values_are_listed_more_are_binned():
    listed = steps_of(range(1, MAX_VALUES + 1))
    assert not listed.binned and len(listed.values) == MAX_VALUES
    binned = steps_of(range(1, MAX_VALUES + 2))
    assert binned.binned and sum(v.images for v in binned.values) == MAX_VALUES + 1


def test_evenly_planted_values_give_even_bins_and_no_far_out_bins():
    # 40 steps values 20..59, five images each: bins of width 2 from 20, ten images each
    d = steps_of(np.repeat(np.arange(20, 60), 5))
    assert d.bin_width == 2
    assert [v.kind for v in d.values] == ["bin"] * 20
    assert [(v.low, v.high, v.images) for v in d.values] == [(float(lo), float(lo + 2), 10) for lo in range(20, 60, 2)]


def test_a_far_out_value_goes_to_an_open_ended_bin_not_into_the_width():
    values = np.r_[np.repeat(np.arange(20, 60), 5), 10000]
    d = steps_of(values)
    assert d.maximum == 10000 and d.images == 201
    assert d.values[-1].kind == "above" and d.values[-1].images == 1 and d.values[-1].high == 10000
    limit = d.q3 + FAR_OUT * (d.q3 - d.q1)
    assert d.values[-1].low <= limit + d.bin_width and d.bin_width <= 10  # the 10,000 does not set the width
    assert all(v.kind == "bin" for v in d.values[:-1]) and sum(v.images for v in d.values) == 201
    low = steps_of(np.r_[1, np.repeat(np.arange(200, 240), 5)])
    assert low.values[0].kind == "below" and low.values[0].label.startswith("< ") and low.values[0].images == 1


def test_bin_edges_are_multiples_of_the_width_and_values_on_an_edge_start_a_bin():
    values = np.round(np.linspace(0.3, 0.7, 41), 2)  # 0.30, 0.31, … 0.70: 41 distinct values
    d = dist_of(frame(denoising_strength=values), "Denoising strength")
    assert d.bin_width == 0.02
    assert d.values[0].label == "[0.3, 0.32)" and d.values[0].images == 2  # 0.30 and 0.31
    assert d.values[-1].label == "[0.7, 0.72)" and d.values[-1].images == 1
    for v in d.values:
        assert math.isclose(v.low / d.bin_width, round(v.low / d.bin_width), abs_tol=1e-9)


def test_whole_number_parameters_never_get_fractional_bins():
    d = steps_of(np.arange(1, 31))  # 30 values, span 29: 1.45 per bin asked, 2 given
    assert d.bin_width == 2 and all(float(v.low).is_integer() for v in d.values)


def test_values_are_grouped_at_three_decimals():
    d = dist_of(frame(cfg_scale=[7, 7.0000000001, 7.5]), "CFG scale")
    assert bars(d) == [("7", 2), ("7.5", 1)]


def test_infinities_and_fractions_of_whole_number_settings_are_left_out():
    d = dist_of(frame(cfg_scale=[7, math.inf, -math.inf, 100, 100.5, 0]), "CFG scale")
    assert (d.images, d.left_out) == (3, 3) and (d.minimum, d.maximum) == (0, 100)
    clip = dist_of(frame(clip_skip=[1, 2, 2.5, 0, 25]), "Clip skip")
    assert (clip.images, clip.left_out) == (2, 3)


@pytest.mark.parametrize("size, name", [
    ((512, 768), "2:3"), ((1024, 1536), "2:3"), ((768, 512), "3:2"), ((1024, 1024), "1:1"), ((576, 1024), "9:16"),
    ((896, 1152), "7:9"), ((832, 1216), "13:19"), ((768, 1344), "4:7"), ((1360, 768), "~16:9"), ((1100, 1000), ""),
])
def test_aspect_ratio_names(size, name):
    assert A.ratio_name(size[0] / size[1]) == name


def test_small_samples_are_flagged():
    assert steps_of([20] * (SMALL_SAMPLE - 1)).small_sample
    assert not steps_of([20] * SMALL_SAMPLE).small_sample


# -- report, chart, HTML -------------------------------------------------------------------

def test_report_lines_per_parameter(planted):
    text = reports.text_reports(planted)[DISTRIBUTIONS_REPORT]
    block = text.split("\n\n")[1].splitlines()
    assert block == [
        "Analysis for CFG scale (cfg_scale):",
        "n 7  min 3  Q1 6  median 7  Q3 7.5  max 12  mean 7",
        "without a value: 3 images; left out (cannot be a setting): 2 images",
        f"(fewer than {SMALL_SAMPLE} images: the quartiles are rough)",
        "value  images",
        "3           1  #############",
        "5           1  #############",
        "7           3  ########################################",
        "8           1  #############",
        "12          1  #############",
    ]
    assert "Analysis for Clip skip (clip_skip):\nn 1  min 2" in text


def test_report_of_bins_names_the_width_and_the_open_ended_bins():
    lines = format_distribution(steps_of(np.r_[np.repeat(np.arange(20, 60), 5), 10000]))
    assert lines[0] == "Analysis for Steps (steps):"
    assert lines[3].startswith("(bins of width 5, [low, high); values further than 3 IQR")
    assert lines[4].split() == ["bin", "images"]
    assert lines[5].startswith("[20, 25)") and lines[-1].startswith(">= ")
    assert lines[-1].split()[2] == "1" and lines[-1].endswith("#")
    assert format_distribution(dist_of(frame(steps=[np.nan]), "Steps"))[1:] == [
        "n 0 (no usable values)", "without a value: 1 image; left out (cannot be a setting): 0 images"]


def test_the_chart_is_a_png_with_median_and_quartiles_marked(planted, tmp_path):
    job = next(j for j in plots.plot_jobs(planted) if j.key == "distributions")
    job = pickle.loads(pickle.dumps(job))  # the helper process draws half the charts
    assert job.file_name == "parameter_distributions.png"
    fig = job.builder(*job.args)
    cfg_ax = fig.axes[0]
    marked = sorted({line.get_xdata()[0] for line in cfg_ax.get_lines()})
    assert marked == [6, 7, 7.5]  # Q1, median, Q3
    path = plots.save_figure(fig, tmp_path / job.file_name)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width >= 1000
        assert len(im.convert("RGB").getcolors(1 << 16) or range(1 << 16)) > 8


def test_the_chart_draws_binned_and_empty_parameters(tmp_path):
    f = frame(steps=np.r_[np.repeat(np.arange(20, 60), 5), 10000], cfg_scale=np.linspace(1, 15, 201))
    fig = plots.distributions_chart(A.numeric_distributions(f))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["CFG scale (n=201, median 8)", "Steps (n=201, median 40)"]
    assert titles[2] == "Denoising strength" and not fig.axes[2].axison
    assert any(">= " in t.get_text() for t in fig.axes[1].texts)  # the far-out bin is labelled
    assert plots.save_figure(fig, tmp_path / "d.png").stat().st_size > 10_000


def test_the_html_report_has_the_section(planted, tmp_path):
    drawn = plots.write_plots(planted, tmp_path)
    html = reports.format_html(planted, drawn)
    section = html.split('<section id="distributions">', 1)[1].split("</section>", 1)[0]
    assert "Numeric parameters by value" in section and "data:image/png;base64," in section
    assert ('<td>CFG scale</td><td>cfg_scale</td><td class=n data-v="7">7</td><td class=n data-v="3">3</td>'
            '<td class=n data-v="2">2</td>') in section
    assert "0.667 (2:3)" in section and 'href="#distributions"' in html


def test_a_lowest_value_on_an_edge_the_float_division_misses_starts_the_first_bin():
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: no empty [0.2, 0.3) bin before it
    values = np.r_[0.3, np.round(np.linspace(0.31, 2.2, 40), 2)]
    d = dist_of(frame(denoising_strength=values[values <= 1]), "Denoising strength")
    c = dist_of(frame(cfg_scale=values), "CFG scale")
    assert c.bin_width == 0.1 and c.values[0].label == "[0.3, 0.4)" and c.values[0].images > 0
    assert d.values[0].images > 0
