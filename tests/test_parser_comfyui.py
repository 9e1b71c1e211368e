"""ComfyUI: parameters traced through the API graph (and the UI workflow) that we build here."""
from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, STATUS_UNPARSED, parse_tags
from exifdata_analytics.parsers.comfyui import workflow_to_api
from exifdata_analytics.samples import a1111_infotext, comfyui_graph, write_jpeg, write_png, write_webp
from tests.conftest import rows


class G:
    """A tiny API-graph builder: ``g.add(class, **inputs)`` returns the node id; ``out(id, n)``
    is a link to its output slot ``n``."""

    def __init__(self):
        self.nodes: dict[str, dict] = {}

    def add(self, class_type: str, **inputs) -> str:
        nid = str(len(self.nodes) + 1)
        self.nodes[nid] = {"class_type": class_type, "inputs": inputs, "_meta": {"title": class_type}}
        return nid

    def json(self) -> str:
        return json.dumps(self.nodes)


def out(nid: str, slot: int = 0) -> list:
    return [nid, slot]


def txt2img(g: G, prompt="a red fox", negative="blurry", *, ckpt="dreamshaper_8.safetensors", seed=42, steps=25,
            cfg=6.5, sampler="dpmpp_2m", scheduler="karras", size=(512, 768)):
    ck = g.add("CheckpointLoaderSimple", ckpt_name=ckpt)
    pos = g.add("CLIPTextEncode", text=prompt, clip=out(ck, 1))
    neg = g.add("CLIPTextEncode", text=negative, clip=out(ck, 1))
    lat = g.add("EmptyLatentImage", width=size[0], height=size[1], batch_size=1)
    ks = g.add("KSampler", seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler, denoise=1.0,
               model=out(ck, 0), positive=out(pos), negative=out(neg), latent_image=out(lat))
    dec = g.add("VAEDecode", samples=out(ks), vae=out(ck, 2))
    return ck, pos, neg, lat, ks, dec


def parsed(tags: dict):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def columns(p) -> tuple:
    return (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.scheduler, p.cfg_scale,
            p.width, p.height, p.model)


# ---------------------------------------------------------------------------------------------
# the core graph and where it is stored

def test_api_graph_of_comfyuis_default_workflow_gives_every_column():
    pj, wj, truth = comfyui_graph("a fox, 桜", "lowres", model="sd_xl_base_1.0.safetensors", seed=2**60, steps=31,
                                  cfg=6.5, sampler_name="euler_ancestral", scheduler="karras", width=832,
                                  height=1216, loras=[("add_detail.safetensors", 0.7), ("film_grain.safetensors", 0.4)])
    p = parsed({"PNG:Prompt": pj, "PNG:Workflow": wj})
    assert columns(p) == ("ComfyUI", "a fox, 桜", "lowres", 31, 2**60, "euler_ancestral", "karras", 6.5, 832, 1216,
                          "sd_xl_base_1.0.safetensors")
    assert p.denoising_strength == 1.0
    assert [(r.kind, r.name, r.weight) for r in p.resources] == [("lora", "add_detail", 0.7),
                                                                 ("lora", "film_grain", 0.4)]
    assert p.params["graph"] == "PNG:Prompt" and p.params["samplers"][0]["class_type"] == "KSampler"


def test_ui_workflow_alone_is_converted_and_traced():
    pj, wj, truth = comfyui_graph("castle at dusk", "ugly", seed=7, steps=22, cfg=7.5, sampler_name="dpmpp_2m",
                                  scheduler="normal", width=640, height=448, loras=[("more_details.safetensors", 0.5)])
    p = parsed({"PNG:Workflow": wj})
    assert columns(p) == ("ComfyUI", "castle at dusk", "ugly", 22, 7, "dpmpp_2m", "normal", 7.5, 640, 448,
                          truth["model"])
    assert p.params["workflow_only"] is True
    assert [(r.name, r.weight) for r in p.resources] == [("more_details", 0.5)]


