"""Node packs' samplers in UI workflows as their own example workflows have them: Inspire Pack's
``KSampler //Inspire`` (with ComfyUI_ADV_CLIP_emb's text encoder), RES4LYF's
``ClownsharKSampler_Beta`` with its ``ClownModelLoader``, Efficiency nodes' ``KSampler (Efficient)``
(a null control value after its seed), and Impact Pack's detailers in their current widget order
and in the one before ``max_size`` (2023, which the pack's own examples are saved in). The widget
values are those of the packs' example workflows; each graph is written into a PNG as ComfyUI
saves it (workflow only, as an image whose API prompt was dropped) and read through ExifTool."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from exifdata_analytics.filler import FillOptions, fill
from tests.conftest import row_by_name, rows
from exifdata_analytics.samples import write_png


class Workflow:
    """A UI workflow: ``node(type, widgets, **links)`` where a link is ``(node id, output slot)``."""

    def __init__(self):
        self.nodes: list[dict] = []
        self.links: list[list] = []

    def node(self, node_type: str, widgets: list, **links: tuple[int, int]) -> int:
        nid = len(self.nodes) + 1
        inputs = []
        for name, (src, slot) in links.items():
            link_id = len(self.links) + 1
            self.links.append([link_id, src, slot, nid, len(inputs), "*"])
            inputs.append({"name": name, "type": "*", "link": link_id})
        self.nodes.append({"id": nid, "type": node_type, "mode": 0, "inputs": inputs, "outputs": [],
                           "widgets_values": widgets})
        return nid

    def json(self) -> str:
        return json.dumps({"last_node_id": len(self.nodes), "nodes": self.nodes, "links": self.links, "version": 0.4})


def _save(w: Workflow, sampler: int, vae: tuple[int, int]) -> None:
    w.node("SaveImage", ["ComfyUI"], images=(w.node("VAEDecode", [], samples=(sampler, 0), vae=vae), 0))


def inspire() -> Workflow:
    w = Workflow()
    ck = w.node("CheckpointLoaderSimple", ["majicmixLux_v3.safetensors"])
    pos = w.node("BNK_CLIPTextEncodeAdvanced", ["era elf, (giant elves sit on the treetops:1.2), fantasy", "none",
                                                "A1111"], clip=(ck, 1))
    neg = w.node("BNK_CLIPTextEncodeAdvanced", ["(worst quality:2), lowres, watermark", "none", "A1111"], clip=(ck, 1))
    lat = w.node("EmptyLatentImage", [512, 768, 1])
    ks = w.node("KSampler //Inspire", [1119808910974861, "randomize", 20, 8, "dpmpp_2m", "karras", 1, "GPU(=A1111)",
                                       "incremental", 0, 0, "linear"],
                model=(ck, 0), positive=(pos, 0), negative=(neg, 0), latent_image=(lat, 0))
    _save(w, ks, (w.node("VAELoader", ["vae-ft-mse-840000-ema-pruned.safetensors"]), 0))
    return w


def res4lyf() -> Workflow:
    w = Workflow()
    loader = w.node("ClownModelLoader", ["chroma-unlocked-v37-detail-calibrated.safetensors", "fp8_e4m3fn_fast",
                                         "t5xxl_fp8_e4m3fn_scaled.safetensors", ".none", ".none", ".none", "chroma",
                                         "ae.sft"])
    pos = w.node("CLIPTextEncode", ["a woman wearing a red flannel shirt and a cute shark plush blue hat"],
                 clip=(loader, 1))
    neg = w.node("CLIPTextEncode", ["low quality, bad quality, blurry"], clip=(loader, 1))
    lat = w.node("EmptyLatentImage", [1024, 1024, 1])
    ks = w.node("ClownsharKSampler_Beta", [0.5, "multistep/res_2m", "bong_tangent", 30, -1, 1, 4, 3, "fixed",
                                           "standard", True],
                model=(loader, 0), positive=(pos, 0), negative=(neg, 0), latent_image=(lat, 0))
    _save(w, ks, (loader, 2))
    return w


def efficiency() -> Workflow:
    w = Workflow()
    loader = w.node("Efficient Loader", ["AWPainting_v1.3.safetensors", "Baked VAE", -2, "None", 1, 1,
                                         "masterpiece, best quality, 1girl, (orange dress:1.2)",
                                         "(hands), text, error, cropped", "none", "comfy++", 768, 1152, 1])
    ks = w.node("KSampler (Efficient)", [248390093388796, None, 20, 10, "dpmpp_2m", "karras", 1, "auto", "true"],
                model=(loader, 0), positive=(loader, 1), negative=(loader, 2), latent_image=(loader, 3),
                optional_vae=(loader, 4))
    w.node("Save Image", ["ComfyUI"], images=(ks, 5))
    return w


def impact(detailer: str, widgets: list) -> Workflow:
    """txt2img, then an Impact detailer over the decoded image."""
    w = Workflow()
    ck = w.node("CheckpointLoaderSimple", ["V07_v07.safetensors"])
    pos = w.node("CLIPTextEncode", ["1girl, photorealistic, holding book, office"], clip=(ck, 1))
    neg = w.node("CLIPTextEncode", ["low quality, worst quality"], clip=(ck, 1))
    lat = w.node("EmptyLatentImage", [256, 320, 1])
    ks = w.node("KSampler", [805157917915455, "fixed", 20, 8, "euler", "karras", 1],
                model=(ck, 0), positive=(pos, 0), negative=(neg, 0), latent_image=(lat, 0))
    image = w.node("VAEDecode", [], samples=(ks, 0), vae=(ck, 2))
    det_links = dict(image=(image, 0), model=(ck, 0), clip=(ck, 1), vae=(ck, 2), positive=(pos, 0), negative=(neg, 0))
    if detailer == "FaceDetailer":
        det_links["bbox_detector"] = (w.node("UltralyticsDetectorProvider", ["bbox/face_yolov8m.pt"]), 0)
    else:
        det_links["segs"] = (w.node("ImpactSimpleDetectorSEGS", [0.5, 0, 3, 10]), 0)
    det = w.node(detailer, widgets, **det_links)
    w.node("SaveImage", ["ComfyUI"], images=(det, 0))
    return w


# Impact Pack's FaceDetailer now (max_size after guide_size_for) and in 2023 (no max_size)
FACE_NOW = [512, True, 1024, 123, "fixed", 25, 7, "dpmpp_2m", "karras", 0.45, 5, True, True, 0.5, 10, 3,
            "center-1", 0, 0.93, 0, 0.7, "False", 10, "", 1]
FACE_2023 = [256, "bbox", 267026622830019, "fixed", 20, 8, "euler", "karras", 0.5, 5, "disabled", "disabled", 0.5,
             10, 3.5, "center-1", 20, 0.93, 0, 0.7, "False"]
DETAILER_2023 = [192, "bbox", 7, "fixed", 20, 8, "euler", "karras", 0.4, 5, "enabled", "disabled"]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("packs")
    folder = root / "out"
    folder.mkdir()
    graphs = {"inspire.png": inspire(), "res4lyf.png": res4lyf(), "efficiency.png": efficiency(),
              "face_now.png": impact("FaceDetailer", FACE_NOW), "face_2023.png": impact("FaceDetailer", FACE_2023),
              "detailer_2023.png": impact("DetailerForEach", DETAILER_2023)}
    for name, w in graphs.items():
        write_png(folder / name, [("workflow", w.json())])
    fill(FillOptions(root=str(folder), recursive=False, db_path=root / "p.db", workers=1))
    return root / "p.db"


RECIPES = {
    "inspire.png": ("era elf, (giant elves sit on the treetops:1.2), fantasy", "(worst quality:2), lowres, watermark",
                    20, 1119808910974861, "dpmpp_2m", "karras", 8.0, 512, 768, "majicmixLux_v3.safetensors"),
    "res4lyf.png": ("a woman wearing a red flannel shirt and a cute shark plush blue hat",
                    "low quality, bad quality, blurry", 30, 3, "multistep/res_2m", "bong_tangent", 4.0, 1024, 1024,
                    "chroma-unlocked-v37-detail-calibrated.safetensors"),
    "efficiency.png": ("masterpiece, best quality, 1girl, (orange dress:1.2)", "(hands), text, error, cropped", 20,
                       248390093388796, "dpmpp_2m", "karras", 10.0, 768, 1152, "AWPainting_v1.3.safetensors"),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_node_pack_s_sampler_in_a_ui_workflow_gives_the_recipe(library, name):
    r = row_by_name(library, name)
    assert r["parse_status"] == "ok" and r["generator"] == "ComfyUI", r["error"]
    assert (r["prompt"], r["negative_prompt"], r["steps"], r["seed"], r["sampler"], r["scheduler"], r["cfg_scale"],
            r["width"], r["height"], r["model"]) == RECIPES[name]


def test_the_loaders_of_node_packs_name_the_vae_and_the_clip_skip(library):
    assert row_by_name(library, "inspire.png")["vae"] == "vae-ft-mse-840000-ema-pruned.safetensors"
    assert row_by_name(library, "res4lyf.png")["vae"] == "ae.sft"
    assert row_by_name(library, "efficiency.png")["clip_skip"] == 2
    r = row_by_name(library, "res4lyf.png")  # RES4LYF's sampler and schedule as canonical names
    assert (r["canonical_sampler"], r["canonical_scheduler"]) == ("RES 2M", "Bong Tangent")


@pytest.mark.parametrize("name, seed, steps, cfg, sampler, denoise", [
    ("face_now.png", 123, 25, 7.0, "dpmpp_2m", 0.45),
    ("face_2023.png", 267026622830019, 20, 8.0, "euler", 0.5),  # the layout before max_size
    ("detailer_2023.png", 7, 20, 8.0, "euler", 0.4),
])
def test_an_impact_detailer_is_a_later_stage_in_either_widget_layout(library, name, seed, steps, cfg, sampler,
                                                                     denoise):
    r = row_by_name(library, name)
    # the first pass (the txt2img KSampler) fills the columns
    assert (r["seed"], r["steps"], r["denoising_strength"]) == (805157917915455, 20, 1.0), r["error"]
    stages = rows(library, "SELECT s.stage, s.role, s.seed, s.steps, s.cfg_scale, s.sampler, s.denoise FROM stages s "
                           "JOIN images i ON i.id = s.image_id WHERE i.file_name = ? ORDER BY s.stage", (name,))
    assert [tuple(s) for s in stages] == [(0, "first", 805157917915455, 20, 8.0, "euler", 1.0),
                                          (1, "detailer", seed, steps, cfg, sampler, denoise)]
