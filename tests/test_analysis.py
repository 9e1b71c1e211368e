"""parameter_statistic's computations on a small database whose every number is known.

The database is written straight through exifdata_analytics.db (no images needed): see
``build_small_db`` for the rows and the comments there for the expected counts.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import db
from exifdata_analytics.parsers.base import Resource

CAMERA_RAW = {
    "SourceFile": "/lib/c/photo.jpg", "File:FileType": "JPEG", "IFD0:Make": "Canon", "IFD0:Model": "Canon EOS R5",
    "ExifIFD:LensModel": "RF50mm F1.8 STM", "ExifIFD:ISO": 100, "ExifIFD:FNumber": 1.8,
    "ExifIFD:ExposureTime": "1/125", "ExifIFD:FocalLength": "50.0 mm", "ExifIFD:DateTimeOriginal": "2024:02:11 09:00:00",
}


def record(path: str, **over) -> db.ImageRecord:
    base = dict(path=path, file_name=path.rsplit("/", 1)[-1], folder=path.rsplit("/", 1)[0], size_bytes=1000,
                mtime_ns=1, sha256=None, format="PNG", image_width=512, image_height=768, generator="A1111",
                prompt=None, negative_prompt=None, steps=None, seed=1, sampler=None, scheduler=None, cfg_scale=None,
                denoising_strength=None, width=None, height=None, model=None, model_hash=None, vae=None,
                clip_skip=None, params_json="{}", raw_json="{}", extra_json=None, created_at="2024-01-01T00:00:00",
                created_source="embedded", parse_status="ok", error=None, parser="a1111", indexed_at="2024-06-01T00:00:00+00:00")
    base.update(over)
    return db.ImageRecord(**base)


def small_rows() -> list[tuple[db.ImageRecord, tuple[Resource, ...]]]:
    """Eight rows, seven distinct images (/backup/a/1.png is a copy of /lib/a/1.png).

    Expected with de-duplication: Sampler Euler a 2, DPM++ 2M 1, euler 1 (the whitespace
    sampler of 8.png is no category); keyword 'cat' in 1, 3, 8 (not 'catgirl', 'scattering',
    'cathedral' of 2); 'long hair' in 1 (long_hair) and 4; LoRA add_detail in 1 and 3."""
    one = record("/lib/a/1.png", sha256="a" * 64, prompt="masterpiece, (cat:1.2), long_hair, <lora:add_detail:0.8>"
                 "\nBREAK\nsunset", negative_prompt="lowres, easynegative, bad hands", sampler="Euler a",
                 cfg_scale=7.0, steps=20, width=512, height=768, model="dreamshaper_8", vae="vae-ft-mse",
                 created_at="2024-01-15T10:30:00")  # a Monday
    one_res = (Resource("lora", "add_detail", "abc123", 0.8, "prompt"),
               Resource("embedding", "easynegative", None, None, "TI hashes"))
    return [
        (one, one_res),
        (record("/lib/a/2.png", sha256="b" * 64, prompt="catgirl, scattering light, cathedral, masterpiece",
                negative_prompt="lowres", sampler="Euler a", cfg_scale=7.5, steps=30, width=512, height=768,
                model="dreamshaper_8", created_at="2024-01-20T22:05:00"), ()),  # Saturday
        (record("/lib/b/3.png", sha256="c" * 64, generator="Forge",
                prompt="a cat sitting on a chair, hatsune miku \\(vocaloid\\), [masterpiece]", negative_prompt="",
                sampler="DPM++ 2M", scheduler="Karras", cfg_scale=7.0, steps=20, width=1024, height=1024,
                model="sdxl_base", created_at="2024-02-03T10:00:00"),  # Saturday
         (Resource("lora", "add_detail", None, 0.6, "prompt"), Resource("lora", "film_grain", None, None, "Lora hashes"))),
        (record("/lib/b/4.png", sha256="d" * 64, generator="ComfyUI", format="WEBP",
                prompt="portrait of a dog, 25, (long hair:1.3)", negative_prompt="blurry", sampler="euler",
                scheduler="normal", cfg_scale=8.0, steps=25, width=1024, height=1024, model="sdxl_base",
                created_at="2024-02-10T14:00:00", created_source="file_name", parser="comfyui"), ()),  # Saturday
        (record("/backup/a/1.png", **{k: v for k, v in one.__dict__.items() if k not in ("path", "folder", "file_name")}),
         one_res),
        (record("/lib/c/photo.jpg", sha256="f" * 64, generator=None, format="JPEG", seed=None, parse_status="no_metadata",
                raw_json=json.dumps(CAMERA_RAW), created_at="2024-02-11T09:00:00", parser=None), ()),  # Sunday
        (record("/lib/c/unknown.png", sha256="e" * 64, generator=None, seed=None, parse_status="unparsed",
                created_at="2024-03-01", created_source="folder", parser=None), ()),  # a day, no time: not in habits
        (record("/lib/a/8.png", sha256="0" * 64, prompt="cat", sampler="  ", model="dreamshaper_8",
                created_at="2024-01-16T10:45:00", created_source="mtime"), ()),  # Tuesday
    ]


def build_small_db(path: Path) -> Path:
    con = db.connect(path)
    db.write_batch(con, small_rows())
    con.close()
    return path


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    return build_small_db(tmp_path_factory.mktemp("statistic") / "small.db")  # read-only in every test


def run(path: Path, **options) -> A.Analysis:
    con = A.open_database(path)
    try:
        return A.analyse(con, A.AnalysisOptions(**options), str(path))
    finally:
        con.close()


def items(counts: A.Counts) -> dict[str, int]:
    return dict(counts.items)


# -- parameters ---------------------------------------------------------------------------

def test_parameter_counts_skip_empty_values_and_count_copies_once(small_db):
    an = run(small_db)
    assert (an.total_rows, an.matching_rows, an.images, an.duplicates_dropped) == (8, 8, 7, 1)
    assert an.parameter("Sampler").items == (("Euler a", 2), ("DPM++ 2M", 1), ("Euler", 1))
    assert an.parameter("CFG scale").items == (("7", 2), ("7.5", 1), ("8", 1))
    assert an.parameter("Size").items == (("512x768", 2), ("1024x1024", 2))
    assert an.parameter("Model").items == (("dreamshaper_8", 3), ("sdxl_base", 2))
    assert an.parameter("VAE").items == (("vae-ft-mse", 1),)
    assert an.parameter("Denoising strength").items == ()
    assert an.parameter("Steps").items == (("20", 2), ("25", 1), ("30", 1))
    assert an.parameter("Scheduler").items == (("Karras", 1), ("Normal", 1))
    assert an.parameter("Generator").items == (("A1111", 3), ("ComfyUI", 1), ("Forge", 1))
    assert [c.name for c in an.parameters] == [name for name, _ in A.PARAMETERS]


def test_raw_names_count_the_spellings_as_written(small_db):
    an = run(small_db, raw_names=True)
    assert an.parameter("Sampler").items == (("Euler a", 2), ("DPM++ 2M", 1), ("euler", 1))
    assert an.parameter("Scheduler").items == (("Karras", 1), ("normal", 1))
    assert an.model_sampler.cols == ("Euler a", "DPM++ 2M", "euler")


def test_a_helper_executor_gives_the_same_analysis(small_db):
    from concurrent.futures import ThreadPoolExecutor

    options = dict(keywords=("cat", "long hair", "unicorn"), filters=A.Filters(until="2024-02-05"),
                   compare=("folder=/lib/a", "folder=/lib/b"))
    inline = run(small_db, **options)
    con = A.open_database(small_db)
    with ThreadPoolExecutor(1) as helper:  # the CLI uses a process; the division of work is the same
        helped = A.analyse(con, A.AnalysisOptions(**options), str(small_db), executor=helper)
    con.close()
    assert helped == inline
    assert helped.keywords[0].keyword == "cat" and helped.keywords[0].count == 3


def test_an_unusable_helper_executor_means_working_in_this_process(small_db):
    from concurrent.futures import ThreadPoolExecutor

    helper = ThreadPoolExecutor(1)
    helper.shutdown()
    con = A.open_database(small_db)
    an = A.analyse(con, A.AnalysisOptions(keywords=("cat",)), str(small_db), executor=helper)
    con.close()
    assert an.keywords[0].count == 3 and an.prompt_tags.items[0] == ("masterpiece", 3)


def test_without_dedupe_every_file_counts(small_db):
    an = run(small_db, dedupe=False)
    assert an.images == 8 and an.duplicates_dropped == 0
    assert items(an.parameter("Sampler"))["Euler a"] == 3
    assert items(an.prompt_tags)["masterpiece"] == 4


def test_numbers_are_formatted_as_written():
    assert [A.format_number(x) for x in (7.0, 7.5, 0.35, 20.0, 1e-3)] == ["7", "7.5", "0.35", "20", "0.001"]


# -- prompts -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, cleaned", [
    ("(masterpiece:1.2), ((best quality)), [blurry]", "masterpiece, best quality, blurry"),
    ("a cat <lora:add_detail:0.8> <lyco:style:1:0.5>, sunset", "a cat,,, sunset"),
    ("1girl\nBREAK\nlong_hair AND red eyes", "1girl,,,long hair, red eyes"),
    ("hatsune miku \\(vocaloid\\), {star}", "hatsune miku (vocaloid), star"),
    ("embedding:badhand, (face:0.9)", ",, face"),
    ("Café AU LAIT", "café au lait"),
])
def test_clean_prompt_normalises_weights_brackets_networks_break_escapes(raw, cleaned):
    got = A.clean_prompt(raw)
    assert got == cleaned
    assert A.prompt_tags(got) == [t.strip() for t in cleaned.split(",") if t.strip()]


def test_embeddings_are_resources_not_words(small_db):
    an = run(small_db)
    assert "easynegative" not in items(an.negative_tags)
    assert "easynegative" not in items(an.negative_words)
    assert items(an.negative_tags) == {"lowres": 2, "bad hands": 1, "blurry": 1}


def test_prompt_words_and_tags(small_db):
    an = run(small_db)
    words = items(an.prompt_words)
    assert an.prompt_words.items[:4] == (("cat", 3), ("masterpiece", 3), ("hair", 2), ("long", 2))
    # no LoRA syntax, weights, single letters or bare numbers
    assert not {"lora", "add_detail", "add", "detail", "0.8", "1.2", "25", "a", "BREAK", "break"} & set(words)
    assert words["catgirl"] == 1 and words["vocaloid"] == 1
    tags = items(an.prompt_tags)
    assert an.prompt_tags.items[:3] == (("masterpiece", 3), ("cat", 2), ("long hair", 2))
    assert tags["hatsune miku (vocaloid)"] == 1 and tags["sunset"] == 1 and "25" not in tags
    assert an.with_prompt == 5


def test_tfidf_equals_scikit_learns_tfidfvectorizer_and_stays_sparse(small_db):
    from sklearn.feature_extraction.text import TfidfVectorizer

    con = A.open_database(small_db)
    prompts = A.cleaned_texts(con, "prompt")
    con.close()
    assert sorted(prompts.index) == [1, 2, 3, 4, 8]  # image ids; the backup copy (id 5) counted once
    vocab = A.count_matrix(prompts)
    assert vocab is not None and hasattr(vocab.matrix, "tocsc")  # scipy sparse, never dense
    ours = dict(A.prompt_statistics(prompts, tfidf_top=100).tfidf)
    reference = TfidfVectorizer(token_pattern=A.TOKEN_PATTERN, lowercase=False, stop_words="english")
    matrix = reference.fit_transform(prompts.tolist())
    sums = np.asarray(matrix.sum(axis=0)).ravel()
    expected = dict(zip(reference.get_feature_names_out(), sums))
    assert set(ours) == set(expected)
    for term, score in expected.items():
        assert ours[term] == pytest.approx(score, rel=1e-12)
    assert "of" not in ours and "on" not in ours  # English stop words


def test_no_prompts_at_all_gives_empty_word_reports_not_an_error(tmp_path):
    path = tmp_path / "photos.db"
    con = db.connect(path)
    db.write_batch(con, [(record(f"/p/{i}.jpg", generator=None, format="JPEG", parse_status="no_metadata",
                                 sha256=str(i) * 64), ()) for i in range(3)]
                   + [(record("/p/numbers.png", prompt="1, 2, 3 4", sha256="9" * 64), ())])
    con.close()
    an = run(path, keywords=("cat",))
    assert an.prompt_words.items == () and an.tfidf == () and an.negative_words.items == ()
    assert an.keywords[0].count == 0
    assert an.images == 4


def test_empty_database_analyses_to_empty_results(tmp_path):
    path = tmp_path / "empty.db"
    db.connect(path).close()
    an = run(path, keywords=("cat",), compare=("folder=/a", "folder=/b"))
    assert an.images == 0 and an.total_rows == 0
    assert all(c.items == () for c in an.parameters)
    assert an.tfidf == () and an.trends.months == () and an.coverage.rows == ()
    assert an.comparison.images_a == 0


# -- keywords ------------------------------------------------------------------------------

def test_keywords_match_whole_words_and_phrases_case_insensitively(small_db):
    an = run(small_db, keywords=("cat", "Long Hair", "masterpiece", "dog", "cathedral", "unicorn", "sitting on"),
             top_models=2, top_samplers=3)
    by_kw = {k.keyword: k for k in an.keywords}
    assert by_kw["cat"].count == 3  # 1, 3, 8: not catgirl / scattering / cathedral
    assert by_kw["Long Hair"].count == 2  # long_hair in 1, (long hair:1.3) in 4
    assert by_kw["masterpiece"].count == 3
    assert by_kw["cathedral"].count == 1 and by_kw["dog"].count == 1 and by_kw["unicorn"].count == 0
    assert by_kw["sitting on"].count == 1
    assert by_kw["cat"].top_models == (("dreamshaper_8", 2), ("sdxl_base", 1))
    assert by_kw["cat"].top_samplers == (("DPM++ 2M", 1), ("Euler a", 1))  # 8.png's blank sampler is no category
    assert by_kw["unicorn"].top_models == () and by_kw["unicorn"].top_samplers == ()
    # most images first; ties keep the order given
    assert [k.keyword for k in an.keywords] == ["cat", "masterpiece", "Long Hair", "dog", "cathedral", "sitting on",
                                                "unicorn"]


def test_keyword_matrix_lookup_agrees_with_a_plain_regex_scan():
    texts = pd.Series(A.clean_prompts(pd.Series(
        ["a cat, catgirl", "scattering", "Cat's toy", "(cat:1.3)", "sci-fi cat", "c++ code", "x y", "cat_ears",
         "the cat sat", "12 cats", "big 12 cat"])).tolist())
    vocab = A.count_matrix(texts)
    for keyword in ("cat", "cat ears", "sci-fi", "c++", "x", "12", "the cat", "big 12", "cats", "cat sat"):
        pattern = A.keyword_pattern(keyword)
        expected = [i for i, t in texts.items() if pattern.search(t)]
        assert list(A.keyword_hits(keyword, texts, vocab)) == expected, keyword
        assert list(A.keyword_hits(keyword, texts, None)) == expected, keyword


def test_parse_keywords_reads_lines_commas_comments_and_drops_duplicates():
    text = "# default list\ncat, dog\n\nLong hair\nCAT\nlong_hair\n  sunset  \n"
    assert A.parse_keywords(text) == ("cat", "dog", "Long hair", "sunset")


# -- resources, combinations, time ---------------------------------------------------------------

def test_lora_usage_images_mean_weight_and_models(small_db):
    lora = run(small_db).lora
    assert lora.images_with_lora == 2
    assert [(s.name, s.images, s.mean_weight) for s in lora.loras] == [
        ("add_detail", 2, pytest.approx(0.7)), ("film_grain", 1, None)]
    assert lora.by_model == (("add_detail", "dreamshaper_8", 1), ("add_detail", "sdxl_base", 1),
                             ("film_grain", "sdxl_base", 1))
    assert [(c.name, c.items) for c in lora.other] == [("embedding", (("easynegative", 1),))]


def test_model_sampler_and_sampler_cfg_combinations(small_db):
    an = run(small_db)
    assert an.model_sampler.pairs == (("dreamshaper_8", "Euler a", 2), ("sdxl_base", "DPM++ 2M", 1),
                                      ("sdxl_base", "Euler", 1))
    assert an.model_sampler.rows == ("dreamshaper_8", "sdxl_base")
    assert an.model_sampler.cols == ("Euler a", "DPM++ 2M", "Euler")
    assert an.model_sampler.grid == ((2, 0, 0), (0, 1, 1))
    assert an.sampler_cfg.pairs == (("DPM++ 2M", "7", 1), ("Euler", "8", 1), ("Euler a", "7", 1),
                                    ("Euler a", "7.5", 1))


def test_monthly_trends_weekday_and_hour(small_db):
    an = run(small_db)
    t = an.trends
    assert t.months == ("2024-01", "2024-02", "2024-03") and t.images == (3, 3, 1)
    assert t.top_model == (("dreamshaper_8", 3), ("sdxl_base", 2), None)
    assert t.top_sampler == (("Euler a", 2), ("DPM++ 2M", 1), None)
    h = an.habits
    assert t.sources == (("embedded", 4), ("file_name", 1), ("folder", 1), ("mtime", 1))
    assert h.weekday == (1, 1, 0, 0, 0, 3, 1)  # Mon 1.png, Tue 8.png, Sat x3, Sun photo (unknown.png: no time)
    assert h.hour[10] == 3 and h.hour[22] == 1 and sum(h.hour) == 6
    assert h.sources == (("embedded", 4), ("file_name", 1), ("mtime", 1)) and h.mtime_only == 1
    assert h.date_only == (("folder", 1),) and h.undated == 0
    assert h.grid[5][10] == 1 and h.grid[5][22] == 1 and h.grid[5][14] == 1


def test_trend_months_are_continuous_but_a_stray_old_date_does_not_explode():
    def frame(first: str) -> pd.DataFrame:
        return A.compact_frame({"created_at": [first, "2024-04-01T00:00:00"], "model": ["m", "m"],
                                "sampler": ["s", None]})
    assert A.monthly_trends(frame("2024-01-05T00:00:00")).months == ("2024-01", "2024-02", "2024-03", "2024-04")
    assert len(A.monthly_trends(frame("1970-01-01T00:00:00")).months) == 2


def test_parse_coverage_by_generator_status_and_format(small_db):
    cov = run(small_db).coverage
    rows = {(r.generator, r.status): r for r in cov.rows}
    assert set(rows) == {("A1111", "ok"), ("Forge", "ok"), ("ComfyUI", "ok"), ("(none)", "no_metadata"),
                         ("(none)", "unparsed")}
    a1111 = rows[("A1111", "ok")]
    assert a1111.images == 3 and dict(a1111.by_format) == {"PNG": 3, "JPEG": 0, "WEBP": 0}
    assert dict(a1111.filled) == {"prompt": 3, "negative": 2, "sampler": 2, "cfg": 2, "steps": 2, "seed": 3,
                                  "size": 2, "model": 3, "vae": 1, "scheduler": 0}
    assert dict(rows[("ComfyUI", "ok")].by_format)["WEBP"] == 1
    assert cov.images == 7 and cov.rows[-1].generator == "(none)"


def test_camera_photo_distributions_from_raw_json(small_db):
    cam = run(small_db).camera
    assert cam.images == 1
    assert {c.name: c.items for c in cam.fields} == {
        "Camera": (("Canon EOS R5", 1),), "Lens": (("RF50mm F1.8 STM", 1),), "ISO": (("100", 1),),
        "Aperture": (("f/1.8", 1),), "Exposure time": (("1/125 s", 1),), "Focal length": (("50 mm", 1),)}


def test_camera_fields_ignore_comfyui_workflow_json_in_make():
    tags = {"IFD0:Make": 'workflow:{"nodes": []}', "IFD0:Model": 'prompt:{"3": {}}'}
    assert A.camera_fields(tags)["Camera"] is None
    assert A.camera_fields({"IFD0:Make": "NIKON CORPORATION", "IFD0:Model": "NIKON D850"})["Camera"] == "NIKON D850"
    assert A.camera_fields({"IFD0:Make": "Apple", "IFD0:Model": "iPhone 13 Pro"})["Camera"] == "Apple iPhone 13 Pro"


def test_camera_fields_without_composite_tags_use_their_exif_sources():
    # ExifTool runs with -e, so LensID/Aperture/ShutterSpeed are absent from new rows
    tags = {"IFD0:Make": "Canon", "IFD0:Model": "Canon EOS 5D Mark II", "Canon:LensType": "Canon EF 24-70mm f/2.8L USM",
            "ExifIFD:ApertureValue": 2.8, "ExifIFD:ShutterSpeedValue": "1/200"}
    got = A.camera_fields(tags)
    assert (got["Lens"], got["Aperture"], got["Exposure time"]) == ("Canon EF 24-70mm f/2.8L USM", "f/2.8", "1/200 s")


# -- filters and comparison -----------------------------------------------------------------------

@pytest.mark.parametrize("filters, images, samplers", [
    (A.Filters(folders=("/lib/a",)), 3, {"Euler a": 2}),
    (A.Filters(folders=("/lib/b", "/lib/c")), 4, {"DPM++ 2M": 1, "Euler": 1}),
    (A.Filters(folders=("/lib/a/1.png",)), 0, {}),  # a folder, not a file-name prefix
    (A.Filters(models=("SDXL",)), 2, {"DPM++ 2M": 1, "Euler": 1}),
    (A.Filters(generators=("forge", "comfyui")), 2, {"DPM++ 2M": 1, "Euler": 1}),
    (A.Filters(since="2024-02-01"), 4, {"DPM++ 2M": 1, "Euler": 1}),
    (A.Filters(until="2024-01-31"), 3, {"Euler a": 2}),
    (A.Filters(since="2024-01-16", until="2024-01-20", models=("dream",)), 2, {"Euler a": 1}),
])
def test_filters_apply_to_every_statistic(small_db, filters, images, samplers):
    an = run(small_db, filters=filters, keywords=("cat",))
    assert an.images == images
    assert items(an.parameter("Sampler")) == samplers
    assert an.coverage.images == images and sum(an.habits.weekday) + an.habits.left_out == images
    assert an.keywords[0].count <= images


def test_folder_filter_keeps_the_backup_copy_when_only_the_backup_is_selected(small_db):
    an = run(small_db, filters=A.Filters(folders=("/backup",)))
    assert an.images == 1 and items(an.parameter("Sampler")) == {"Euler a": 1}


def test_bad_dates_are_refused():
    with pytest.raises(A.InputError):
        A.Filters(since="2024/01/01")


def test_compare_two_subsets_side_by_side(small_db):
    an = run(small_db, compare=("folder=/lib/a", "generator=Forge;since=2024-02-01"))
    c = an.comparison
    assert (c.label_a, c.images_a, c.images_b) == ("folder=/lib/a", 3, 1)
    params = dict(c.parameters)
    assert params["Sampler"] == (("DPM++ 2M", 0, 1), ("Euler a", 2, 0))
    assert params["Model"] == (("dreamshaper_8", 3, 0), ("sdxl_base", 0, 1))  # equal shares: by name
    assert ("masterpiece", 2, 1) in params["Prompt tags"]


@pytest.mark.parametrize("spec", ["folder", "colour=red", "since=2024-01-01;since=2024-02-01", "model="])
def test_bad_compare_specs_are_refused(spec):
    with pytest.raises(A.InputError):
        A.parse_compare_spec(spec)


def test_a_database_that_is_not_ours_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE file_metadata (file_name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(A.DatabaseError):
        A.open_database(path)
