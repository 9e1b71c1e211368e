"""Property-based fuzzing of every parser in the REGISTRY.

Inputs: random tag dicts (realistic keys, random JSON-ish values) and mutations of
real-looking ones (A1111 infotext, ComfyUI API graphs and UI workflows, NovelAI, InvokeAI,
SwarmUI, Fooocus, Easy Diffusion, Civitai, Stability Matrix, TensorArt, HF Space, Draw
Things, Midjourney, C2PA; plus the tags ExifTool reads from the peer corpus when ../shared is
there). For each input:

* every ``Parser.parse`` alone returns ``GenerationParams`` or None, or raises ``NotParsed``
  (the registry's documented "my format, but unreadable" signal): nothing else escapes;
* what a parser returns has the column types the database expects;
* ``parse_tags`` never raises and never reports a parser crash (status 'error');
* the filler turns the result into a row and SQLite stores it (``build_record`` +
  ``write_batch``), so no value a parser can produce fails a batch.

EXIFDATA_SLOW_TESTS=1 runs 20x more examples.
"""
from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exifdata_analytics import db
from exifdata_analytics.exiftool import FileTags
from exifdata_analytics.records import build_record
from exifdata_analytics.parsers import (REGISTRY, STATUS_ERROR, GenerationParams, NotParsed, normalize_tags,
                                        parse_tags)
from exifdata_analytics.parsers.base import Resource
from exifdata_analytics.samples import a1111_infotext, comfyui_graph
from exifdata_analytics.scan import FileEntry
from tests.conftest import PEER_CORPUS

