"""Civitai's JSON flavour: a ComfyUI graph with the generation request in extraMetadata."""
from __future__ import annotations

import json
import sqlite3

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


GRAPH = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "urn:air:sdxl:checkpoint:civitai:827184@1183765"}},
    "10": {"class_type": "LoraLoader", "inputs": {"lora_name": "urn:air:sdxl:lora:civitai:1001@2002",
                                                  "strength_model": 0.8, "strength_clip": 0.8,
                                                  "model": ["4", 0], "clip": ["4", 1]}},
    "11": {"class_type": "LoraLoader", "inputs": {"lora_name": "urn:air:sdxl:lora:civitai:3003@4004",
                                                  "strength_model": 0.5, "strength_clip": 0.5,
                                                  "model": ["10", 0], "clip": ["10", 1]}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "graph prompt", "clip": ["11", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "graph negative", "clip": ["11", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 30, "cfg": 4.5, "sampler_name": "euler_ancestral",
                                               "scheduler": "karras", "denoise": 1.0, "model": ["11", 0],
                                               "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}


def test_the_graph_fills_what_the_request_lacks_and_the_request_wins_elsewhere(tmp_path):
    """A real JPEG (EXIF UserComment, as Civitai writes it) read by ExifTool through DB_filler."""
    from exifdata_analytics.samples import write_jpeg
    from tests.conftest import rows, run_script

    request = {"prompt": "request prompt", "negativePrompt": "request negative", "cfgScale": 5, "sampler": "Euler a",
               "steps": 25, "seed": 1311178179, "baseModel": "SDXL 1.0",
               "resources": [{"modelVersionId": 2002, "type": "lora", "modelName": "add detail", "strength": 0.8}]}
    doc = {**GRAPH, "extra": {"airs": []}, "extraMetadata": json.dumps(request)}
    image = tmp_path / "imgs" / "civitai.jpeg"
    image.parent.mkdir()
    write_jpeg(image, user_comment=json.dumps(doc))
    db = tmp_path / "c.db"
    done = run_script("DB_filler.py", str(image.parent), "-y", "--db", str(db), "--no-progress")
    assert done.returncode == 0, done.stderr
    (row,) = rows(db)
    assert row["generator"] == "Civitai"
    # the request's values stand
    assert (row["prompt"], row["negative_prompt"], row["steps"], row["seed"], row["cfg_scale"], row["sampler"]) == (
        "request prompt", "request negative", 25, 1311178179, 5.0, "Euler a")
    # the graph fills the gaps: schedule, checkpoint (its AIR as civitai:VERSION), latent size
    assert (row["scheduler"], row["model"], row["width"], row["height"]) == ("karras", "civitai:1183765", 832, 1216)
    con = sqlite3.connect(db)
    loras = sorted(con.execute("SELECT name, weight FROM resources WHERE kind = 'lora'").fetchall())
    con.close()
    # the LoRA the request names (version 2002) once, under its name; the other from the graph
    assert loras == [("add detail", 0.8), ("civitai:4004", 0.5)]


def test_an_upscale_only_graph_leaves_the_request_as_it_is():
    doc = {"23": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "x"}},
           "12": {"class_type": "SaveImage", "inputs": {"images": ["23", 0]}}, "extraMetadata": json.dumps(REQUEST)}
    out = parse_tags({"ExifIFD:UserComment": json.dumps(doc)})
    assert out.status == "ok" and out.params.generator == "Civitai" and out.params.scheduler is None
    assert out.params.model is None and (out.params.width, out.params.height) == (1024, 1536)