def test_ui_workflow_primitives_reroutes_and_bypassed_nodes():
    wf = {"nodes": [
        {"id": 1, "type": "CheckpointLoaderSimple", "mode": 0, "inputs": [], "widgets_values": ["m.safetensors"]},
        {"id": 2, "type": "PrimitiveNode", "mode": 0, "inputs": [], "widgets_values": ["a lighthouse"]},
        {"id": 3, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 2}]},
        {"id": 4, "type": "CLIPTextEncode", "mode": 0,
         "inputs": [{"name": "clip", "type": "CLIP", "link": 1},
                    {"name": "text", "type": "STRING", "link": 3, "widget": {"name": "text"}}],
         "widgets_values": ["stale text"]},
        {"id": 5, "type": "CLIPTextEncode", "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 4}],
         "widgets_values": ["fog"]},
        {"id": 6, "type": "EmptyLatentImage", "mode": 0, "inputs": [], "widgets_values": [768, 512, 1]},
        {"id": 7, "type": "LoraLoader", "mode": 4,  # bypassed: model passes through
         "inputs": [{"name": "model", "type": "MODEL", "link": 5}, {"name": "clip", "type": "CLIP", "link": 9}],
         "widgets_values": ["bypassed.safetensors", 1, 1]},
        {"id": 8, "type": "KSampler", "mode": 0,
         "inputs": [{"name": "model", "type": "MODEL", "link": 6}, {"name": "positive", "type": "CONDITIONING", "link": 7},
                    {"name": "negative", "type": "CONDITIONING", "link": 8},
                    {"name": "latent_image", "type": "LATENT", "link": 10}],
         "widgets_values": [123, "fixed", 18, 5, "euler", "simple", 1]},
        {"id": 9, "type": "SaveImage", "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": 12}],
         "widgets_values": ["x"]},
        {"id": 10, "type": "VAEDecode", "mode": 0,
         "inputs": [{"name": "samples", "type": "LATENT", "link": 11}, {"name": "vae", "type": "VAE", "link": 13}]},
    ], "links": [
        [1, 1, 1, 4, 0, "CLIP"], [2, 2, 0, 3, 0, "STRING"], [3, 3, 0, 4, 1, "STRING"], [4, 1, 1, 5, 0, "CLIP"],
        [5, 1, 0, 7, 0, "MODEL"], [6, 7, 0, 8, 0, "MODEL"], [7, 4, 0, 8, 1, "CONDITIONING"],
        [8, 5, 0, 8, 2, "CONDITIONING"], [9, 1, 1, 7, 1, "CLIP"], [10, 6, 0, 8, 3, "LATENT"],
        [11, 8, 0, 10, 0, "LATENT"], [12, 10, 0, 9, 0, "IMAGE"], [13, 1, 2, 10, 1, "VAE"]]}
    assert workflow_to_api(wf)["8"]["inputs"]["model"] == ["1", 0]
    p = parsed({"PNG:Workflow": json.dumps(wf)})
    assert columns(p) == ("ComfyUI", "a lighthouse", "fog", 18, 123, "euler", "simple", 5.0, 768, 512, "m.safetensors")
    assert p.resources == ()


def test_webp_exif_make_model_prefixes_and_save_image_extended_spelling():
    g = G()
    *_, dec = txt2img(g, "webp fox")
    g.add("SaveAnimatedWEBP", images=out(dec), fps=6.0)
    wf = {"nodes": [{"id": 1, "type": "SaveAnimatedWEBP"}], "links": []}
    p = parsed({"IFD0:Make": "workflow:" + json.dumps(wf), "IFD0:Model": "prompt:" + g.json()})
    assert p.prompt == "webp fox" and p.params["graph"] == "IFD0:Model"
    p = parsed({"IFD0:ImageDescription": "Workflow: " + json.dumps(wf), "IFD0:Make": "Prompt: " + g.json()})
    assert p.prompt == "webp fox" and p.steps == 25


def test_graph_and_workflow_in_one_json_user_comment():
    g = G()
    *_, dec = txt2img(g, "jpeg fox")
    g.add("SaveImagePlus", images=out(dec))
    p = parsed({"ExifIFD:UserComment": json.dumps({"prompt": g.nodes, "workflow": {"nodes": [], "links": []}})})
    assert p.prompt == "jpeg fox" and p.params["graph"] == "ExifIFD:UserComment"


def test_nan_in_the_graph_json_is_tolerated_and_not_stored():
    g = G()
    *_, ks, dec = txt2img(g)
    g.nodes[ks]["inputs"]["cfg"] = float("nan")
    g.nodes[ks]["inputs"]["denoise"] = float("inf")
    g.add("SaveImage", images=out(dec))
    text = g.json()
    assert "NaN" in text and "Infinity" in text
    p = parsed({"PNG:Prompt": text})
    assert p.cfg_scale is None and p.denoising_strength is None and p.steps == 25
    json.dumps(p.params, allow_nan=False)  # what goes into params_json is strict JSON


# ---------------------------------------------------------------------------------------------
# several samplers: the first pass fills the columns

