"""Fooocus (JSON and A1111 schemes) and RuinedFooocus."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import row_by_name

FOOOCUS = {"adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
           "base_model_hash": "aeb7e9e689", "clip_skip": 2, "full_prompt": ["cinematic still a goldfish"],
           "guidance_scale": 4, "loras": [["sd_xl_offset_example-lora_1.0.safetensors", 0.1, "4852686128"],
                                          ["None", 1.0]],
           "metadata_scheme": "fooocus", "negative_prompt": "", "performance": "Speed", "prompt": "a goldfish",
           "resolution": "(768, 1280)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
           "seed": "6952411511246973023", "sharpness": 2, "steps": 30, "styles": "['Fooocus V2']",
           "vae": "Default (model)", "version": "Fooocus v2.4.3"}
OLD_FOOOCUS = {"Prompt": "a castle", "Negative Prompt": "ugly", "Styles": "['Fooocus V2']", "Performance": "Speed",
               "Resolution": "(1152, 896)", "Sharpness": 2, "Guidance Scale": 7, "Base Model": "sd_xl_base_1.0_0.9vae",
               "Refiner Model": "None", "Sampler": "dpmpp_2m_sde_gpu", "Scheduler": "karras", "Seed": 123,
               "Version": "v2.1.0"}
RUINED = {"Prompt": "a lake, #テスト", "Negative": "bad quality", "steps": 30, "cfg": 8, "width": 1024, "height": 1024,
          "seed": 2020047614, "sampler_name": "dpmpp_2m_sde_gpu", "scheduler": "karras",
          "base_model_name": "waiNSFWIllustrious_v150.safetensors", "base_model_hash": "BEFC694A",
          "loras": [["add_detail.safetensors", 0.5]], "start_step": 0, "denoise": None, "clip_skip": 1,
          "software": "RuinedFooocus"}


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_fooocus_json_scheme():
    p = parsed({"PNG:Parameters": json.dumps(FOOOCUS), "PNG:Fooocus_scheme": "fooocus"})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale, p.width,
            p.height, p.model, p.model_hash, p.vae, p.clip_skip) == (
        "Fooocus", "a goldfish", "", 30, 6952411511246973023, "dpmpp_2m_sde_gpu", "karras", 4.0, 768, 1280,
        "juggernautXL_v8Rundiffusion", "aeb7e9e689", None, 2)
    assert [(r.name, r.weight, r.hash) for r in p.resources] == [("sd_xl_offset_example-lora_1.0", 0.1, "4852686128")]
    assert p.params["full_prompt"] == ["cinematic still a goldfish"]


def test_old_capitalised_log_keys():
    p = parsed({"ExifIFD:UserComment": json.dumps(OLD_FOOOCUS)})
    assert (p.generator, p.prompt, p.negative_prompt, p.cfg_scale, p.width, p.height, p.model, p.seed) == (
        "Fooocus", "a castle", "ugly", 7.0, 1152, 896, "sd_xl_base_1.0_0.9vae", 123)


def test_fooocus_a1111_scheme_is_infotext_with_fooocus_as_generator():
    text = a1111_infotext("a goldfish", "", {"Steps": 30, "Sampler": "DPM++ 2M SDE", "Seed": 5, "Size": "768x1280",
                                             "Version": "Fooocus v2.4.3"})
    assert parsed({"PNG:Parameters": text}).generator == "Fooocus"


def test_ruined_fooocus():
    p = parsed({"PNG:Parameters": json.dumps(RUINED)})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale, p.width,
            p.model, p.model_hash, p.clip_skip, p.denoising_strength) == (
        "RuinedFooocus", "a lake, #テスト", "bad quality", 30, 2020047614, "dpmpp_2m_sde_gpu", "karras", 8.0, 1024,
        "waiNSFWIllustrious_v150.safetensors", "BEFC694A", 1, None)
    assert [(r.name, r.weight) for r in p.resources] == [("add_detail", 0.5)]


def test_png_and_jpeg_end_to_end(tmp_path: Path):
    folder = tmp_path / "f"
    folder.mkdir()
    write_png(folder / "f.png", [("parameters", json.dumps(FOOOCUS)), ("fooocus_scheme", "fooocus")])
    write_jpeg(folder / "f.jpg", user_comment=json.dumps(FOOOCUS), software="Fooocus v2.4.3")
    write_png(folder / "r.png", [("parameters", json.dumps(RUINED, ensure_ascii=False))])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    for name, generator in (("f.png", "Fooocus"), ("f.jpg", "Fooocus"), ("r.png", "RuinedFooocus")):
        r = row_by_name(tmp_path / "t.db", name)
        assert (r["generator"], r["steps"], r["width"]) == (generator, 30, 768 if generator == "Fooocus" else 1024)
    assert int(row_by_name(tmp_path / "t.db", "f.png")["seed"]) == 6952411511246973023


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_json_never_crashes_the_parser(data):
    for base in (FOOOCUS, OLD_FOOOCUS, RUINED):
        doc = dict(base)
        for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=5)):
            doc[key] = data.draw(_json)
        outcome = parse_tags({"PNG:Parameters": json.dumps(doc)})
        assert outcome.status != STATUS_ERROR, outcome.error
