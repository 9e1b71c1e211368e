"""TensorArt: generation_data wins; the ComfyUI graph fills gaps such as the seed '-1'."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags
from exifdata_analytics.samples import comfyui_graph, write_png
from tests.conftest import row_by_name

DATA = {"prompt": "a lantern, #テスト", "negativePrompt": "blurry, ", "width": 1024, "height": 1024, "imageCount": 1,
        "steps": 25, "cfgScale": 7, "seed": "-1", "clipSkip": 2,
        "baseModel": {"label": "v16", "type": "BASE_MODEL", "modelFileName": "WAI-Nsfw-Illustrious-16",
                      "hash": "A5F58EB1"},
        "models": [{"type": "LORA", "modelFileName": "detailer_v2", "weight": 0.7}],
        "sdVae": "Automatic", "etaNoiseSeedDelta": 31337, "ksamplerName": "euler_ancestral", "schedule": "karras"}


def graph() -> str:
    pj, _, _ = comfyui_graph("a lantern, #テスト", "blurry", model="EMS-1401459-EMS.safetensors", seed=3036459311,
                             steps=25, cfg=7, sampler_name="euler_ancestral", scheduler="karras")
    return pj


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_generation_data_wins_and_the_graph_supplies_the_real_seed():
    p = parsed({"PNG:Generation_data": json.dumps(DATA, ensure_ascii=False), "PNG:Prompt": graph()})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale, p.width,
            p.model, p.model_hash, p.clip_skip, p.vae) == (
        "TensorArt", "a lantern, #テスト", "blurry, ", 25, 3036459311, "euler_ancestral", "karras", 7.0, 1024,
        "WAI-Nsfw-Illustrious-16", "A5F58EB1", 2, None)
    assert [(r.name, r.weight) for r in p.resources] == [("detailer_v2", 0.7)]


def test_without_a_graph_the_random_seed_stays_unknown():
    assert parsed({"PNG:Generation_data": json.dumps(DATA)}).seed is None


def test_png_end_to_end(tmp_path: Path):
    folder = tmp_path / "ta"
    folder.mkdir()
    write_png(folder / "ta.png", [("generation_data", json.dumps(DATA, ensure_ascii=False)), ("prompt", graph())])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    r = row_by_name(tmp_path / "t.db", "ta.png")
    assert (r["generator"], r["prompt"], r["seed"], r["model"]) == ("TensorArt", "a lantern, #テスト", 3036459311,
                                                                    "WAI-Nsfw-Illustrious-16")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_generation_data_never_crashes_the_parser(data):
    doc = dict(DATA)
    for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=5)):
        doc[key] = data.draw(_json)
    outcome = parse_tags({"PNG:Generation_data": json.dumps(doc), "PNG:Prompt": graph()})
    assert outcome.status != STATUS_ERROR, outcome.error