def _hires(g: G):
    ck, pos, neg, lat, ks, dec = txt2img(g, "base prompt", "base negative", seed=1, steps=20, cfg=5)
    up = g.add("LatentUpscaleBy", upscale_method="nearest-exact", scale_by=1.5, samples=out(ks))
    ks2 = g.add("KSampler", seed=2, steps=12, cfg=4.5, sampler_name="euler", scheduler="normal", denoise=0.45,
                model=out(ck), positive=out(pos), negative=out(neg), latent_image=out(up))
    dec2 = g.add("VAEDecode", samples=out(ks2), vae=out(ck, 2))
    return ks, ks2, dec, dec2


def test_hires_pass_first_pass_fills_columns_all_passes_in_params():
    g = G()
    ks, ks2, dec, dec2 = _hires(g)
    g.add("PreviewImage", images=out(dec))
    g.add("SaveImage", images=out(dec2))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.seed, p.steps, p.cfg_scale, p.sampler, p.scheduler, p.width, p.height, p.denoising_strength) == (
        1, 20, 5.0, "dpmpp_2m", "karras", 512, 768, 1.0)
    assert [s["node"] for s in p.params["samplers"]] == [ks, ks2]
    assert p.params["samplers"][1]["denoise"] == 0.45 and p.params["Final pass steps"] == 12


def test_the_saved_output_decides_the_pipeline_not_a_preview_branch():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g, "kept", seed=10)
    other_pos = g.add("CLIPTextEncode", text="preview only", clip=out(ck, 1))
    side = g.add("KSampler", seed=99, steps=5, cfg=1, sampler_name="lcm", scheduler="sgm_uniform", denoise=1.0,
                 model=out(ck), positive=out(other_pos), negative=out(neg), latent_image=out(lat))
    g.add("PreviewImage", images=out(g.add("VAEDecode", samples=out(side), vae=out(ck, 2))))
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.prompt, p.seed) == ("kept", 10)
    assert [s["node"] for s in p.params["other_samplers"]] == [side]


def test_pixel_space_upscale_between_passes_is_followed():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g, "first", seed=5)
    loader = g.add("UpscaleModelLoader", model_name="4x-UltraSharp.pth")
    up = g.add("ImageUpscaleWithModel", upscale_model=out(loader), image=out(dec))
    scaled = g.add("ImageScale", upscale_method="bilinear", width=1024, height=1536, crop="disabled", image=out(up))
    enc = g.add("VAEEncode", pixels=out(scaled), vae=out(ck, 2))
    ks2 = g.add("KSampler", seed=6, steps=10, cfg=5, sampler_name="euler", scheduler="normal", denoise=0.3,
                model=out(ck), positive=out(pos), negative=out(neg), latent_image=out(enc))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(ks2), vae=out(ck, 2))))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.seed, p.width, p.height) == (5, 512, 768)
    assert [s["node"] for s in p.params["samplers"]] == [ks, ks2]
    assert p.params["Upscalers"] == ["4x-UltraSharp.pth"]


def test_img2img_has_no_generation_size_but_its_denoise():
    g = G()
    ck = g.add("CheckpointLoaderSimple", ckpt_name="v1-5.ckpt")
    img = g.add("LoadImage", image="photo.png")
    enc = g.add("VAEEncode", pixels=out(img), vae=out(ck, 2))
    pos = g.add("CLIPTextEncode", text="oil painting", clip=out(ck, 1))
    neg = g.add("CLIPTextEncode", text="", clip=out(ck, 1))
    ks = g.add("KSampler", seed=3, steps=20, cfg=8, sampler_name="euler", scheduler="normal", denoise=0.6,
               model=out(ck), positive=out(pos), negative=out(neg), latent_image=out(enc))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(ks), vae=out(ck, 2))))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.width, p.height, p.denoising_strength, p.negative_prompt) == (None, None, 0.6, "")


# ---------------------------------------------------------------------------------------------
# custom sampling, text sources, loaders

def test_sampler_custom_advanced_with_guider_noise_sampler_and_sigmas_nodes():
    g = G()
    ck, pos, neg, lat, *_ = txt2img(g, "custom", "bad")
    noise = g.add("RandomNoise", noise_seed=777)
    guider = g.add("CFGGuider", cfg=3.5, model=out(ck), positive=out(pos), negative=out(neg))
    pick = g.add("KSamplerSelect", sampler_name="dpmpp_2m_sde")
    sigmas = g.add("BasicScheduler", scheduler="beta", steps=28, denoise=1.0, model=out(ck))
    adv = g.add("SamplerCustomAdvanced", noise=out(noise), guider=out(guider), sampler=out(pick),
                sigmas=out(sigmas), latent_image=out(lat))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(adv), vae=out(ck, 2))))
    p = parsed({"PNG:Prompt": g.json()})
    assert columns(p)[1:] == ("custom", "bad", 28, 777, "dpmpp_2m_sde", "beta", 3.5, 512, 768,
                              "dreamshaper_8.safetensors")


