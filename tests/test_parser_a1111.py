"""Tests of the A1111-family infotext parser (exifdata_analytics.parsers.a1111)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, a1111, normalize_tags, parse_tags

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def params_of(text: str, tag: str = "PNG:Parameters"):
    outcome = parse_tags({"SourceFile": "/x/image.png", tag: text})
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def by_name(resources):
    return {(r.kind, r.name): r for r in resources}


# ---------------------------------------------------------------------------------------------
# prompt / negative prompt structure

BASIC = (
    "photo of a duck\n"
    "Negative prompt: monochrome\n"
    "Steps: 15, Sampler: UniPC, CFG scale: 5, Seed: 235284042, Size: 512x400, "
    "Model hash: c0d1994c73, Model: realistic_realisticVisionV20_v20"
)


def test_basic_infotext_fields():
    p = params_of(BASIC)
    assert p.generator == "A1111"
    assert p.prompt == "photo of a duck"
    assert p.negative_prompt == "monochrome"
    assert (p.steps, p.sampler, p.cfg_scale, p.seed) == (15, "UniPC", 5.0, 235284042)
    assert (p.width, p.height) == (512, 400)
    assert p.model == "realistic_realisticVisionV20_v20"
    assert p.model_hash == "c0d1994c73"
    assert p.params["Size"] == "512x400"
    assert p.params["Model hash"] == "c0d1994c73"


def test_multiline_prompt_and_negative_keep_line_breaks():
    text = (
        "general, masterpiece, best quality, \n1girl, solo,\n\n(red eyes:1.2)\n\n"
        "Negative prompt: bad quality, \nworst quality,\nsketch, \n\n"
        "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 1024x1024"
    )
    p = params_of(text)
    assert p.prompt == "general, masterpiece, best quality, \n1girl, solo,\n\n(red eyes:1.2)"
    assert p.negative_prompt == "bad quality, \nworst quality,\nsketch, "


def test_missing_negative_prompt_line_still_parses_all_settings():
    text = "a cat on a mat,\nhighly detailed\nSteps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 42, Size: 768x512, Model: sd15"
    p = params_of(text)
    assert p.prompt == "a cat on a mat,\nhighly detailed"
    assert p.negative_prompt == ""
    assert (p.steps, p.sampler, p.cfg_scale, p.seed, p.width, p.height, p.model) == (
        30, "Euler a", 6.5, 42, 768, 512, "sd15")
    assert "Sampler:" not in p.prompt


def test_empty_negative_prompt():
    text = "a dog\nNegative prompt: \nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 3, Size: 512x512"
    p = params_of(text)
    assert p.prompt == "a dog"
    assert p.negative_prompt == ""
    assert p.steps == 20


def test_empty_prompt_with_settings_only():
    p = params_of("Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 3, Size: 512x512")
    assert p.prompt == ""
    assert p.seed == 3


def test_key_value_text_in_prompt_stays_in_prompt():
    text = (
        "style: anime, mood: dark, lighting: soft\n"
        "subject: a girl, Steps: none here\n"
        "Negative prompt: text: watermark, quality: low, Seed: bad\n"
        "Steps: 25, Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 512x768"
    )
    p = params_of(text)
    assert p.prompt == "style: anime, mood: dark, lighting: soft\nsubject: a girl, Steps: none here"
    assert p.negative_prompt == "text: watermark, quality: low, Seed: bad"
    assert p.seed == 99
    assert "style" not in p.params and "mood" not in p.params


def test_key_value_prompt_without_negative_line_stays_in_prompt():
    text = "style: anime, mood: dark, lighting: soft\nSteps: 25, Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 512x768"
    p = params_of(text)
    assert p.prompt == "style: anime, mood: dark, lighting: soft"
    assert p.steps == 25


def test_negative_prompt_sharing_the_settings_line():
    text = "a cat\nNegative prompt: blurry, lowres Steps: 25, Sampler: Euler a, CFG scale: 5, Seed: 7, Size: 512x512"
    p = params_of(text)
    assert p.negative_prompt == "blurry, lowres"
    assert (p.steps, p.sampler, p.seed) == (25, "Euler a", 7)


def test_settings_line_written_before_the_negative_prompt():
    text = "a cat,\nsitting\nSteps: 20, Sampler: Euler a, CFG scale: 5, Seed: 9, Size: 512x512\nNegative prompt: ugly"
    p = params_of(text)
    assert (p.prompt, p.negative_prompt, p.seed) == ("a cat,\nsitting", "ugly", 9)


def test_prompt_sharing_the_settings_line_keeps_its_text():
    p = params_of("  a cat, Steps: 20, Sampler: Euler a, CFG scale: 5, Seed: 7, Size: 512x512")
    assert p.prompt == "  a cat,"
    assert p.steps == 20


def test_windows_line_endings():
    text = "a cat,\r\nsitting\r\n\r\nNegative prompt: ugly,\r\nblurry\r\n\r\nSteps: 20, Sampler: Euler a, CFG scale: 5, Seed: 9, Size: 512x512\r\n"
    p = params_of(text)
    assert p.prompt == "a cat,\r\nsitting"
    assert p.negative_prompt == "ugly,\r\nblurry"
    assert (p.steps, p.seed, p.width) == (20, 9, 512)
    assert p.params["Size"] == "512x512"


def test_unicode_prompt_and_png_mojibake_repaired():
    text = "1girl, テスト, 猫 🐱\nNegative prompt: 低品質\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512"
    assert params_of(text).prompt == "1girl, テスト, 猫 🐱"
    mojibake = text.encode("utf-8").decode("cp1252", errors="ignore")  # what ExifTool shows for tEXt
    p = params_of(text.encode("utf-8").decode("latin-1"))
    assert p.prompt == "1girl, テスト, 猫 🐱"
    assert p.negative_prompt == "低品質"
    assert parse_tags({"PNG:Parameters": mojibake}).status == STATUS_OK


def test_text_after_settings_line_pairs_are_merged():
    text = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512\nTemplate: a cat"
    p = params_of(text)
    assert p.prompt == "a cat"
    assert p.params["Template"] == "a cat"


# ---------------------------------------------------------------------------------------------
# settings line values


def test_quoted_values_with_commas_colons_and_newlines_are_unquoted():
    text = (
        "a cat\n"
        'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, '
        'ADetailer prompt: "smile, blue eyes: 1.2\\nline two", '
        'Hires prompt: "say \\"hi\\", ok", Wildcard prompt: "{a|b}, c", Version: v1.10.1'
    )
    p = params_of(text)
    assert p.params["ADetailer prompt"] == "smile, blue eyes: 1.2\nline two"
    assert p.params["Hires prompt"] == 'say "hi", ok'
    assert p.params["Wildcard prompt"] == "{a|b}, c"
    assert p.params["Version"] == "v1.10.1"


def test_schedule_type_is_the_scheduler_and_sampler_kept_as_written():
    text = "x\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512, Version: v1.10.1"
    p = params_of(text)
    assert (p.sampler, p.scheduler) == ("DPM++ 2M", "Karras")
    old = params_of("x\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x512")
    assert (old.sampler, old.scheduler) == ("DPM++ 2M Karras", None)


def test_numeric_fields_and_vae_clip_skip_denoising():
    text = (
        "x\nSteps: 28, Sampler: Euler a, CFG scale: 4.5, Seed: 18446744073709551615, Size: 832x1216, "
        "Model hash: 0123abcd, Model: ponyV6, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, "
        "Denoising strength: 0.35, Clip skip: 2, RNG: CPU"
    )
    p = params_of(text)
    assert p.seed == 18446744073709551615
    assert p.cfg_scale == 4.5 and p.denoising_strength == 0.35 and p.clip_skip == 2
    assert (p.width, p.height) == (832, 1216)
    assert p.vae == "sdxl_vae.safetensors"
    assert p.params["VAE hash"] == "235745af8d"
    assert p.params["RNG"] == "CPU"


def test_malformed_numbers_become_none_not_errors():
    text = "x\nSteps: many, Sampler: Euler, CFG scale: high, Seed: -1, Size: big, Clip skip: nan"
    p = params_of(text)
    assert (p.steps, p.cfg_scale, p.seed, p.width, p.height, p.clip_skip) == (None, None, -1, None, None, None)
    assert p.params["Steps"] == "many"


def test_hires_and_adetailer_keys_go_into_params():
    text = (
        "a knight\nNegative prompt: lowres\n"
        "Steps: 24, Sampler: Euler a, Schedule type: Automatic, CFG scale: 4, Seed: 4179307297, Size: 1024x1024, "
        "Model: waiNSFWIllustrious_v140, Model hash: c9b4dab236, Denoising strength: 0.3, "
        "Hires upscale: 1.5, Hires steps: 10, Hires upscaler: ESRGAN-UltraSharp-4x, "
        "ADetailer model: face_yolov8n.pt, ADetailer confidence: 0.3, ADetailer dilate erode: 4, "
        "ADetailer inpaint only masked: True, ADetailer Version: Neo, Distilled CFG Scale: 3.5, Version: neo-2.28"
    )
    p = params_of(text)
    for key, value in {
        "Hires upscale": "1.5", "Hires steps": "10", "Hires upscaler": "ESRGAN-UltraSharp-4x",
        "ADetailer model": "face_yolov8n.pt", "ADetailer confidence": "0.3",
        "ADetailer inpaint only masked": "True", "Distilled CFG Scale": "3.5", "Version": "neo-2.28",
    }.items():
        assert p.params[key] == value
    assert p.cfg_scale == 4.0  # not the Distilled CFG Scale
    assert p.generator == "Forge Neo"  # 'ADetailer Version: Neo' is not the Version key


def test_unknown_keys_are_kept():
    p = params_of("x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, My Ext-Key/2: foo bar")
    assert p.params["My Ext-Key/2"] == "foo bar"


# ---------------------------------------------------------------------------------------------
# embedded JSON and resources


CIVITAI = (
    "masterpiece, 1girl, <lora:add_detail:0.6>\n"
    "Negative prompt: bad quality, \n\n"
    "Steps: 25, Sampler: Euler a, CFG scale: 5, Seed: 1311178179, Size: 1024x1024, Clip skip: 2, "
    "Created Date: 2026-01-04T01:27:21.2717070Z, "
    'Civitai resources: [{"type":"checkpoint","modelVersionId":2514310,"modelName":"WAI-illustrious-SDXL",'
    '"modelVersionName":"v16.0"},{"type":"lora","weight":0.6,"modelVersionId":87153,"modelName":"Detail Tweaker LoRA",'
    '"modelVersionName":"v1.0"},{"type":"embed","modelVersionId":9208,"modelName":"EasyNegative, v2",'
    '"modelVersionName":"EasyNegative"}], Civitai metadata: {}'
)


def test_civitai_resources_json_without_model_field():
    p = params_of(CIVITAI, tag="ExifIFD:UserComment")
    assert p.generator == "Civitai"
    assert p.model == "WAI-illustrious-SDXL"
    assert p.negative_prompt == "bad quality, "
    assert p.clip_skip == 2
    resources = p.params["Civitai resources"]
    assert isinstance(resources, list) and len(resources) == 3
    assert resources[2]["modelName"] == "EasyNegative, v2"
    assert p.params["Civitai metadata"] == {}
    assert p.params["Created Date"] == "2026-01-04T01:27:21.2717070Z"
    res = by_name(p.resources)
    assert res[("checkpoint", "WAI-illustrious-SDXL")].source == "Civitai resources"
    assert res[("lora", "Detail Tweaker LoRA")].weight == 0.6
    assert ("embedding", "EasyNegative, v2") in res
    assert res[("lora", "add_detail")].weight == 0.6 and res[("lora", "add_detail")].source == "prompt"


def test_hashes_json_gives_model_hash_and_resources():
    text = (
        "a cat <lora:detail:0.8>, embedding bad_hands\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 5.0, Seed: 1, Clip skip: 2, Size: 1024x1024, "
        'Model: waiIllustriousSDXL_v160.safetensors, Hashes: {"model": "45a21ea00a", "vae": "235745af8d", '
        '"lora:detail": "aabbccddeeff", "embed:bad_hands": "112233445566"}'
    )
    p = params_of(text)
    assert p.model == "waiIllustriousSDXL_v160.safetensors"
    assert p.model_hash == "45a21ea00a"
    assert p.params["Hashes"]["vae"] == "235745af8d"
    res = by_name(p.resources)
    lora = res[("lora", "detail")]
    assert (lora.weight, lora.hash, lora.source) == (0.8, "aabbccddeeff", "prompt, Hashes")
    assert res[("embedding", "bad_hands")].hash == "112233445566"


def test_quoted_hashes_json_string_is_decoded():
    text = 'x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, Hashes: "{\\"model\\": \\"abc123\\"}"'
    p = params_of(text)
    assert p.params["Hashes"] == {"model": "abc123"}
    assert p.model_hash == "abc123"


def test_lora_hashes_merge_with_prompt_loras():
    text = (
        "1girl <lora:NoobV065sHyperDmd:1> <lyco:my:style:0.5> <hypernet:anime_3:0.7> <lora:plain>\n"
        "Negative prompt: bad\n"
        "Steps: 4, Sampler: LCM, Schedule type: SGM Uniform, CFG scale: 1, Seed: 2582194946, Size: 1024x1024, "
        'Lora hashes: "NoobV065sHyperDmd: 45b5bd0819cf, mystyle: 0123456789ab", '
        "Version: f1.3.0-v1.10.1RC-latest-1038-g19395bf9"
    )
    p = params_of(text)
    assert p.generator == "EasyReforge"
    res = by_name(p.resources)
    noob = res[("lora", "NoobV065sHyperDmd")]
    assert (noob.weight, noob.hash, noob.source) == (1.0, "45b5bd0819cf", "prompt, Lora hashes")
    assert res[("hypernetwork", "anime_3")].weight == 0.7
    assert res[("lora", "plain")].weight is None
    assert p.params["Lora hashes"] == "NoobV065sHyperDmd: 45b5bd0819cf, mystyle: 0123456789ab"
    assert len([r for r in p.resources if r.name == "NoobV065sHyperDmd"]) == 1


def test_prompt_lora_named_weights():
    p = params_of("<lora:foo:te=0.4:unet=0.9> <lora:bar:unet=0.3>\nSteps: 20, Sampler: Euler, Seed: 1, Size: 512x512")
    res = by_name(p.resources)
    assert res[("lora", "foo")].weight == 0.4
    assert res[("lora", "bar")].weight is None


def test_ti_hashes_duplicates_are_deduplicated():
    text = (
        "a cat, EasyNegative\nNegative prompt: EasyNegative, badhandv4\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512, "
        'TI hashes: "EasyNegative: c74b4e810b03, badhandv4: 5e40d722fc3d, EasyNegative: c74b4e810b03", Version: v1.7.0'
    )
    p = params_of(text)
    embeddings = [r for r in p.resources if r.kind == "embedding"]
    assert [(r.name, r.hash) for r in embeddings] == [("EasyNegative", "c74b4e810b03"), ("badhandv4", "5e40d722fc3d")]


def test_sd_next_style_infotext():
    text = (
        "general, masterpiece, \n1girl, solo, #テスト <lora:detail:0.7>\n\n"
        "Negative prompt: bad quality, \n\n"
        "Steps: 20, Size: 1024x1024, Sampler: DDIM, Seed: 2427651458, CFG scale: 6, App: SD.Next, Version: 56a8aea, "
        "Pipeline: StableDiffusionXLPipeline, Operations: txt2img; upscale, Model: waiIllustriousSDXL_v160, "
        "Model hash: 45a21ea00a, LoRA networks: detail, other, LoRA hashes: aaaa1111, bbbb2222, "
        "Sampler sigma: exponential"
    )
    p = params_of(text)
    assert p.generator == "SD.Next"
    assert p.prompt == "general, masterpiece, \n1girl, solo, #テスト <lora:detail:0.7>"
    assert (p.sampler, p.scheduler, p.steps, p.width) == ("DDIM", "exponential", 20, 1024)
    assert p.params["Operations"] == "txt2img; upscale"
    assert p.params["LoRA networks"] == "detail, other"
    res = by_name(p.resources)
    assert (res[("lora", "detail")].weight, res[("lora", "detail")].hash) == (0.7, "aaaa1111")
    assert res[("lora", "other")].hash == "bbbb2222"


def test_sd_next_without_app_key_detected_by_its_keys():
    p = params_of("x\nSteps: 20, Sampler: Euler a, CFG scale: 6, Seed: 1, Pipeline: StableDiffusionPipeline, Operations: txt2img")
    assert p.generator == "SD.Next"


@pytest.mark.parametrize("version, generator", [
    ("v1.10.1", "A1111"),
    ("v1.6.0-2-g4afaaf8a", "A1111"),
    ("f2.0.1v1.10.1-previous-669-gdfdcbab6", "Forge"),
    ("f0.0.17v1.8.0rc-latest-276-g29be1da7", "Forge"),
    ("f1.0.0v2-v1.10.1RC-latest-2498-g5120e679", "reForge"),
    ("f1.0.0v2dev-v1.10.1RC-latest-2488-ga197a41d", "reForge"),
    ("f1.3.0-v1.10.1RC-latest-1038-g19395bf9", "EasyReforge"),
    ("classic", "Forge Classic"),
    ("neo", "Forge Neo"),
    ("neo-2.28", "Forge Neo"),
    ("ComfyUI", "ComfyUI"),
])
def test_generator_from_version_string(version, generator):
    p = params_of(f"x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, Version: {version}")
    assert p.generator == generator


def test_generator_defaults_to_a1111_without_version():
    assert params_of(BASIC).generator == "A1111"


# ---------------------------------------------------------------------------------------------
# where the text comes from, and what is not infotext


def test_usercomment_and_copy_groups_are_read():
    assert params_of(BASIC, tag="ExifIFD:UserComment").seed == 235284042
    assert params_of(BASIC, tag="PNG:Copy1:Parameters").seed == 235284042
    assert params_of(BASIC, tag="PNG-zTXt:Parameters").seed == 235284042


def test_parameters_chunk_is_preferred_over_usercomment():
    other = BASIC.replace("Seed: 235284042", "Seed: 1")
    outcome = parse_tags({"ExifIFD:UserComment": other, "PNG:Parameters": BASIC})
    assert outcome.params.seed == 235284042


def test_image_description_only_when_clearly_infotext():
    assert params_of(BASIC, tag="IFD0:ImageDescription").seed == 235284042
    assert a1111.parse({"IFD0:ImageDescription": "holiday: beach, weather: sunny, Model: Canon EOS"}) is None
    assert a1111.parse({"IFD0:ImageDescription": "a photo\nNegative prompt: none"}) is None


def test_negative_prompt_without_settings_is_accepted_from_parameters():
    p = params_of("a cat\nNegative prompt: a dog")
    assert (p.prompt, p.negative_prompt, p.steps) == ("a cat", "a dog", None)


@pytest.mark.parametrize("text", [
    json.dumps({"prompt": "a cat", "negative_prompt": "", "steps": 30, "base_model": "juggernautXL",
                "sampler": "dpmpp_2m_sde_gpu", "metadata_scheme": "fooocus"}),
    json.dumps({"sui_image_params": {"prompt": "a cat", "seed": 1, "steps": 20}}, indent=2),
    json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}}),
    '[{"Steps: 20, Sampler: Euler, Seed: 1": 1}]',
    "Created with GIMP",
    "just a plain prompt without any settings",
    "style: anime, mood: dark, lighting: soft",
    "",
    "   \n\n  ",
])
def test_not_infotext_returns_none(text):
    assert a1111.parse({"PNG:Parameters": text}) is None
    assert a1111.parse({"ExifIFD:UserComment": text}) is None


def test_non_string_values_are_ignored():
    assert a1111.parse({"PNG:Parameters": 12345, "ExifIFD:UserComment": None, "SourceFile": "/x.png"}) is None


def test_workflow_description_of_comfyui_is_not_infotext():
    text = 'Workflow: {"nodes": [{"id": 1, "type": "KSampler", "widgets_values": [1, "fixed", 20, 7]}]}'
    assert a1111.parse({"IFD0:ImageDescription": text}) is None


def test_pathological_inputs_stay_fast():
    settings_line = "x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, "
    texts = [
        "<lora:a" + " " * 50000 + "b\n" + settings_line,
        settings_line + "a: [, " * 20000,
        settings_line + "a: [, " * 20000 + "]" * 20000 + " x",
        settings_line + 'a: "\\", ' * 20000,
        "[" * 100000 + "]" * 100000,
        "style: anime, mood: dark\n" * 20000,
        "Negative prompt: a Steps: 1\n" * 20000,
    ]
    start = time.perf_counter()
    for text in texts:
        a1111.parse({"PNG:Parameters": text})
    assert time.perf_counter() - start < 5.0


# ---------------------------------------------------------------------------------------------
# properties


def a1111_quote(value: str) -> str:
    """What A1111's infotext writer does with a value."""
    if "," not in value and "\n" not in value and ":" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


