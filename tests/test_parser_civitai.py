"""Civitai's JSON flavour: a ComfyUI graph with the generation request in extraMetadata."""
from __future__ import annotations

import json

from exifdata_analytics.parsers import parse_tags

REQUEST = {"prompt": "a cat, \n1girl", "negativePrompt": "bad quality\n", "cfgScale": 5, "sampler": "Euler a",
           "clipSkip": 2, "steps": 25, "baseModel": "Illustrious", "width": 1024, "height": 1536,
           "seed": 1311178179, "resources": [{"modelVersionId": 2514310, "strength": 1},
                                            {"type": "lora", "modelName": "detail", "strength": 0.6}]}


def _graph(extra) -> str:
    return json.dumps({"12": {"class_type": "SaveImage", "inputs": {"images": ["24", 0]}},
                       "extra": {"airs": []}, "extraMetadata": extra})


def test_extra_metadata_string_gives_every_field():
    out = parse_tags({"ExifIFD:UserComment": _graph(json.dumps(REQUEST))})
    p = out.params
    assert out.status == "ok" and p.generator == "Civitai"
    assert (p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.cfg_scale, p.width, p.height, p.clip_skip) == (
        "a cat, \n1girl", "bad quality\n", 25, 1311178179, "Euler a", 5.0, 1024, 1536, 2)
    assert p.model is None and p.params["baseModel"] == "Illustrious"
    assert [(r.kind, r.name, r.weight) for r in p.resources] == [
        ("unknown", "civitai:2514310", 1.0), ("lora", "detail", 0.6)]


def test_extra_metadata_as_an_object_in_a_png_chunk():
    out = parse_tags({"PNG:Prompt": _graph(REQUEST)})
    assert out.params.generator == "Civitai" and out.params.steps == 25


def test_json_without_a_generation_request_is_not_civitai():
    for text in (_graph("not json"), _graph({"foo": 1}), json.dumps([1, 2]), "{broken", "extraMetadata"):
        out = parse_tags({"ExifIFD:UserComment": text})
        assert out.params is None or out.params.generator != "Civitai"