def test_flux_unet_basic_guider_guidance_and_class_named_sampler_and_scheduler():
    g = G()
    unet = g.add("UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default")
    clip = g.add("DualCLIPLoader", clip_name1="t5xxl.safetensors", clip_name2="clip_l.safetensors", type="flux")
    enc = g.add("CLIPTextEncodeFlux", clip_l="a tiny robot", t5xxl="a tiny robot", guidance=3.5, clip=out(clip))
    guided = g.add("FluxGuidance", guidance=2.8, conditioning=out(enc))
    guider = g.add("BasicGuider", model=out(unet), conditioning=out(guided))
    lat = g.add("EmptySD3LatentImage", width=1024, height=1024, batch_size=1)
    adv = g.add("SamplerCustomAdvanced", noise=out(g.add("RandomNoise", noise_seed=5)), guider=out(guider),
                sampler=out(g.add("SamplerEulerAncestral", eta=1.0, s_noise=1.0)),
                sigmas=out(g.add("KarrasScheduler", steps=30, sigma_max=14.6, sigma_min=0.03, rho=7.0)),
                latent_image=out(lat))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(adv), vae=out(g.add("VAELoader", vae_name="ae.sft")))))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.prompt, p.negative_prompt, p.model, p.sampler, p.scheduler, p.steps, p.cfg_scale, p.vae) == (
        "a tiny robot", None, "flux1-dev.safetensors", "euler_ancestral", "karras", 30, None, "ae.sft")
    assert p.params["Guidance"] == 2.8


def test_sdxl_text_g_text_l_concatenation_and_primitive_text_nodes():
    g = G()
    ck = g.add("CheckpointLoaderSimple", ckpt_name="sdxl.safetensors")
    subject = g.add("PrimitiveStringMultiline", value="a knight")
    style = g.add("DF_Text_Box", Text="oil painting")
    joined = g.add("StringConcatenate", string_a=out(subject), string_b=out(style), delimiter=", ")
    pos = g.add("CLIPTextEncodeSDXL", width=1024, height=1024, crop_w=0, crop_h=0, target_width=1024,
                target_height=1024, text_g=out(joined), text_l=out(joined), clip=out(ck, 1))
    neg = g.add("CLIPTextEncodeSDXL", width=1024, height=1024, crop_w=0, crop_h=0, target_width=1024,
                target_height=1024, text_g="lowres", text_l="blurry", clip=out(ck, 1))
    lat = g.add("EmptyLatentImage", width=1024, height=1024, batch_size=1)
    ks = g.add("KSampler", seed=1, steps=30, cfg=7, sampler_name="euler", scheduler="normal", denoise=1,
               model=out(ck), positive=out(pos), negative=out(neg), latent_image=out(lat))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(ks), vae=out(ck, 2))))
    p = parsed({"PNG:Prompt": g.json()})
    assert p.prompt == "a knight, oil painting"  # text_g == text_l: once
    assert p.negative_prompt == "lowres\nblurry"  # different: both, in order


def test_combined_conditioning_controlnet_polarity_and_zero_out():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g, "sky", "text")
    area = g.add("CLIPTextEncode", text="a castle", clip=out(ck, 1))
    placed = g.add("ConditioningSetArea", width=256, height=256, x=0, y=0, strength=1.0, conditioning=out(area))
    combined = g.add("ConditioningCombine", conditioning_1=out(pos), conditioning_2=out(placed))
    cn = g.add("ControlNetApplyAdvanced", strength=0.8, start_percent=0, end_percent=1, positive=out(combined),
               negative=out(neg), control_net=out(g.add("ControlNetLoader", control_net_name="canny.pth")),
               image=out(g.add("LoadImage", image="edges.png")))
    g.nodes[ks]["inputs"]["positive"] = out(cn, 0)
    g.nodes[ks]["inputs"]["negative"] = out(cn, 1)
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.prompt, p.negative_prompt) == ("sky\na castle", "text")
    zero = g.add("ConditioningZeroOut", conditioning=out(pos))
    g.nodes[ks]["inputs"]["negative"] = out(zero)
    assert parsed({"PNG:Prompt": g.json()}).negative_prompt == ""