# printable text without NUL or the Latin-1 range (which may legitimately be taken for mojibake)
_text = st.text(st.characters(exclude_categories=("Cs",),
                              exclude_characters=["\x00"] + [chr(c) for c in range(0x80, 0x100)]), max_size=80)
_line_text = _text.filter(lambda s: not s.lstrip().startswith("Negative prompt:"))


def assert_a1111_did_not_fail(outcome):
    """parse_tags never raises; it reports a crashing parser as status 'error' with its name."""
    assert outcome.status != STATUS_ERROR or "a1111" not in (outcome.error or ""), outcome.error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_property_never_raises_on_arbitrary_text(text):
    for tag in ("PNG:Parameters", "ExifIFD:UserComment", "IFD0:ImageDescription"):
        a1111.parse({tag: text})
        assert_a1111_did_not_fail(parse_tags({tag: text}))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_never_raises_on_mutated_infotext(data):
    text = data.draw(st.sampled_from([BASIC, CIVITAI, CIVITAI.replace("\n", "\r\n")]))
    specials = st.sampled_from(['"', "\\", "{", "}", "[", "]", ",", ":", "\n", "\r", "<", ">", "x", "Steps:",
                                "Negative prompt:", "\x00", "\u2028", "é", "ã"])
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if op == "insert":
            text = text[:pos] + data.draw(specials) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 20)):]
        elif op == "replace":
            text = text[:pos] + data.draw(specials) + text[pos + 1:]
        else:
            text = text[:pos]
    for tag in ("PNG:Parameters", "ExifIFD:UserComment"):
        a1111.parse({tag: text})
        assert_a1111_did_not_fail(parse_tags({tag: text}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt_lines=st.lists(_line_text, min_size=1, max_size=3),
    negative=st.none() | st.lists(_text, min_size=1, max_size=3),
    steps=st.integers(1, 150),
    seed=st.integers(-1, 2**64),
    cfg=st.floats(0, 30, allow_nan=False).map(lambda f: round(f, 2)),
    sampler=st.sampled_from(["Euler a", "DPM++ 2M", "DPM++ SDE", "UniPC", "LCM"]),
    extra=_text,
)
def test_property_round_trip_of_written_infotext(prompt_lines, negative, steps, seed, cfg, sampler, extra):
    prompt = "\n".join(prompt_lines)
    assume(not prompt.endswith(("\r", "\n")) and prompt.strip())
    lines = [prompt]
    if negative is not None:
        neg = "\n".join(negative)
        assume(not neg.endswith(("\r", "\n")) and not neg[:1].isspace())
        lines.append(f"Negative prompt: {neg}")
    assume(not extra.startswith(("\"", "{", "[")))
    assume(extra == extra.strip() and "\r" not in extra and "\u2028" not in extra)
    lines.append(f"Steps: {steps}, Sampler: {sampler}, CFG scale: {cfg}, Seed: {seed}, Size: 512x768, "
                 f"Extra value: {a1111_quote(extra)}, Version: v1.10.1")
    p = params_of("\n".join(lines))
    assert p.prompt == prompt
    assert p.negative_prompt == ("" if negative is None else neg)
    assert (p.steps, p.seed, p.cfg_scale, p.sampler, p.width, p.height) == (steps, seed, cfg, sampler, 512, 768)
    assert p.params["Extra value"] == extra
    assert p.params["Version"] == "v1.10.1"


# ---------------------------------------------------------------------------------------------
# the peer corpus (real files, real ExifTool)

FAMILY = {"A1111", "Forge", "Forge Classic", "Forge Neo", "reForge", "EasyReforge", "SD.Next", "Civitai"}


def _family_entries(manifest):
    """Manifest entries whose generation data is A1111-family infotext that ExifTool can see
    (not the alpha-channel stealth file, not Civitai's ComfyUI-JSON upscale)."""
    for entry in manifest:
        generator = entry.get("generator", "")
        if generator not in FAMILY and "A1111-format text" not in generator and "zTXt" not in generator:
            continue
        exif = entry.get("exiftool") or {}
        if not exif.get("exposes_generation_data", True):
            continue
        if "json" in (entry.get("metadata_format") or "").lower():
            continue
        yield entry


@pytest.mark.skipif(not (SHARED / "corpus" / "peer" / "expected.json").is_file(), reason="../shared corpus absent")
@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_peer_corpus_a1111_family_field_match_rate():
    root = SHARED / "corpus" / "peer"
    sys.path.insert(0, str(SHARED / "tools"))
    try:
        from conformance import FIELDS, field_match
    finally:
        sys.path.remove(str(SHARED / "tools"))
    manifest = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    entries = list(_family_entries(manifest))
    assert len(entries) >= 25
    files = [str((root / e["file"]).resolve()) for e in entries]
    out = subprocess.run(["exiftool", "-j", "-G1:4", "-charset", "filename=utf8", *files],
                         capture_output=True, text=True, encoding="utf-8", check=False, timeout=120)
    records = {str(Path(r["SourceFile"]).resolve()): r for r in json.loads(out.stdout)}
    columns = {"cfg": "cfg_scale"}
    hit = total = 0
    misses = []
    for entry, path in zip(entries, files):
        params = a1111.parse(normalize_tags(records[path]))
        expected = entry.get("expected") or {}
        if expected.get("prompts_non_empty"):
            total += 1
            hit += bool(params and params.prompt)
            continue
        row = {f: getattr(params, columns.get(f, f)) if params else None for f in FIELDS}
        row["_exp_scheduler"] = expected.get("scheduler")
        for field in FIELDS:
            if expected.get(field) in (None, ""):
                continue
            total += 1
            if params is not None and field_match(field, expected[field], row.get(field), row):
                hit += 1
            else:
                misses.append((entry["file"], field, expected[field], row.get(field)))
    assert total >= 200
    assert hit / total >= 0.98, misses


SAVE_IMAGE_WITH_METADATA = (  # nkchocoai/ComfyUI-SaveImageWithMetaData's text: no Version key
    "a lighthouse at night\nNegative prompt: blurry\n"
    "Steps: 28, Sampler: dpmpp_2m_sde_gpu_karras, CFG Scale: 6.5, Seed: 42, Size: 832x1216, "
    "Model: ponyDiffusionV6XL, Model hash: 67ab2fd8ec, Lora_0 Model name: add_detail.safetensors, "
    "Lora_0 Model hash: 7c6bad76eb, Lora_0 Strength model: 0.6, Lora_0 Strength clip: 0.6, "
    'Hashes: {"model": "67ab2fd8ec", "lora:add_detail": "7c6bad76eb"}')


def test_comfyui_save_nodes_without_a_version_are_comfyui_not_a1111():
    assert params_of(SAVE_IMAGE_WITH_METADATA).generator == "ComfyUI"
    # either fingerprint alone: a sampler in ComfyUI's spelling, or the Lora_N keys
    assert params_of("cat\nSteps: 20, Sampler: euler_ancestral, CFG scale: 7, Seed: 1").generator \
        == "ComfyUI"
    assert params_of("cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, "
                     "Lora_0 Model name: x.safetensors").generator == "ComfyUI"
    # A1111's own spellings, with or without a Version, stay A1111
    for sampler in ("Euler a", "DPM++ 2M Karras", "DPM++ SDE", "UniPC", "euler"):
        text = f"cat\nSteps: 20, Sampler: {sampler}, CFG scale: 7, Seed: 1"
        assert params_of(text).generator == "A1111", sampler
    assert params_of("cat\nSteps: 20, Sampler: dpmpp_2m, CFG scale: 7, Seed: 1, Version: v1.10.1").generator \
        == "A1111"