SLOW = os.environ.get("EXIFDATA_SLOW_TESTS") == "1"
FUZZ = settings(max_examples=4000 if SLOW else 200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

TAG_KEYS = [
    "PNG:Parameters", "PNG:Prompt", "PNG:Workflow", "PNG:Comment", "PNG:Description", "PNG:Software", "PNG:Source",
    "PNG:Title", "PNG:Dream", "PNG:Sd-metadata", "PNG:Invokeai_metadata", "PNG:Invokeai_graph", "PNG:Generation_data",
    "PNG:Sui_image_params", "PNG:Fooocus_scheme", "PNG:Parameters-json", "PNG:Smproj", "PNG:Negative_prompt",
    "PNG:Use_stable_diffusion_model", "PNG:Copy1:Parameters", "PNG-tEXt:Parameters", "ExifIFD:UserComment",
    "IFD0:Make", "IFD0:Model", "IFD0:Software", "IFD0:ImageDescription", "IFD0:Artist", "XMP-exif:UserComment",
    "XMP-dc:Description", "XMP-xmp:CreatorTool", "XMP-iptcExt:DigitalSourceType", "CBOR:Claim_Generator_InfoName",
    "CBOR:ActionsDigitalSourceType", "CBOR:ActionsSoftwareAgentName", "CBOR:ActionsAction", "JUMBF:JUMDLabel",
    "Stealth:Parameters", "File:FileType", "Composite:ImageSize", "ExifIFD:DateTimeOriginal", "SourceFile",
    "QuickTime:Comment", "XMP-dc:Title",
]
JSON_KEYS = [
    "prompt", "negative_prompt", "negativePrompt", "uc", "c", "steps", "seed", "sampler", "sampler_name", "scheduler",
    "scale", "cfg", "cfgScale", "cfg_scale", "guidance_scale", "width", "height", "model", "Model", "model_name",
    "class_type", "inputs", "nodes", "links", "widgets_values", "type", "id", "mode", "text", "clip", "positive",
    "negative", "latent_image", "samples", "ckpt_name", "lora_name", "strength_model", "denoise", "vae",
    "sui_image_params", "sui_models", "extraMetadata", "resources", "civitaiResources", "v4_prompt", "caption",
    "base_caption", "char_captions", "PositivePrompt", "NegativePrompt", "ModelName", "CfgScale", "Steps", "Seed",
    "Sampler", "Size", "Comment", "Software", "fooocus_scheme", "base_model", "Prompt", "Negative Prompt",
    "use_stable_diffusion_model", "num_inference_steps", "generation_data", "baseModel", "models", "hashes",
    "loras", "app_version", "generation_mode", "positive_prompt", "negative_prompt", "cfg_scale", "model_weights",
    "image", "metadata", "request_type", "strength", "noise_schedule", "signed_hash", "Version", "hash", "weight",
]


# -- values ----------------------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=()), max_size=40)  # surrogates and controls included
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | texts | st.sampled_from(["", "undef", "NaN", "1e400", "-1", "0", "512x768", "Euler a", "None", "null"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.sampled_from(JSON_KEYS) | texts, children,
                                                                      max_size=8),
    max_leaves=40,
)


def _dumps(value) -> str:
    return json.dumps(value, allow_nan=True, ensure_ascii=False)


tag_values = (texts | st.integers() | st.floats() | st.none() | st.lists(texts, max_size=3)
              | json_values.map(_dumps)
              | json_values.map(lambda v: "prompt:" + _dumps(v))
              | json_values.map(lambda v: "UNICODE\0" + _dumps(v))
              | st.builds(lambda a, b: f"{a}\nNegative prompt: {b}\nSteps: 20, Sampler: Euler, Size: 5x5",
                          texts, texts))
random_tags = st.dictionaries(st.sampled_from(TAG_KEYS) | texts, tag_values, max_size=8)


# -- seeds: real-looking tags of every generator ---------------------------------------------

def _builtin_seeds() -> list[dict]:
    prompt_json, workflow_json, _ = comfyui_graph("a cat, <lora:x:0.5>", "dog", loras=[("detail.safetensors", 0.7)])
    infotext = a1111_infotext(
        "a cat <lora:add_detail:0.7>, (masterpiece:1.2)", "blurry",
        {"Steps": 24, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 7, "Seed": 5, "Size": "512x768",
         "Model hash": "abc123", "Model": "dreamshaper_8", "VAE": "vae.pt", "Clip skip": 2, "Denoising strength": 0.4,
         "Hires upscale": 2, "Lora hashes": "add_detail: 7c6bad76eb54", "Version": "v1.10.1",
         "Civitai resources": [{"type": "checkpoint", "modelVersionId": 1, "modelName": "x", "weight": 1}],
         "Hashes": {"vae": "c6a580b13a", "model": "abc123"}})
    nai = {"steps": 28, "sampler": "k_euler_ancestral", "seed": 2253955223, "strength": 0.7, "scale": 11.0,
           "uc": "lowres", "width": 512, "height": 768,
           "v4_prompt": {"caption": {"base_caption": "2girls", "char_captions": [{"char_caption": "red hair"}]}}}
    civitai_request = {"prompt": "a cat", "negativePrompt": "bad", "cfgScale": 5, "sampler": "Euler a", "seed": 1,
                       "steps": 20, "width": 512, "height": 512, "resources": [{"modelVersionId": 2, "strength": 1}]}
    civitai_graph = json.loads(prompt_json)
    civitai_graph["extra"] = {"airs": ["urn:air:sd1:checkpoint:civitai:1@2"]}
    civitai_graph["extraMetadata"] = json.dumps(civitai_request)
    return [
        {"PNG:Parameters": infotext},
        {"ExifIFD:UserComment": "UNICODE\0" + infotext},
        {"PNG:Prompt": prompt_json, "PNG:Workflow": workflow_json},
        {"PNG:Workflow": workflow_json},
        {"IFD0:Model": "prompt:" + prompt_json, "IFD0:Make": "workflow:" + workflow_json},
        {"ExifIFD:UserComment": json.dumps({"prompt": json.loads(prompt_json), "workflow": json.loads(workflow_json)})},
        {"PNG:Prompt": json.dumps(civitai_graph)},
        {"PNG:Parameters": infotext, "PNG:Prompt": prompt_json},
        {"PNG:Description": "masterpiece, cat", "PNG:Software": "NovelAI", "PNG:Source": "NovelAI Diffusion V4.5",
         "PNG:Comment": json.dumps(nai)},
        {"ExifIFD:UserComment": json.dumps({"Comment": json.dumps(nai), "Software": "NovelAI"})},
        {"PNG:Invokeai_metadata": json.dumps({"positive_prompt": "a fox", "negative_prompt": "blurry", "seed": 7,
                                              "steps": 30, "cfg_scale": 7.5, "scheduler": "euler", "width": 512,
                                              "height": 512, "model": {"name": "sd15", "hash": "h", "base": "sd-1"},
                                              "loras": [{"lora": {"name": "l1"}, "weight": 0.5}],
                                              "generation_mode": "txt2img", "app_version": "4.2.0"})},
        {"PNG:Sd-metadata": json.dumps({"model": "stable diffusion", "model_weights": "deliberate_v2",
                                        "model_hash": "56d1442a", "app_id": "invoke-ai/InvokeAI",
                                        "image": {"prompt": [{"prompt": "a knight", "weight": 1}], "steps": 50,
                                                  "cfg_scale": 7.5, "seed": 29, "width": 512, "height": 768,
                                                  "sampler": "k_euler_a", "type": "txt2img"}})},
        {"PNG:Dream": '"portrait of a knight [blurry]" -s 50 -S 2980747362 -W 512 -H 768 -C 7.5 -A k_euler_a'},
        {"PNG:Parameters": json.dumps({"sui_image_params": {"prompt": "a harbor", "negativeprompt": "blurry",
                                                            "model": "juggernautXL", "seed": 3, "steps": 30,
                                                            "cfgscale": 6, "width": 1024, "height": 1024,
                                                            "sampler": "euler", "loras": ["a"],
                                                            "loraweights": ["0.5"]},
                                       "sui_models": [{"name": "juggernautXL.safetensors", "param": "model"}]})},
        {"PNG:Parameters": json.dumps({"prompt": "a castle", "negative_prompt": "ugly", "steps": 30,
                                       "guidance_scale": 4, "seed": "12", "sampler": "dpmpp_2m_sde_gpu",
                                       "scheduler": "karras", "base_model": "juggernautXL_v8",
                                       "resolution": "(1024, 1024)", "loras": [["sd_xl_offset.safetensors", 0.1]],
                                       "version": "Fooocus v2.1.862", "full_prompt": ["a castle"]}),
         "PNG:Fooocus_scheme": "fooocus"},
        {"PNG:Prompt": "a windmill", "PNG:Negative_prompt": "blurry", "PNG:Seed": "1234567",
         "PNG:Use_stable_diffusion_model": "sd-v1-4", "PNG:Num_inference_steps": "25", "PNG:Guidance_scale": "7.5",
         "PNG:Width": "512", "PNG:Height": "512", "PNG:Sampler_name": "euler_a"},
        {"ExifIFD:UserComment": json.dumps({"prompt": "a windmill", "use_stable_diffusion_model": "sd-v1-4",
                                            "seed": 5, "num_inference_steps": 25})},
        {"PNG:Parameters-json": json.dumps({"PositivePrompt": "a tower", "NegativePrompt": "blurry", "Width": 512,
                                            "Height": 768, "Seed": 1, "Steps": 20, "CfgScale": 7,
                                            "Sampler": "euler", "ModelName": "sd15", "ModelHash": "abc"}),
         "PNG:Smproj": "{}", "PNG:Parameters": infotext},
        {"PNG:Generation_data": json.dumps({"prompt": "a lantern", "negativePrompt": "blurry", "width": 1024,
                                            "height": 1024, "steps": 25, "cfgScale": 7, "seed": "9",
                                            "sampler": "Euler a", "baseModel": {"modelFileName": "x"},
                                            "models": [{"modelFileName": "lora1", "type": "LORA", "weight": 0.8}]}),
         "PNG:Prompt": prompt_json},
        {"PNG:Parameters": json.dumps({"prompt": "a garden", "negative_prompt": "blurry", "resolution": "1024 x 1024",
                                       "guidance_scale": 5, "num_inference_steps": 28, "seed": 1,
                                       "model": "stabilityai/stable-diffusion-xl-base-1.0"})},
        {"XMP-exif:UserComment": json.dumps({"c": "a cat in a hat", "uc": "blurry", "seed": 1234, "steps": 20,
                                             "scale": 7, "strength": 1, "size": "512x512", "model": "sd_v1.5.ckpt",
                                             "sampler": "DPM++ 2M Karras"}),
         "XMP-dc:Description": "a cat in a hat\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, "
                               "Guidance Scale: 7.0, Seed: 1234, Size: 512x512, Model: sd_v1.5.ckpt",
         "XMP-xmp:CreatorTool": "Draw Things"},
        {"XMP-dc:Description": "a red fox --ar 2:1 --stylize 80 --no people --seed 1234 --v 6.1 "
                               "Job ID: a7421d2f-b262-44f9-977c-ac23e9c7d3e3", "XMP-dc:Author": "someone"},
        {"JUMBF:JUMDLabel": "c2pa", "CBOR:Claim_Generator_InfoName": "ChatGPT",
         "CBOR:ActionsAction": '["c2pa.created"]', "CBOR:ActionsSoftwareAgentName": "GPT-4o",
         "CBOR:ActionsDigitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"},
        {"Stealth:Parameters": infotext, "Stealth:Signature": "stealth_pnginfo"},
    ]


def _peer_seeds() -> list[dict]:
    """The tags ExifTool reads from the peer corpus (real files of 20+ generators), if present."""
    if not PEER_CORPUS.is_dir():
        return []
    from exifdata_analytics.exiftool import ExifToolPool

    files = sorted(str(p) for p in PEER_CORPUS.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    with ExifToolPool(workers=1) as pool:
        return [ft.tags for ft in pool.read(files) if ft.tags]


SEEDS = _builtin_seeds()
_PEER: list[dict] = []


@pytest.fixture(scope="module")
def seeds() -> list[dict]:
    if not _PEER:
        _PEER.extend(_peer_seeds())
    return SEEDS + _PEER


# -- mutations -------------------------------------------------------------------------------

SPECIAL = ["\n", "\r\n", ",", ":", '"', "\\", "{", "}", "[", "]", "<", ">", "(", ")", "\0", "\x1b", "\ud83d",
           "\\ud83d", "NaN", "Infinity", "-1", "1e999", "99999999999999999999999", "Steps:", "Negative prompt:",
           "Size: 0x0", "Sampler: ", "<lora::>", "BREAK", "\u2028", "\ufeff", "テスト", "🐈"]


def _mutate_json(data: st.DataObject, node, depth: int = 0):
    """Replace, drop, retype or nest one random part of a JSON document."""
    if isinstance(node, dict) and node and depth < 6 and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(node, key=str)))
        op = data.draw(st.sampled_from(["recurse", "drop", "replace", "retype"]))
        node = dict(node)
        if op == "recurse":
            node[key] = _mutate_json(data, node[key], depth + 1)
        elif op == "drop":
            del node[key]
        elif op == "replace":
            node[key] = data.draw(json_values)
        else:
            node[key] = [node[key]] if data.draw(st.booleans()) else _dumps(node[key])
        return node
    if isinstance(node, list) and node and depth < 6 and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(node) - 1))
        node = list(node)
        node[i] = _mutate_json(data, node[i], depth + 1) if data.draw(st.booleans()) else data.draw(json_values)
        return node
    return data.draw(json_values)