def test_seed_and_steps_from_linked_primitive_and_settings_nodes():
    g = G()
    *_, ks, dec = txt2img(g)
    g.nodes[ks]["inputs"]["seed"] = out(g.add("CR Seed", seed=942975376742792))
    g.nodes[ks]["inputs"]["steps"] = out(g.add("PrimitiveInt", value=33))
    g.nodes[ks]["inputs"]["cfg"] = out(g.add("PrimitiveFloat", value=4.5))
    g.nodes[ks]["inputs"]["sampler_name"] = out(g.add("Reroute", input=out(g.add("Sampler Selector", sampler_name="uni_pc"))))
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.seed, p.steps, p.cfg_scale, p.sampler) == (942975376742792, 33, 4.5, "uni_pc")


def test_lora_loaders_core_power_lora_loader_and_stacks():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g)
    core = g.add("LoraLoader", lora_name="loras/detail.safetensors", strength_model=0.6, strength_clip=1,
                 model=out(ck), clip=out(ck, 1))
    power = g.add("Power Lora Loader (rgthree)", model=out(core), clip=out(core, 1),
                  PowerLoraLoaderHeaderWidget={"type": "PowerLoraLoaderHeaderWidget"},
                  lora_1={"on": True, "lora": "style_a.safetensors", "strength": 0.8, "strengthTwo": None},
                  lora_2={"on": False, "lora": "disabled.safetensors", "strength": 1},
                  **{"➕ Add Lora": ""})
    stack = g.add("CR LoRA Stack", switch_1="On", lora_name_1="stacked.safetensors", model_weight_1=0.3,
                  clip_weight_1=0.3, switch_2="Off", lora_name_2="off.safetensors", model_weight_2=1,
                  clip_weight_2=1, switch_3="On", lora_name_3="None", model_weight_3=1, clip_weight_3=1)
    apply = g.add("CR Apply LoRA Stack", model=out(power), clip=out(power, 1), lora_stack=out(stack))
    g.nodes[ks]["inputs"]["model"] = out(apply)
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert p.model == "dreamshaper_8.safetensors"
    assert [(r.name, r.weight) for r in p.resources] == [("detail", 0.6), ("style_a", 0.8), ("stacked", 0.3)]


def test_clip_skip_vae_and_rgthree_latent_dimensions():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g)
    skip = g.add("CLIPSetLastLayer", stop_at_clip_layer=-2, clip=out(ck, 1))
    g.nodes[pos]["inputs"]["clip"] = out(skip)
    g.nodes[dec]["inputs"]["vae"] = out(g.add("VAELoader", vae_name="sdxl_vae.safetensors"))
    g.nodes[ks]["inputs"]["latent_image"] = out(g.add("SDXL Empty Latent Image (rgthree)",
                                                      dimensions="896 x 1152  (portrait)", clip_scale=1, batch_size=1))
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.clip_skip, p.vae, p.width, p.height) == (2, "sdxl_vae.safetensors", 896, 1152)


def test_efficiency_nodes_loader_holds_prompts_model_lora_clip_skip_and_size():
    g = G()
    loader = g.add("Efficient Loader", ckpt_name="realvis.safetensors", vae_name="Baked VAE", clip_skip=-2,
                   lora_name="epiNoise.safetensors", lora_model_strength=0.4, lora_clip_strength=1,
                   positive="a diner at night", negative="cartoon", token_normalization="none",
                   weight_interpretation="comfy", empty_latent_width=640, empty_latent_height=960, batch_size=1)
    ks = g.add("KSampler (Efficient)", model=out(loader), seed=9, steps=30, cfg=4, sampler_name="dpmpp_sde",
               scheduler="karras", positive=out(loader, 1), negative=out(loader, 2), latent_image=out(loader, 3),
               optional_vae=out(loader, 4), denoise=1, preview_method="auto", vae_decode="true")
    g.add("Save Image", images=out(ks, 5))
    p = parsed({"PNG:Prompt": g.json()})
    assert columns(p)[1:] == ("a diner at night", "cartoon", 30, 9, "dpmpp_sde", "karras", 4.0, 640, 960,
                              "realvis.safetensors")
    assert (p.clip_skip, [(r.name, r.weight) for r in p.resources]) == (2, [("epiNoise", 0.4)])


def test_impact_basic_pipe_and_text_part_concatenation():
    g = G()
    ck = g.add("CheckpointLoaderSimple", ckpt_name="m.safetensors")
    text = g.add("StringFunction|pysssss", action="append", tidy_tags="yes", text_a="portrait, ", text_b="soft light")
    pos = g.add("CLIPTextEncode", text=out(text), clip=out(ck, 1))
    neg = g.add("CLIPTextEncode", text="bad", clip=out(ck, 1))
    pipe = g.add("ToBasicPipe", model=out(ck), clip=out(ck, 1), vae=out(ck, 2), positive=out(pos), negative=out(neg))
    lat = g.add("EmptyLatentImage", width=512, height=512, batch_size=1)
    ks = g.add("ImpactKSamplerBasicPipe", basic_pipe=out(pipe), seed=4, steps=12, cfg=6, sampler_name="euler",
               scheduler="normal", latent_image=out(lat), denoise=1)
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(ks, 1), vae=out(ck, 2))))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.prompt, p.negative_prompt, p.model, p.steps) == ("portrait, soft light", "bad", "m.safetensors", 12)


