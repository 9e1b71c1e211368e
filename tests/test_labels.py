"""--label-by: planted effects in real images (real PNGs and JPEGs with A1111 infotext, real XMP and
EXIF ratings, real ExifTool through filler.fill) that the label analysis must find, independent
fields it must not flag, small samples it must not over-read, and the label sources' rules."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from conftest import run_script
from exifdata_analytics import analysis as A
from exifdata_analytics import db, plots, reports
from exifdata_analytics.analysis.label_sources import folder_label, rating_of
from exifdata_analytics.analysis.labels import MIN_DIFFERENCE, benjamini_hochberg, newcombe, wilson
from exifdata_analytics.errors import InputError
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.samples import XMP_PNG_KEYWORD, a1111_infotext, write_jpeg, write_png, xmp_packet
from test_analysis import record, run

PLANTED = "keeper_lora"
SAMPLERS = ("Euler a", "DPM++ 2M")
TAGS = ("castle", "forest", "beach", "library")


def _image(path: Path, i: int, lora: bool, sampler: str, tag: str, rating=None) -> Path:
    prompt = f"masterpiece, a cat, {tag}" + (f", <lora:{PLANTED}:0.8>" if lora else "")
    text = a1111_infotext(prompt, "lowres", {"Steps": 20, "Sampler": sampler, "CFG scale": 7, "Seed": 1000 + i,
                                             "Size": "512x512", "Model": "dreamshaper_8"})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jpg":
        return write_jpeg(path, user_comment=text, rating=rating, seed=i, size=(16, 16))
    chunks = [("parameters", text)] + ([(XMP_PNG_KEYWORD, xmp_packet(rating))] if rating is not None else [])
    return write_png(path, chunks, seed=i, size=(16, 16))


def _fill(root: Path, db_path: Path) -> Path:
    fill(FillOptions(root=str(root), recursive=True, db_path=db_path, workers=2, batch_size=50))
    return db_path


def _planted_folders(root: Path, keep: int, rejects: int) -> None:
    """keep/ and rejects/: the LoRA in 70% of keep and 10% of rejects; the sampler alternates in
    each folder (exactly independent of the folder); the prompt's place tag drawn at random."""
    r = random.Random(7)
    for folder, n, share in (("keep", keep, 0.7), ("rejects", rejects, 0.1)):
        for i in range(n):
            sub = "keep/2024" if folder == "keep" and i % 5 == 0 else folder  # deeper folders count as keep/
            _image(root / sub / f"{folder}_{i:03d}.png", i + (0 if folder == "keep" else 500), i < round(share * n),
                   SAMPLERS[i % 2], r.choice(TAGS))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    base = tmp_path_factory.mktemp("labels")
    root = base / "library"
    _planted_folders(root, keep=80, rejects=120)
    _image(root / "loose.png", 999_999, False, "Euler a", "castle")  # directly in the root: no label
    return root, _fill(root, base / "labels.db")


def _analysis(db_path: Path, spec: str, **options) -> A.LabelAnalysis:
    result = run(db_path, label_by=A.parse_label_spec(spec), **options)
    assert result.label_analysis is not None
    return result.label_analysis


def _cell(la: A.LabelAnalysis, field: str, value: str) -> A.Finding:
    return next(f for f in la.findings if f.field == field and f.value == value)


def test_a_planted_lora_is_found_and_an_independent_sampler_is_not(planted):
    root, db_path = planted
    la = _analysis(db_path, "folder", filters=A.Filters(folders=(str(root),)))
    assert [(c.label, c.images) for c in la.labels] == [("rejects", 120), ("keep", 80)]
    assert la.tested == ("keep",)  # a keeper's name is tested against the other label
    assert la.left_out == (("directly in a --folder root (no folder under it names them)", 1),)
    lora = _cell(la, "LoRA", PLANTED)
    assert lora.significant and lora.q_value < 1e-6
    assert (lora.images, lora.labelled) == (56 + 12, 56)
    assert lora.rate == pytest.approx(56 / 68) and lora.rate_without == pytest.approx(24 / 132)
    assert lora.ci95[0] > 0.4 and lora.ci95[0] < lora.difference < lora.ci95[1]
    assert lora.ratio == pytest.approx((56 / 68) / (24 / 132))
    assert lora.text == ("Images with the LoRA keeper_lora are in keep/ 4.5× as often: 82% of 68 vs 18% of 132")
    for sampler in SAMPLERS:
        cell = _cell(la, "Sampler", sampler)
        assert not cell.significant and cell.rate == pytest.approx(0.4) and cell.p_value == pytest.approx(1.0)
    assert [f.field for f in la.significant] == ["LoRA"]  # nothing else is tied to keep/
    assert {f.field for f in la.findings} >= {"Sampler", "Prompt tag", "LoRA"}
    model = la.model
    assert model.label == "keep" and model.auc > 0.75 and abs(model.shuffled_auc - 0.5) < 0.15
    assert model.importances[0].field == "LoRA" and model.importances[0].importance > 0.1
    assert {i.field for i in model.importances if i.field != "LoRA"} >= {"Sampler"}