def _mutate_text(data: st.DataObject, text: str) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "truncate"]))
        piece = data.draw(st.sampled_from(SPECIAL) | texts)
        if op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[j:]
        elif op == "replace":
            text = text[:i] + piece + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] * data.draw(st.integers(2, 50)) + text[j:]
        else:
            text = text[:i]
    return text


def _mutate(data: st.DataObject, tags: dict) -> dict:
    tags = dict(tags)
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["value", "value", "value", "drop", "add", "retype"]))
        if op == "add" or not tags:
            tags[data.draw(st.sampled_from(TAG_KEYS))] = data.draw(tag_values)
            continue
        key = data.draw(st.sampled_from(sorted(tags)))
        value = tags[key]
        if op == "drop":
            del tags[key]
        elif op == "retype":
            tags[key] = data.draw(scalars | st.lists(scalars, max_size=3))
        elif isinstance(value, str):
            try:
                doc = json.loads(value.split(":", 1)[1] if value.startswith(("prompt:", "workflow:")) else value)
            except (ValueError, RecursionError):
                doc = None
            if isinstance(doc, (dict, list)) and data.draw(st.booleans()):
                tags[key] = _dumps(_mutate_json(data, doc))
            else:
                tags[key] = _mutate_text(data, value)
        else:
            tags[key] = data.draw(tag_values)
    return tags