def test_text_from_a_node_we_cannot_evaluate_is_unknown_not_empty():
    g = G()
    ck, pos, neg, lat, ks, dec = txt2img(g)
    reader = g.add("SDPromptReader", image="other.png")
    g.nodes[pos]["inputs"]["text"] = out(reader, 2)
    g.nodes[neg]["inputs"]["text"] = out(reader, 3)
    g.add("SaveImage", images=out(dec))
    p = parsed({"PNG:Prompt": g.json()})
    assert (p.prompt, p.negative_prompt, p.steps) == (None, None, 25)


def test_a_sampler_whose_every_setting_comes_from_a_custom_node_is_unparsed_naming_it():
    g = G()
    params = g.add("SDParameterGenerator", preset="SDXL 1024px")
    ks = g.add("KSampler", seed=out(params, 5), steps=out(params, 6), cfg=out(params, 8),
               sampler_name=out(params, 9), scheduler=out(params, 10), denoise=1, model=out(params, 2),
               positive=out(params, 11), negative=out(params, 12), latent_image=out(params, 13))
    g.add("SaveImage", images=out(g.add("VAEDecode", samples=out(ks), vae=out(params, 4))))
    outcome = parse_tags({"PNG:Prompt": g.json()})
    assert outcome.status == STATUS_UNPARSED
    assert outcome.error == ("ComfyUI sampler settings come from nodes that do not store their values "
                             "(PNG:Prompt: SDParameterGenerator)")


# ---------------------------------------------------------------------------------------------
# graph and A1111 text together; failures

def test_save_node_infotext_disagreeing_with_the_graph_only_fills_gaps():
    g = G()
    *_, ks, dec = txt2img(g, "graph prompt", ckpt="real_model.safetensors", seed=11)
    g.add("Save Image w/Metadata", images=out(dec), positive="unknown", negative="unknown", seed_value=0)
    text = a1111_infotext("unknown", "unknown", {"Steps": 20, "Sampler": "euler_simple", "Seed": 0,
                                                 "Size": "512x512", "Model hash": "217daae812",
                                                 "Model": "other_model", "Version": "ComfyUI"})
    p = parsed({"PNG:Parameters": text, "PNG:Prompt": g.json()})
    assert (p.generator, p.prompt, p.seed, p.model, p.model_hash) == ("ComfyUI", "graph prompt", 11,
                                                                      "real_model.safetensors", None)
    same = text.replace("other_model", "real_model")
    assert parsed({"PNG:Parameters": same, "PNG:Prompt": g.json()}).model_hash == "217daae812"
    assert parsed({"PNG:Parameters": same, "PNG:Prompt": g.json()}).params["infotext"]["Sampler"] == "euler_simple"


def test_graph_without_sampler_is_unparsed_with_the_reason_and_text_still_wins():
    g = G()
    img = g.add("LoadImage", image="x.png")
    g.add("SaveImage", images=out(g.add("ImageScaleBy", upscale_method="lanczos", scale_by=2, image=out(img))))
    outcome = parse_tags({"PNG:Prompt": g.json()})
    assert outcome.status == STATUS_UNPARSED and "ComfyUI graph without a sampler node" in outcome.error
    text = a1111_infotext("a cat", "", {"Steps": 20, "Sampler": "Euler", "Seed": 1, "Version": "ComfyUI"})
    p = parsed({"PNG:Prompt": g.json(), "PNG:Parameters": text})
    assert (p.generator, p.prompt) == ("ComfyUI", "a cat")


def test_broken_graph_json_is_unparsed_with_the_json_error():
    outcome = parse_tags({"PNG:Prompt": '{"3": {"class_type": "KSampler", "inputs": {"seed": 1,'})
    assert outcome.status == STATUS_UNPARSED
    assert "not valid JSON" in outcome.error and "PNG:Prompt" in outcome.error


def test_plain_text_prompt_chunk_is_not_a_graph():
    outcome = parse_tags({"PNG:Prompt": "just words, 1girl"})
    assert outcome.status == STATUS_UNPARSED and outcome.error.startswith("no known generation format")