def test_without_folder_roots_the_label_is_the_folder_name(planted):
    root, db_path = planted
    la = _analysis(db_path, "folder")
    assert {c.label: c.images for c in la.labels} == {"rejects": 120, "keep": 64, "2024": 16, "library": 1}
    assert la.tested[0] == "keep" and "library" not in la.tested  # one image: not tested
    assert any("fewer than 10 images" in note and "library" in note for note in la.notes)
    assert _cell(la, "LoRA", PLANTED).significant


def test_folder_label_rules():
    assert folder_label("/a/keep", ()) == "keep"
    assert folder_label("/a/lib/keep/2024", ("/a/lib",)) == "keep"
    assert folder_label("/a/lib/keep/2024", ("/a", "/a/lib/")) == "keep"  # the deepest root
    assert folder_label("/a/lib", ("/a/lib",)) is None
    assert folder_label("/b/keep", ("/a/lib",)) is None


def test_reports_plot_and_html_say_it_in_plain_words(planted, tmp_path):
    root, db_path = planted
    analysis = run(db_path, label_by=A.parse_label_spec("folder"), filters=A.Filters(folders=(str(root),)))
    text = reports.text_reports(analysis)["label_analysis.txt"]
    lines = text.splitlines()
    words = lines.index("In plain words:")
    assert lines[words + 1] == "- " + _cell(analysis.label_analysis, "LoRA", PLANTED).text
    assert lines.index("In plain words:") < next(i for i, l in enumerate(lines) if l.startswith("Findings"))
    assert "Tested: 'keep' against 'rejects'." in text
    assert "Benjamini-Hochberg" in text and "Newcombe" in text and "chance" in text
    assert any(l.startswith("keep") and "keeper_lora" in l and l.rstrip().endswith("*") for l in lines)
    assert "Cross-validated ROC-AUC" in text and "LoRA" in text.split("permutation importance")[-1]
    written = plots.write_plots(analysis, tmp_path)
    assert written["labels"].name == "label_analysis.png" and written["labels"].stat().st_size > 5000
    page = reports.format_html(analysis, written)
    assert 'id="labels"' in page and "Labels and keepers" in page and "keeper_lora" in page


def test_no_label_analysis_without_label_by(planted):
    _, db_path = planted
    analysis = run(db_path)
    assert analysis.label_analysis is None
    assert "label_analysis.txt" not in reports.text_reports(analysis)
    assert "labels" not in {job.key for job in plots.plot_jobs(analysis)}


# -- ratings ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rated(tmp_path_factory):
    """PNGs rated in XMP and JPEGs rated in EXIF: the LoRA on most 4- and 5-star images."""
    root = tmp_path_factory.mktemp("rated")
    r = random.Random(3)
    stars = [5] * 30 + [4] * 30 + [3] * 40 + [2] * 30 + [1] * 20 + [-1] * 10 + [0] * 5 + [None] * 15
    for i, rating in enumerate(stars):
        keeper = rating is not None and rating >= 4
        lora = (i % 10 < 8) if keeper else (i % 10 == 0)
        jpeg = i % 3 == 0 and rating != -1  # EXIF has no "rejected"
        _image(root / f"img_{i:03d}{'.jpg' if jpeg else '.png'}", i, lora, SAMPLERS[i % 2], r.choice(TAGS), rating)
    return _fill(root, root.parent / "rated.db")


def test_ratings_from_xmp_and_exif_make_keepers(rated):
    la = _analysis(rated, "rating")  # default: 4 stars and more
    assert [(c.label, c.images) for c in la.labels] == [("other", 100), ("keeper", 60)]
    assert la.tested == ("keeper",)
    assert dict(la.ratings) == {"5 stars": 30, "4 stars": 30, "3 stars": 40, "2 stars": 30, "1 star": 20,
                                "rejected (-1)": 10}
    assert dict(la.left_out) == {"without a rating (or rated 0, 'not rated')": 20}
    lora = _cell(la, "LoRA", PLANTED)
    assert lora.significant and lora.rate > 0.7
    assert lora.text.startswith("Images with the LoRA keeper_lora are rated 4 stars or more")
    assert not _cell(la, "Sampler", "Euler a").significant
    strict = _analysis(rated, "rating:5")
    assert dict((c.label, c.images) for c in strict.labels) == {"keeper": 30, "other": 130}


