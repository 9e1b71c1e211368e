"""Midjourney: the command and job id in a description."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_UNPARSED, parse_tags
from exifdata_analytics.parsers.midjourney import split_command
from exifdata_analytics.samples import write_png
from tests.conftest import row_by_name

JOB = "a7421d2f-b262-44f9-977c-ac23e9c7d3e3"
DESCRIPTION = f"a red fox in snow, watercolor --ar 2:1 --stylize 80 --no people, text --seed 1234 --v 6.1 Job ID: {JOB}"


def test_png_description_and_author_end_to_end(tmp_path: Path):
    folder = tmp_path / "mj"
    folder.mkdir()
    write_png(folder / "mj.png", [("Description", DESCRIPTION), ("Author", "peter")])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    r = row_by_name(tmp_path / "t.db", "mj.png")
    assert (r["generator"], r["prompt"], r["negative_prompt"], r["seed"], r["model"], r["steps"]) == (
        "Midjourney", "a red fox in snow, watercolor", "people, text", 1234, "Midjourney v6.1", None)


def test_niji_flags_and_xmp_description():
    p = parse_tags({"XMP-dc:Description": f"chibi cat --niji 6 --ar 3:4 --tile Job ID: {JOB}"}).params
    assert (p.generator, p.prompt, p.model, p.params["aspect"], p.params["tile"], p.params["Job ID"]) == (
        "Midjourney", "chibi cat", "niji 6", "3:4", True, JOB)


def test_split_command():
    assert split_command("plain prompt") == ("plain prompt", {})
    assert split_command("x --v 5 --q 2") == ("x", {"version": "5", "quality": "2"})


def test_a_description_without_a_job_id_is_not_midjourney():
    outcome = parse_tags({"PNG:Description": "a red fox --ar 2:1 --v 6"})
    assert outcome.status == STATUS_UNPARSED


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80), st.lists(st.sampled_from(["--v", "--no", "--seed", "--ar", "--", " ", "x", "99"]),
                                      max_size=8))
def test_property_random_descriptions_never_crash_the_parser(prompt, words):
    outcome = parse_tags({"PNG:Description": f"{prompt} {' '.join(words)} Job ID: {JOB}"})
    assert outcome.status != STATUS_ERROR, outcome.error
