"""Stability Matrix: prompts from its own record, the rest from the ComfyUI graph it ran."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, STATUS_UNPARSED, parse_tags
from exifdata_analytics.samples import a1111_infotext, comfyui_graph, write_png
from tests.conftest import row_by_name

RECORD = {"PositivePrompt": "a tower, #comment removed before sampling\r\n", "NegativePrompt": "blurry\r\n",
          "Steps": 20, "Sampler": "Euler Ancestral Karras", "CfgScale": 5, "Seed": 963022979, "Height": 1536,
          "Width": 1536, "ModelHash": "A5F58EB1", "ModelName": "waiIllustriousSDXL_v160.safetensors",
          "FrameCount": 0}


def graph() -> str:
    pj, _, _ = comfyui_graph("a tower, ", "blurry\r\n", model="waiIllustriousSDXL_v160.safetensors", seed=963022979,
                             steps=20, cfg=5, sampler_name="euler_ancestral", scheduler="karras", width=1024,
                             height=1024)
    return pj


def chunks() -> list[tuple[str, str]]:
    text = a1111_infotext("a tower, #comment", "blurry", {"Steps": 20, "Sampler": "Euler Ancestral Karras",
                                                          "Seed": 963022979, "Size": "1536x1536"})
    return [("parameters", text), ("parameters-json", json.dumps(RECORD)), ("smproj", json.dumps({"Version": 2})),
            ("prompt", graph())]


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_prompts_from_the_record_settings_from_the_graph_hash_from_the_record():
    p = parsed({f"PNG:{k.capitalize()}": v for k, v in chunks()})
    assert (p.generator, p.prompt, p.negative_prompt) == ("Stability Matrix", RECORD["PositivePrompt"], "blurry\r\n")
    # the record's sampler is a display label and its size the upscaled output; the graph ran
    assert (p.sampler, p.scheduler, p.width, p.height, p.steps, p.seed, p.cfg_scale) == (
        "euler_ancestral", "karras", 1024, 1024, 20, 963022979, 5.0)
    assert (p.model, p.model_hash) == ("waiIllustriousSDXL_v160.safetensors", "A5F58EB1")
    assert p.params["parameters-json"]["FrameCount"] == 0


def test_record_alone_and_project_alone():
    p = parsed({"PNG:Parameters-json": json.dumps(RECORD)})
    assert (p.generator, p.sampler, p.width) == ("Stability Matrix", "Euler Ancestral Karras", 1536)
    outcome = parse_tags({"PNG:Smproj": json.dumps({"Version": 2})})
    assert outcome.status == STATUS_UNPARSED and "Stability Matrix project without generation parameters" in outcome.error


def test_png_end_to_end(tmp_path: Path):
    folder = tmp_path / "sm"
    folder.mkdir()
    write_png(folder / "sm.png", chunks())
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    r = row_by_name(tmp_path / "t.db", "sm.png")
    assert (r["generator"], r["prompt"], r["sampler"], r["width"], r["model_hash"]) == (
        "Stability Matrix", RECORD["PositivePrompt"], "euler_ancestral", 1024, "A5F58EB1")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_record_never_crashes_the_parser(data):
    record = dict(RECORD)
    for key in data.draw(st.lists(st.sampled_from(sorted(record)), max_size=5)):
        record[key] = data.draw(_json)
    tags = {"PNG:Parameters-json": json.dumps(record), "PNG:Smproj": json.dumps(data.draw(_json)),
            "PNG:Parameters": data.draw(st.text(max_size=40))}
    if data.draw(st.booleans()):
        tags["PNG:Prompt"] = graph()
    outcome = parse_tags(tags)
    assert outcome.status != STATUS_ERROR, outcome.error