def test_rating_of_prefers_xmp_and_reads_copies():
    assert rating_of({"IFD0:Rating": 3, "XMP-xmp:Rating": -1}) == -1
    assert rating_of({"IFD0:Copy1:Rating": 2, "IFD0:Rating": 4}) == 4
    assert rating_of({"IFD0:Copy1:Rating": 2}) == 2
    assert rating_of({"XMP-microsoft:Rating": 75, "File:FileType": "PNG"}) is None  # a percentage, not stars
    assert np.isnan(rating_of({"XMP-xmp:Rating": "lots"})) and np.isnan(rating_of({"XMP-xmp:Rating": 50}))


# -- a labels CSV -------------------------------------------------------------------------------

def test_labels_csv_relative_and_absolute_paths_and_unknown_ones_counted(planted, tmp_path):
    root, db_path = planted
    lines = ["Path,Label"]
    for path in sorted((root / "keep").rglob("*.png")):
        lines.append(f"{path},good")  # absolute
    for path in sorted((root / "rejects").glob("*.png")):
        lines.append(f"library/rejects/{path.name},bad")  # relative to the CSV's folder
    lines += ["/nowhere/x.png,good", "library/rejects/missing.png,bad", ",bad"]
    csv_path = root.parent / "labels.csv"
    csv_path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    la = _analysis(db_path, f"file:{csv_path}")
    assert {c.label: c.images for c in la.labels} == {"good": 80, "bad": 120}
    assert dict(la.left_out) == {"not named in labels.csv": 1}
    assert any(n.startswith("2 lines of labels.csv name files that are not in the database (/nowhere/x.png")
               for n in la.notes)
    assert any("1 lines of labels.csv have an empty path or label" in n for n in la.notes)
    assert la.tested == ("good",)
    assert _cell(la, "LoRA", PLANTED).significant
    assert _cell(la, "LoRA", PLANTED).text.startswith("Images with the LoRA keeper_lora are labelled 'good'")


def test_labels_csv_problems_are_clear_input_errors(planted, tmp_path):
    _, db_path = planted
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("file,tag\n/a.png,keep\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a header line with 'path' and 'label'"):
        _analysis(db_path, f"file:{bad_header}")
    with pytest.raises(InputError, match="labels file not found"):
        _analysis(db_path, f"file:{tmp_path / 'missing.csv'}")
    some = next(p for p, in db.connect(db_path, readonly=True).execute("SELECT path FROM images LIMIT 1"))
    twice = tmp_path / "twice.csv"
    twice.write_text(f"path,label\n{some},keep\n{some},rejects\n", encoding="utf-8")
    with pytest.raises(InputError, match="two labels: 'keep' .line 2. and 'rejects' .line 3."):
        _analysis(db_path, f"file:{twice}")


# -- small samples, and fields that are independent of the label -----------------------------

def test_a_small_sample_says_so_instead_of_claiming_an_effect(tmp_path):
    root = tmp_path / "few"
    _planted_folders(root, keep=20, rejects=20)
    only = A.Filters(folders=(str(root),))
    la = _analysis(_fill(root, tmp_path / "few.db"), "folder", filters=only)
    assert la.labelled == 40 and la.small_sample and la.tested == ("keep",)
    assert la.significant == () and la.model.auc is None and "fewer than 50" in la.model.note
    lora = _cell(la, "LoRA", PLANTED)
    assert lora.rate > 0.5 and "too few labelled images to tell" in lora.text
    analysis = run(tmp_path / "few.db", label_by=A.parse_label_spec("folder"), filters=only)
    text = reports.text_reports(analysis)["label_analysis.txt"]
    assert "Too few labelled images to say much: 40 (at least 50 are needed" in text
    assert "In plain words:" not in text


