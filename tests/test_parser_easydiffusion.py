"""Easy Diffusion: one PNG chunk per key (two naming styles) or one JSON object."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, parse_tags
from exifdata_analytics.samples import write_jpeg, write_png
from tests.conftest import row_by_name

KEYS = {"prompt": "a windmill, テスト", "negative_prompt": "blurry", "seed": "1234567",
        "use_stable_diffusion_model": "C:\\EasyDiffusion\\models\\stable-diffusion\\sd-v1-5.safetensors",
        "sampler_name": "euler_a", "width": "512", "height": "768", "num_inference_steps": "25",
        "guidance_scale": "7.5", "clip_skip": "False", "use_vae_model": "vae-ft-mse-840000-ema-pruned",
        "use_lora_model": "add_detail,film_grain", "lora_alpha": "0.5,0.25", "prompt_strength": "0.8"}
LABELS = {"Prompt": "a windmill", "Negative Prompt": "blurry", "Seed": "42", "Stable Diffusion model": "sd-v1-4",
          "Sampler": "dpm2", "Width": "512", "Height": "512", "Steps": "30", "Guidance Scale": "8",
          "Clip Skip": "True", "VAE model": "None"}


def test_png_chunks_both_naming_styles_end_to_end(tmp_path: Path):
    folder = tmp_path / "ed"
    folder.mkdir()
    write_png(folder / "keys.png", list(KEYS.items()))
    write_png(folder / "labels.png", list(LABELS.items()))
    write_jpeg(folder / "json.jpg", user_comment=json.dumps(KEYS, ensure_ascii=False))
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    for name in ("keys.png", "json.jpg"):
        r = row_by_name(tmp_path / "t.db", name)
        assert (r["generator"], r["prompt"], r["negative_prompt"], r["seed"], r["sampler"], r["width"], r["height"],
                r["steps"], r["cfg_scale"], r["model"], r["vae"], r["clip_skip"]) == (
            "Easy Diffusion", "a windmill, テスト", "blurry", 1234567, "euler_a", 512, 768, 25, 7.5,
            "sd-v1-5.safetensors", "vae-ft-mse-840000-ema-pruned", None), (name, r["error"])
        assert float(json.loads(r["params_json"])["prompt_strength"]) == 0.8
        assert "imageWidth" not in json.loads(r["params_json"])
    r = row_by_name(tmp_path / "t.db", "labels.png")
    assert (r["generator"], r["prompt"], r["model"], r["steps"], r["cfg_scale"], r["clip_skip"], r["vae"]) == (
        "Easy Diffusion", "a windmill", "sd-v1-4", 30, 8.0, 2, None)


def test_lora_names_and_alphas_become_resources():
    tags = {f"PNG:{k.capitalize()}": v for k, v in KEYS.items()}
    p = parse_tags(tags).params
    assert p.generator == "Easy Diffusion"
    assert [(r.name, r.weight) for r in p.resources] == [("add_detail", 0.5), ("film_grain", 0.25)]


def test_a_comfyui_prompt_chunk_with_a_negative_chunk_is_not_easy_diffusion():
    tags = {"PNG:Prompt": json.dumps({"1": {"class_type": "X", "inputs": {}}}), "PNG:Negative_prompt": "x"}
    outcome = parse_tags(tags)
    assert outcome.params is None or outcome.params.generator != "Easy Diffusion"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(KEYS) + sorted(LABELS)),
                       st.none() | st.integers() | st.floats() | st.text(max_size=15), max_size=14))
def test_property_random_values_never_crash_the_parser(values):
    for tags in ({f"PNG:{k.capitalize().replace(' ', '')}": v for k, v in values.items()},
                 {"ExifIFD:UserComment": json.dumps(dict(KEYS, **values))}):
        outcome = parse_tags(tags)
        assert outcome.status != STATUS_ERROR, outcome.error