# -- the checks ------------------------------------------------------------------------------

_INT_FIELDS = ("steps", "width", "height", "clip_skip")
_FLOAT_FIELDS = ("cfg_scale", "denoising_strength")
_TEXT_FIELDS = ("generator", "prompt", "negative_prompt", "sampler", "scheduler", "model", "model_hash", "vae")


def _check_params(p: GenerationParams, who: str) -> None:
    assert isinstance(p, GenerationParams), who
    assert isinstance(p.generator, str) and p.generator, who
    for name in _INT_FIELDS:
        v = getattr(p, name)
        assert v is None or (isinstance(v, int) and not isinstance(v, bool)), (who, name, v)
    assert p.seed is None or (isinstance(p.seed, int) and not isinstance(p.seed, bool)), (who, "seed", p.seed)
    for name in _FLOAT_FIELDS:
        v = getattr(p, name)
        assert v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)), (who, name, v)
    for name in _TEXT_FIELDS:
        v = getattr(p, name)
        assert v is None or isinstance(v, str), (who, name, v)
    for r in p.resources:
        assert isinstance(r, Resource) and isinstance(r.name, str) and isinstance(r.kind, str), (who, r)
        assert r.weight is None or isinstance(r.weight, (int, float)), (who, r)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield con
    con.close()


