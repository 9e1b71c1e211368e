"""SwarmUI: sui_image_params wins over the ComfyUI graph Swarm also saves; the graph fills gaps."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags
from exifdata_analytics.samples import comfyui_graph, write_jpeg, write_png
from tests.conftest import row_by_name

REQUEST = {"prompt": "a harbor at dawn, #テスト", "negativeprompt": "blurry, ", "model": "juggernautXL_v9",
           "seed": 733776228, "steps": 20, "cfgscale": 7.0, "aspectratio": "1:1", "width": 768, "height": 768,
           "sampler": "euler_ancestral", "scheduler": "karras", "refinerupscale": 1.5, "clipstopatlayer": -2,
           "loras": ["add_detail", "film_grain"], "loraweights": ["0.6", "0.3"], "swarm_version": "0.9.7.4"}
DOC = {"sui_image_params": REQUEST, "sui_extra_data": {"date": "2026-01-03"},
       "sui_models": [{"name": "juggernautXL_v9.safetensors", "param": "model", "hash": "0x1234abcd"}]}


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_request_fields_models_hash_and_loras():
    p = parsed({"PNG:Parameters": json.dumps(DOC, indent=2)})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale, p.width,
            p.height, p.model, p.model_hash, p.clip_skip) == (
        "SwarmUI", "a harbor at dawn, #テスト", "blurry, ", 20, 733776228, "euler_ancestral", "karras", 7.0, 768, 768,
        "juggernautXL_v9", "0x1234abcd", 2)
    assert [(r.name, r.weight) for r in p.resources] == [("add_detail", 0.6), ("film_grain", 0.3)]
    assert p.params["sui_extra_data"] == {"date": "2026-01-03"}


def test_request_wins_over_the_graph_which_fills_gaps():
    graph, _, _ = comfyui_graph("graph text", "graph negative", model="other.safetensors", seed=1, steps=5,
                                width=1024, height=1024, sampler_name="lcm")
    request = {k: v for k, v in REQUEST.items() if k not in ("scheduler", "seed")}
    p = parsed({"PNG:Parameters": json.dumps({"sui_image_params": request}), "PNG:Prompt": graph})
    assert (p.generator, p.prompt, p.sampler, p.width, p.model) == ("SwarmUI", "a harbor at dawn, #テスト",
                                                                    "euler_ancestral", 768, "juggernautXL_v9")
    assert (p.seed, p.scheduler) == (1, "normal")  # missing from the request: from the graph
    assert p.params["ComfyUI graph"]["samplers"][0]["steps"] == 5


def test_png_and_jpeg_end_to_end(tmp_path: Path):
    folder = tmp_path / "s"
    folder.mkdir()
    write_png(folder / "s.png", [("parameters", json.dumps(DOC, indent=2))])
    write_jpeg(folder / "s.jpg", user_comment=json.dumps(DOC))
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    for name in ("s.png", "s.jpg"):
        r = row_by_name(tmp_path / "t.db", name)
        assert (r["generator"], r["prompt"], r["seed"], r["model"]) == (
            "SwarmUI", "a harbor at dawn, #テスト", 733776228, "juggernautXL_v9"), name


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_request_never_crashes_the_parser(data):
    request = dict(REQUEST)
    for key in data.draw(st.lists(st.sampled_from(sorted(request)), max_size=5)):
        request[key] = data.draw(_json)
    doc = dict(DOC, sui_image_params=request, sui_models=data.draw(_json))
    outcome = parse_tags({"PNG:Parameters": json.dumps(doc), "PNG:Prompt": json.dumps(data.draw(_json))})
    assert outcome.status != STATUS_ERROR, outcome.error


def test_trailing_commas_and_numbers_as_strings_through_the_real_filler(tmp_path):
    """SwarmUI has written JSON that json.loads refuses: commas before '}' and ']', numbers
    as strings. A real PNG, read by ExifTool, still gives every field; a comma inside a
    string stays."""
    text = ('{\n  "sui_image_params": {\n    "prompt": "a harbor, {at,} dawn,]",\n    "negativeprompt": "blurry",\n'
            '    "model": "juggernautXL_v9",\n    "seed": "733776228",\n    "steps": "20",\n    "cfgscale": "6.5",\n'
            '    "width": "832",\n    "height": "1216",\n    "sampler": "dpmpp_2m",\n    "scheduler": "karras",\n'
            '    "loras": ["add_detail", "film_grain",],\n    "loraweights": ["0.6", "0.3",],\n  },\n'
            '  "sui_models": [{"name": "juggernautXL_v9.safetensors", "param": "model", "hash": "0xab",},],\n}')
    root = tmp_path / "imgs"
    root.mkdir()
    write_png(root / "swarm.png", {"parameters": text})
    db = tmp_path / "s.db"
    fill(FillOptions(root=str(root), recursive=False, db_path=db, workers=1))
    row = row_by_name(db, "swarm.png")
    assert (row["generator"], row["prompt"], row["seed"], row["steps"], row["cfg_scale"], row["width"], row["height"],
            row["sampler"], row["scheduler"], row["model"], row["model_hash"]) == (
        "SwarmUI", "a harbor, {at,} dawn,]", 733776228, 20, 6.5, 832, 1216, "dpmpp_2m", "karras", "juggernautXL_v9",
        "0xab")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet=',]}"\\ a{['),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_removing_trailing_commas_leaves_valid_json_as_it_was(value):
    from exifdata_analytics.parsers.common import without_trailing_commas

    for text in (json.dumps(value), json.dumps(value, indent=1)):
        assert json.loads(without_trailing_commas(text)) == value