# ---------------------------------------------------------------------------------------------
# real files through ExifTool

def test_png_webp_and_jpeg_files_end_to_end(tmp_path: Path):
    pj, wj, truth = comfyui_graph("a heron, 鷺", "blurry", seed=2**63 + 5, steps=24, width=768, height=512)
    folder = tmp_path / "img"
    folder.mkdir()
    write_png(folder / "a.png", [("prompt", pj), ("workflow", wj)])
    write_webp(folder / "b.webp", camera=("workflow:" + wj, "prompt:" + pj, None))
    write_jpeg(folder / "c.jpg", user_comment=json.dumps({"prompt": json.loads(pj), "workflow": json.loads(wj)}))
    write_png(folder / "d.png", [("workflow", wj)])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    got = {r["file_name"]: r for r in rows(tmp_path / "t.db")}
    for name in ("a.png", "b.webp", "c.jpg", "d.png"):
        r = got[name]
        assert r["parse_status"] == "ok" and r["generator"] == "ComfyUI", (name, r["error"])
        assert (r["prompt"], r["negative_prompt"], r["steps"], int(r["seed"]), r["width"], r["height"]) == (
            "a heron, 鷺", "blurry", 24, 2**63 + 5, 768, 512), name


# ---------------------------------------------------------------------------------------------
# robustness

def test_pathological_graphs_stay_fast():
    chain = {str(i): {"class_type": "StringConcatenate",
                      "inputs": {"string_a": [str(i + 1), 0], "string_b": [str(i + 1), 0], "delimiter": ","}}
             for i in range(2, 60)}  # a diamond DAG: 2**58 paths without memoisation
    chain["60"] = {"class_type": "PrimitiveString", "inputs": {"value": "x"}}
    cycle = {"1": {"class_type": "KSampler", "inputs": {"steps": 1, "positive": ["2", 0], "model": ["3", 0],
                                                          "latent_image": ["1", 0], "seed": ["1", 0]}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"text": ["2", 0]}},
             "3": {"class_type": "LoraLoader", "inputs": {"model": ["3", 0], "lora_name": "x"}}}
    long_chain = {str(i): {"class_type": "LoraLoader", "inputs": {"model": [str(i + 1), 0],
                                                                   "lora_name": f"l{i}", "strength_model": 1}}
                  for i in range(2, 3000)}
    long_chain["1"] = {"class_type": "KSampler", "inputs": {"steps": 1, "positive": ["x", 0], "model": ["2", 0]}}
    diamond = dict(chain)
    diamond["1"] = {"class_type": "KSampler", "inputs": {"steps": 1, "model": ["61", 0], "positive": ["62", 0]}}
    diamond["61"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}}
    diamond["62"] = {"class_type": "CLIPTextEncode", "inputs": {"text": ["2", 0]}}
    start = time.perf_counter()
    for graph in (diamond, cycle, long_chain):
        outcome = parse_tags({"PNG:Prompt": json.dumps(graph)})
        assert outcome.status != STATUS_ERROR, outcome.error
    assert time.perf_counter() - start < 5.0


_scalars = st.none() | st.booleans() | st.integers(-2**65, 2**65) | st.floats() | st.text(max_size=12)
_input_names = st.sampled_from(["seed", "steps", "cfg", "text", "model", "positive", "negative", "latent_image",
                                "samples", "images", "clip", "conditioning", "lora_name", "lora_1", "width",
                                "height", "ckpt_name", "guider", "sigmas", "noise", "sampler", "value",
                                "dimensions", "lora_stack", "vae", "string_a", "delimiter"])
_classes = st.sampled_from(["KSampler", "KSamplerAdvanced", "SamplerCustomAdvanced", "CLIPTextEncode",
                            "CheckpointLoaderSimple", "SaveImage", "StringConcatenate", "ConditioningCombine",
                            "LoraLoader", "Power Lora Loader (rgthree)", "Reroute", "EmptyLatentImage",
                            "CFGGuider", "BasicScheduler", "VAEDecode", "PreviewImage", "Whatever"])


@st.composite
def _graphs(draw):
    n = draw(st.integers(1, 12))
    ids = [str(i) for i in range(1, n + 1)]
    value = _scalars | st.tuples(st.sampled_from(ids + ["99"]), st.integers(-1, 3)).map(list) | \
        st.dictionaries(st.sampled_from(["on", "lora", "strength", "content"]), _scalars, max_size=3)
    return {nid: {"class_type": draw(_classes), "inputs": draw(st.dictionaries(_input_names, value, max_size=8))}
            for nid in ids}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graphs())