def _check(tags: dict, con) -> str:
    normalized = normalize_tags(tags)
    for parser in REGISTRY:
        try:
            result = parser.parse(normalized)
        except NotParsed:
            continue
        if result is not None:
            _check_params(result, parser.name)
    outcome = parse_tags(tags)
    assert outcome.status != STATUS_ERROR, outcome.error  # a parser raised something other than NotParsed
    if outcome.params is not None:
        _check_params(outcome.params, f"parse_tags/{outcome.parser}")
    # the filler's per-file step and one transaction, as DB_filler.py would do it
    raw = json.dumps(tags, ensure_ascii=False, default=str)
    record, resources = build_record(FileEntry("/fuzz/image.jpg", 1, 0), FileTags("/fuzz/image.jpg", tags, raw),
                                     "0" * 64, "2025-01-01T00:00:00+00:00")
    if record.cfg_scale is not None:
        assert math.isfinite(record.cfg_scale)
    db.write_batch(con, [(record, resources)])
    return f"{outcome.status} {outcome.parser or ''}".strip()


@FUZZ
@given(tags=random_tags)
def test_no_exception_escapes_any_parser_on_random_tags(tags, store):
    event(_check(tags, store))  # pytest --hypothesis-show-statistics shows what was reached


@FUZZ
@given(data=st.data())
def test_no_exception_escapes_any_parser_on_mutated_real_looking_tags(data, seeds, store):
    seed = data.draw(st.sampled_from(seeds))
    event(_check(_mutate(data, seed), store))


def test_the_seeds_themselves_parse(seeds, store):
    """The mutations start from valid documents: every built-in seed is recognised."""
    for tags in SEEDS:
        outcome = parse_tags(tags)
        assert outcome.status == "ok", (outcome, list(tags))
        _check(tags, store)
    for tags in seeds[len(SEEDS):]:
        _check(tags, store)
