"""InvokeAI: invokeai_metadata (v3+), the graph's core_metadata node, sd-metadata (v2), Dream (v1)."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, STATUS_UNPARSED, parse_tags
from exifdata_analytics.parsers.invokeai import split_negative
from exifdata_analytics.samples import write_png
from tests.conftest import row_by_name

V3 = {"generation_mode": "sdxl_txt2img", "positive_prompt": "a lighthouse, テスト\n", "negative_prompt": "blurry\n",
      "width": 832, "height": 1216, "seed": 3951921344, "rand_device": "cpu", "cfg_scale": 6.0, "steps": 24,
      "scheduler": "dpmpp_2m_k", "model": {"key": "179d", "hash": "blake3:7c16", "name": "juggernautXL_v9",
                                           "base": "sdxl", "type": "main"},
      "vae": {"model_name": "sdxl-vae-fp16-fix", "base_model": "sdxl"},
      "loras": [{"model": {"key": "a1", "name": "add_detail", "base": "sdxl"}, "weight": 0.75},
                {"lora": {"model_name": "film_grain"}, "weight": 0.3}],
      "app_version": "4.2.0"}
SD_METADATA = {"model": "stable diffusion", "model_weights": "deliberate_v2", "model_hash": "56d1442a",
               "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.0",
               "image": {"prompt": [{"prompt": "portrait of a knight [blurry, lowres] in armor", "weight": 1.0}],
                         "steps": 50, "cfg_scale": 7.5, "height": 768, "width": 512, "seed": 2980747362,
                         "type": "txt2img", "sampler": "k_lms", "variations": []}}
DREAM = '"portrait of a knight in armor [blurry]" -s 50 -S 2980747362 -W 512 -H 768 -C 7.5 -A k_euler_a -G 0.9'


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_v3_metadata_gives_every_column_model_hash_vae_and_loras():
    p = parsed({"PNG:Invokeai_metadata": json.dumps(V3)})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.cfg_scale, p.width, p.height) == (
        "InvokeAI", "a lighthouse, テスト\n", "blurry\n", 24, 3951921344, "dpmpp_2m_k", 6.0, 832, 1216)
    assert (p.model, p.model_hash, p.vae, p.denoising_strength) == ("juggernautXL_v9", "blake3:7c16",
                                                                    "sdxl-vae-fp16-fix", None)
    assert [(r.name, r.weight) for r in p.resources] == [("add_detail", 0.75), ("film_grain", 0.3)]
    assert p.params["app_version"] == "4.2.0"


def test_v3_img2img_strength_is_the_denoising_strength():
    p = parsed({"PNG:Invokeai_metadata": json.dumps(dict(V3, generation_mode="sdxl_img2img", strength=0.55))})
    assert p.denoising_strength == 0.55


def test_graph_only_uses_its_core_metadata_node():
    graph = {"id": "g", "nodes": {"core_metadata:x": dict(V3, id="core_metadata:x", type="core_metadata"),
                                  "noise:y": {"id": "noise:y", "type": "noise", "seed": 0}}}
    assert parsed({"PNG:Invokeai_graph": json.dumps(graph)}).seed == 3951921344
    outcome = parse_tags({"PNG:Invokeai_graph": json.dumps({"nodes": {"a": {"type": "noise"}}})})
    assert outcome.status == STATUS_UNPARSED and "InvokeAI graph without a metadata node" in outcome.error


def test_empty_metadata_is_unparsed_with_the_reason():
    outcome = parse_tags({"PNG:Invokeai_metadata": json.dumps({"app_version": "5.0"})})
    assert outcome.status == STATUS_UNPARSED
    assert outcome.error.startswith("InvokeAI metadata without generation parameters")


def test_v2_sd_metadata_splits_the_bracketed_negative_prompt():
    p = parsed({"PNG:Sd-metadata": json.dumps(SD_METADATA), "PNG:Dream": DREAM})
    assert (p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.cfg_scale, p.width, p.height, p.model,
            p.model_hash) == ("portrait of a knight in armor", "blurry, lowres", 50, 2980747362, "k_lms", 7.5, 512,
                              768, "deliberate_v2", "56d1442a")


def test_v1_dream_command_line():
    p = parsed({"PNG:Dream": DREAM})
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.cfg_scale, p.width, p.height) == (
        "InvokeAI", "portrait of a knight in armor", "blurry", 50, 2980747362, "k_euler_a", 7.5, 512, 768)
    assert p.params["gfpgan_strength"] == "0.9"
    outcome = parse_tags({"PNG:Dream": '"just a prompt"'})
    assert outcome.status == STATUS_UNPARSED and "Dream command line without settings" in outcome.error


def test_split_negative_keeps_text_without_brackets():
    assert split_negative("a cat") == ("a cat", None)
    assert split_negative("a [ugly] cat [dog]") == ("a cat", "ugly, dog")


def test_png_chunks_end_to_end(tmp_path: Path):
    folder = tmp_path / "invoke"
    folder.mkdir()
    write_png(folder / "v3.png", [("invokeai_metadata", json.dumps(V3, ensure_ascii=False))])
    write_png(folder / "v2.png", [("Dream", DREAM), ("sd-metadata", json.dumps(SD_METADATA))])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    v3, v2 = row_by_name(tmp_path / "t.db", "v3.png"), row_by_name(tmp_path / "t.db", "v2.png")
    assert (v3["generator"], v3["prompt"], v3["sampler"], v3["model"]) == ("InvokeAI", "a lighthouse, テスト\n",
                                                                          "dpmpp_2m_k", "juggernautXL_v9")
    assert (v2["generator"], v2["negative_prompt"], v2["model"]) == ("InvokeAI", "blurry, lowres", "deliberate_v2")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_metadata_never_crashes_the_parser(data):
    v3, sd = dict(V3), json.loads(json.dumps(SD_METADATA))
    for doc in (v3, sd, sd["image"]):
        for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=4)):
            doc[key] = data.draw(_json)
    dream = data.draw(st.text(max_size=60) | st.just(DREAM[:data.draw(st.integers(0, len(DREAM)))]))
    outcome = parse_tags({"PNG:Invokeai_metadata": json.dumps(v3)})
    assert outcome.status != STATUS_ERROR, outcome.error
    outcome = parse_tags({"PNG:Sd-metadata": json.dumps(sd), "PNG:Dream": dream})
    assert outcome.status != STATUS_ERROR, outcome.error
    outcome = parse_tags({"PNG:Dream": dream})
    assert outcome.status != STATUS_ERROR, outcome.error
