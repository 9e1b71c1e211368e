"""HuggingFace Spaces / diffusers-style JSON parameters."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags

SPACE = {"prompt": "a garden, テスト", "negative_prompt": "blurry, \n", "resolution": "1024 x 1024",
         "guidance_scale": 5.5, "num_inference_steps": 24, "seed": 443800072, "sampler": "DPM++ 2M Karras",
         "Model": "WAI NSFW illustrious SDXL v16", "Model hash": "BDB59BAC", "use_upscaler": None}


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_space_json():
    p = parsed({"PNG:Parameters": json.dumps(SPACE)})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale, p.width,
            p.height, p.model, p.model_hash) == (
        "HuggingFace Space", "a garden, テスト", "blurry, \n", 24, 443800072, "DPM++ 2M Karras", None, 5.5, 1024, 1024,
        "WAI NSFW illustrious SDXL v16", "BDB59BAC")


def test_diffusers_scheduler_is_the_sampler_unless_a_sampler_is_named():
    doc = {"prompt": "x", "num_inference_steps": 30, "width": 512, "height": 640,
           "scheduler": "EulerAncestralDiscreteScheduler"}
    p = parsed({"ExifIFD:UserComment": json.dumps(doc)})
    assert (p.sampler, p.scheduler, p.width, p.height) == ("EulerAncestralDiscreteScheduler", None, 512, 640)
    p = parsed({"PNG:Parameters": json.dumps(dict(doc, sampler="Euler a", scheduler="karras"))})
    assert (p.sampler, p.scheduler) == ("Euler a", "karras")


def test_other_tools_json_is_left_to_their_parsers():
    ed = {"prompt": "x", "num_inference_steps": 30, "guidance_scale": 7, "use_stable_diffusion_model": "sd-v1-4"}
    assert parsed({"ExifIFD:UserComment": json.dumps(ed)}).generator == "Easy Diffusion"
    assert parse_tags({"PNG:Parameters": json.dumps({"prompt": "x"})}).params is None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(SPACE) + ["width", "height", "scheduler", "strength"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
                       | st.lists(st.integers(), max_size=3), max_size=12))
def test_property_random_values_never_crash_the_parser(values):
    doc = dict(SPACE, **values)
    outcome = parse_tags({"PNG:Parameters": json.dumps(doc)})
    assert outcome.status != STATUS_ERROR, outcome.error