def test_property_random_graphs_never_crash_the_parser(graph):
    for tags in ({"PNG:Prompt": json.dumps(graph)}, {"IFD0:Model": "prompt:" + json.dumps(graph)},
                 {"PNG:Workflow": json.dumps({"nodes": [{"id": k, "type": v["class_type"], "mode": 0,
                                                         "widgets_values": list(v["inputs"].values())}
                                                        for k, v in graph.items()], "links": [[1, "1", 0, "2", 0]]})}):
        outcome = parse_tags(tags)
        assert outcome.status != STATUS_ERROR, outcome.error


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_graph_text_never_crashes_the_parser(data):
    pj, wj, _ = comfyui_graph("a cat", "dog", loras=[("x.safetensors", 0.5)])
    for text in (pj, wj):
        for _ in range(data.draw(st.integers(1, 6))):
            pos = data.draw(st.integers(0, len(text)))
            text = text[:pos] + data.draw(st.sampled_from(['"', "[", "]", "{", "}", ",", "0", "NaN", ""])) + \
                text[pos + data.draw(st.integers(0, 3)):]
        outcome = parse_tags({"PNG:Prompt": text, "PNG:Workflow": text})
        assert outcome.status != STATUS_ERROR, outcome.error


_json = st.recursive(st.none() | st.booleans() | st.integers(-3, 2**65) | st.floats() | st.text(max_size=6)
                     | st.sampled_from(["KSampler", "CLIPTextEncode", "model", "positive", "text", "seed", "1", "2"]),
                     lambda inner: st.lists(inner, max_size=6) | st.dictionaries(
                         st.sampled_from(["id", "type", "inputs", "outputs", "widgets_values", "mode", "link", "name",
                                          "widget", "type", "links", "origin_id", "origin_slot", "text", "model"]),
                         inner, max_size=6), max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_json, max_size=6), st.lists(_json, max_size=6))
@example(nodes=[{"id": 1, "type": "KSampler", "inputs": [{"name": "model", "link": [1]}]}],
         links=[[[1], 2, 0, 3, 0, "MODEL"], {"id": [3]}])  # unhashable link ids once crashed the converter
def test_property_random_workflow_structures_never_crash_the_parser(nodes, links):
    nodes = [dict(n, type=n.get("type", "KSampler"), id=n.get("id", i)) if isinstance(n, dict) else n
             for i, n in enumerate(nodes)]
    outcome = parse_tags({"PNG:Workflow": json.dumps({"nodes": nodes, "links": links})})
    assert outcome.status != STATUS_ERROR, outcome.error


EFFICIENT_SDXL = {  # efficiency-nodes-comfyui: Eff. Loader SDXL -> KSampler SDXL (Eff.), prompts inside sdxl_tuple
    "1": {"class_type": "Eff. Loader SDXL", "inputs": {
        "base_ckpt_name": "sd_xl_base_1.0.safetensors", "base_clip_skip": -2,
        "refiner_ckpt_name": "sd_xl_refiner_1.0.safetensors", "refiner_clip_skip": -2, "positive_ascore": 6,
        "negative_ascore": 2, "vae_name": "Baked VAE", "positive": "a castle on a hill", "negative": "blurry",
        "token_normalization": "none", "weight_interpretation": "comfy", "empty_latent_width": 896,
        "empty_latent_height": 1152, "batch_size": 1}},
    "2": {"class_type": "KSampler SDXL (Eff.)", "inputs": {
        "sdxl_tuple": ["1", 0], "noise_seed": 1234, "steps": 30, "cfg": 7, "sampler_name": "dpmpp_2m",
        "scheduler": "karras", "latent_image": ["1", 1], "start_at_step": 0, "refine_at_step": 24,
        "preview_method": "auto", "vae_decode": "true", "optional_vae": ["1", 2]}},
    "3": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["2", 3]}},
}


def test_the_efficiency_nodes_sdxl_sampler_takes_model_and_prompts_from_its_tuple(tmp_path):
    write_png(tmp_path / "eff.png", {"prompt": json.dumps(EFFICIENT_SDXL)})
    fill(FillOptions(root=str(tmp_path), recursive=False, db_path=tmp_path / "e.db", workers=1))
    (row,) = rows(tmp_path / "e.db")
    assert row["parse_status"] == STATUS_OK, row["error"]
    assert (row["prompt"], row["negative_prompt"], row["model"], row["steps"], row["seed"], row["sampler"],
            row["scheduler"], row["cfg_scale"], row["width"], row["height"]) == (
        "a castle on a hill", "blurry", "sd_xl_base_1.0.safetensors", 30, 1234, "dpmpp_2m", "karras", 7.0, 896, 1152)