def test_independent_fields_are_not_flagged_among_many_cells(tmp_path):
    """2,000 images, three labels, every field drawn independently of the label: hundreds of cells
    are tested and, thanks to the false discovery rate, none is flagged, though some have p < 0.05."""
    r = random.Random(11)
    rows = []
    for i in range(2000):
        label = r.choice(["keep", "maybe", "rejects"])
        rows.append((record(f"/lib/{label}/{i}.png", sha256=f"{i:064x}", prompt=", ".join(r.sample(
            [f"tag{k}" for k in range(30)], 5)), sampler=r.choice(["Euler a", "DPM++ 2M", "DDIM", "UniPC"]),
            scheduler=r.choice(["Karras", "Normal"]), cfg_scale=r.choice([5.0, 6.0, 7.0, 8.0]),
            steps=r.choice([20, 25, 30, 40]), width=512, height=r.choice([512, 768]),
            model=r.choice(["m1", "m2", "m3", "m4", "m5"]), vae=r.choice(["v1", "v2"])), ()))
    path = tmp_path / "null.db"
    con = db.connect(path)
    db.write_batch(con, rows)
    con.close()
    la = _analysis(path, "folder")
    assert la.tested == ("keep", "maybe", "rejects") and not la.small_sample
    assert la.cells_tested > 150 and any(f.p_value < 0.05 for f in la.findings)
    assert la.significant == ()
    assert 0.4 < la.model.auc < 0.6



def test_a_real_but_tiny_difference_is_listed_not_flagged(tmp_path):
    """60,000 images: 'keep' is 21% with sampler A and 20% without (a 1-point difference, q < 0.05
    at this size) and 40% vs 20% with LoRA-free model 'big' (a 20-point one). Only the second is a
    finding a user can act on; the first is listed with its interval, not flagged."""
    r = random.Random(5)
    rows = []
    for i in range(60_000):
        sampler, model = r.choice("AB"), ("big" if r.random() < 0.1 else "m")
        # keep: 20% base; +1 point for sampler A; 40% for model 'big'
        chance = 0.40 if model == "big" else (0.21 if sampler == "A" else 0.20)
        label = "keep" if r.random() < chance else "rejects"
        rows.append((record(f"/lib/{label}/{i}.png", sha256=f"{i:064x}", sampler=sampler, model=model), ()))
    path = tmp_path / "tiny.db"
    con = db.connect(path)
    db.write_batch(con, rows)
    con.close()
    la = _analysis(path, "folder")
    tiny = _cell(la, "Sampler", "A")
    assert abs(tiny.difference) < MIN_DIFFERENCE and tiny.q_value < 0.05 and not tiny.significant  # flagged before
    assert _cell(la, "Model", "big").significant


# -- the statistics themselves ---------------------------------------------------------------------

def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10
    low, high = newcombe(np.array([56.0]), np.array([70.0]), np.array([48.0]), np.array([80.0]))
    assert (round(low[0], 4), round(high[0], 4)) == (0.0524, 0.3339)
    wl, wh = wilson(np.array([0.0]), np.array([10.0]))
    assert wl[0] == pytest.approx(0.0, abs=1e-12) and wh[0] == pytest.approx(0.2775, abs=1e-4)


def test_benjamini_hochberg_adjusts_as_published():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.005]))
    assert q.tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])


# -- the command line --------------------------------------------------------------------------------

def test_cli_writes_label_analysis_and_rejects_bad_specs(rated, tmp_path):
    out = tmp_path / "out"
    done = run_script("parameter_statistic.py", "-y", "--db", str(rated), "--out", str(out), "--label-by",
                      "rating:4", "--keywords", "cat", "--html", "--json")  # with the helper process
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))["label_analysis"]
    assert report["source"] == "rating:4" and report["labelled"] == 160
    finding = next(f for f in report["findings"] if f["significant"])
    assert {"label", "field", "value", "images", "rate", "rate_without", "ci95", "significant"} <= set(finding)
    assert len(finding["ci95"]) == 2 and 0 <= finding["rate"] <= 1
    assert 0 <= report["model"]["auc"] <= 1 and {"field", "importance"} <= set(report["model"]["importances"][0])
    assert "Labels (rating:4): 160 labelled images" in done.stdout
    assert (out / "label_analysis.txt").is_file() and (out / "label_analysis.png").is_file()
    assert "Labels and keepers" in (out / "report.html").read_text(encoding="utf-8")
    again = run_script("parameter_statistic.py", "-y", "--db", str(rated), "--out", str(out), "--keywords", "cat",
                       "--no-plots", "--workers", "1")
    assert again.returncode == 0 and not (out / "label_analysis.txt").exists()  # no stale copy
    for spec in ("colour", "rating:9", "rating:x", "file:"):
        bad = run_script("parameter_statistic.py", "-y", "--db", str(rated), "--out", str(out), "--label-by", spec)
        assert bad.returncode == 2 and "--label-by" in bad.stderr, spec
    missing = run_script("parameter_statistic.py", "-y", "--db", str(rated), "--out", str(out), "--label-by",
                         f"file:{tmp_path / 'nope.csv'}")
    assert missing.returncode == 1 and "labels file not found" in missing.stderr
