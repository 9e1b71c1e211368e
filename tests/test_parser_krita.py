"""Krita AI Diffusion: the iTXt ``parameters`` chunk its "Save Image Metadata" writes (A1111's
layout, the plugin's sampler presets, ``Model hash: unknown``), read through ExifTool."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.names import canonical_sampler
from exifdata_analytics.parsers import STATUS_OK, parse_tags
from exifdata_analytics.samples import write_png
from tests.conftest import row_by_name

# as the plugin's create_img_metadata builds it: the LoRAs appended to the prompt as tags
REFINE = ("a lighthouse on a cliff at dusk, oil painting <lora:styles/impasto.safetensors:0.55>\n"
          "Negative prompt: blurry, lowres\n"
          "Steps: 20, Sampler: Default - DPM++ 2M, CFG scale: 7.0, Seed: 1234567, Size: 1024x768, "
          "Model hash: unknown, Model: juggernautXL_v9.safetensors, Denoising strength: 0.65, Mode: Refine")
# an earlier version: no Mode; the negative line is written even when empty
GENERATE = ("a koi pond, ukiyo-e\nNegative prompt: \n"
            "Steps: 20, Sampler: Flux - Euler simple, CFG scale: 1.0, Seed: 42, Size: 896x1152, "
            "Model hash: unknown, Model: flux1-dev-fp8.safetensors")
# A1111's own text: stays A1111
A1111 = ("a cat\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, "
         "Seed: 1, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("krita")
    folder = root / "saved"
    folder.mkdir()
    write_png(folder / "refine.png", [("parameters", REFINE)], itxt=True, size=(1280, 960))
    write_png(folder / "generate.png", [("parameters", GENERATE)], itxt=True)
    write_png(folder / "a1111.png", [("parameters", A1111)])
    fill(FillOptions(root=str(folder), recursive=False, db_path=root / "k.db", workers=1))
    return root / "k.db"


def test_a_saved_result_gives_its_recipe(library: Path):
    r = row_by_name(library, "refine.png")
    assert r["parse_status"] == STATUS_OK and r["generator"] == "Krita AI Diffusion", r["error"]
    assert (r["prompt"], r["negative_prompt"], r["steps"], r["cfg_scale"], r["seed"], r["width"], r["height"],
            r["denoising_strength"], r["model"]) == (
        "a lighthouse on a cliff at dusk, oil painting <lora:styles/impasto.safetensors:0.55>", "blurry, lowres",
        20, 7.0, 1234567, 1024, 768, 0.65, "juggernautXL_v9.safetensors")
    # the generated area, not the canvas it was drawn onto
    assert (r["image_width"], r["image_height"]) == (1280, 960)
    # 'unknown' is not a hash; the preset is stored as written, its sampler and schedule derived
    assert r["model_hash"] is None and r["sampler"] == "Default - DPM++ 2M"
    assert (r["canonical_sampler"], r["canonical_scheduler"]) == ("DPM++ 2M", "Karras")
    assert json.loads(r["params_json"])["Mode"] == "Refine"


def test_an_earlier_save_without_mode_and_an_empty_negative(library: Path):
    r = row_by_name(library, "generate.png")
    assert r["generator"] == "Krita AI Diffusion", r["error"]
    assert (r["prompt"], r["negative_prompt"] or None, r["cfg_scale"], r["model"]) == (
        "a koi pond, ukiyo-e", None, 1.0, "flux1-dev-fp8.safetensors")
    assert (r["canonical_sampler"], r["canonical_scheduler"]) == ("Euler", "Simple")


def test_a1111_s_own_text_is_not_taken_for_krita_s(library: Path):
    r = row_by_name(library, "a1111.png")
    assert r["generator"] == "A1111" and r["model_hash"] == "6ce0161689"


def test_the_lora_tag_is_a_resource_with_its_weight():
    p = parse_tags({"PNG:Parameters": REFINE}).params
    assert p.generator == "Krita AI Diffusion"
    loras = [(r.name, r.weight) for r in p.resources if r.kind == "lora"]
    assert len(loras) == 1 and loras[0][1] == 0.55 and "impasto" in loras[0][0]


@pytest.mark.parametrize("text", [
    # 'Model hash: unknown' without a preset or a Mode: another tool imitating A1111
    "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: unknown, Model: m",
    # a preset-shaped sampler with a real hash
    "a cat\nSteps: 20, Sampler: Default - DPM++ 2M, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: 6ce0161689",
])
def test_the_markers_must_come_together(text: str):
    assert parse_tags({"PNG:Parameters": text}).params.generator != "Krita AI Diffusion"


def test_every_preset_of_the_plugin_has_a_sampler_and_a_schedule():
    presets = ("Default - DPM++ 2M", "Alternative - Euler A", "Creative - DPM++ 2M SDE", "Fast - UniPC BH2",
               "Turbo/Lightning Merge - DPM++ SDE", "Lightning Merge - Euler A Uniform", "Realtime - Hyper",
               "Realtime - LCM", "Realtime - Lightning", "SD3 - DPM++ 2M Uniform", "Flux - Euler simple",
               "Flux - Turbo")
    for preset in presets:
        name = canonical_sampler(preset)
        assert name.sampler_known and name.schedule_known, preset
