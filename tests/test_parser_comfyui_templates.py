"""ComfyUI graphs in the shape of the official workflow templates, built here: subgraphs (UI
workflows whose nodes live in ``definitions.subgraphs[]``, an outer node typed by the subgraph's
UUID, promoted widgets in ``properties.proxyWidgets``, links to the input node -10 and the output
node -20), switches, computed prompts and the nodes of newer model families (Flux.2, Wan video,
SD Turbo, HiDream E1); written into real PNGs and read back through ExifTool where it matters."""
from __future__ import annotations

import json
from pathlib import Path

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_OK, parse_tags
from exifdata_analytics.parsers.comfyui.subgraphs import MAX_NODES, expand_subgraphs
from exifdata_analytics.samples import write_png
from tests.conftest import rows


class Level:
    """One graph level of a UI workflow: nodes with widget values, links as the frontend writes
    them (arrays at the top level, objects inside a subgraph)."""

    def __init__(self, first_id: int = 1, object_links: bool = False):
        self.nodes: list[dict] = []
        self.links: list = []
        self.next_id = first_id
        self.object_links = object_links
        self.link_id = first_id * 100

    def node(self, type_: str, widgets=(), *, mode: int = 0, inputs=(), outputs=1, **props) -> int:
        nid = self.next_id
        self.next_id += 1
        self.nodes.append({
            "id": nid, "type": type_, "mode": mode, "flags": {}, "order": len(self.nodes),
            "inputs": [{"name": name, "type": "*", "link": None, **({"widget": {"name": name}} if w else {})}
                       for name, w in inputs],
            "outputs": [{"name": f"OUT{i}", "type": "*", "links": []} for i in range(outputs)],
            "properties": dict(props), "widgets_values": list(widgets)})
        return nid

    def connect(self, origin: int, slot: int, target: int, name: str) -> None:
        """Link ``origin``'s output ``slot`` to input ``name`` of ``target`` (added when missing;
        origin/target -10/-20 are a subgraph's input/output nodes)."""
        self.link_id += 1
        lid = self.link_id
        if target == -20:
            target_slot = slot
        else:
            node = next(n for n in self.nodes if n["id"] == target)
            inp = next((i for i in node["inputs"] if i["name"] == name), None)
            if inp is None:
                inp = {"name": name, "type": "*", "link": None}
                node["inputs"].append(inp)
            inp["link"] = lid
            target_slot = node["inputs"].index(inp)
        if self.object_links:
            self.links.append({"id": lid, "origin_id": origin, "origin_slot": slot, "target_id": target,
                               "target_slot": target_slot, "type": "*"})
        else:
            self.links.append([lid, origin, slot, target, target_slot, "*"])


def definition(uuid: str, level: Level, inputs: list[str], outputs: list[str], name: str) -> dict:
    return {"id": uuid, "version": 1, "name": name, "inputNode": {"id": -10}, "outputNode": {"id": -20},
            "inputs": [{"id": f"in-{i}", "name": n, "type": "*"} for i, n in enumerate(inputs)],
            "outputs": [{"id": f"out-{i}", "name": n, "type": "*"} for i, n in enumerate(outputs)],
            "widgets": [], "nodes": level.nodes, "links": level.links}


TEXT_TO_IMAGE = "27a9a311-dfa9-41fa-b08b-6f5b50553553"
NEGATIVE = "5c992ce5-0000-4000-8000-000000000001"


def z_image_subgraph(prompt="a billboard on a rooftop", seed=7, size=(1024, 1536),
                     nested_negative: bool = False) -> dict:
    """The inner graph of the "Text to Image (Z-Image-Turbo)" template: input 0 = text,
    1 = width; output 0 = IMAGE."""
    s = Level(first_id=85, object_links=True)
    clip = s.node("CLIPLoader", ["qwen_3_4b.safetensors", "lumina2", "default"], inputs=[("clip_name", True)])
    vae = s.node("VAELoader", ["ae.safetensors"])
    unet = s.node("UNETLoader", ["z_image_turbo_bf16.safetensors", "default"])
    msamp = s.node("ModelSamplingAuraFlow", [3])
    pos = s.node("CLIPTextEncode", [prompt], inputs=[("clip", False), ("text", True)])
    if nested_negative:
        neg = s.node(NEGATIVE, [], properties={"proxyWidgets": [["2", "value"]]})
    else:
        neg = s.node("ConditioningZeroOut", [])
    lat = s.node("EmptySD3LatentImage", [*size, 1], inputs=[("width", True), ("height", True)])
    ks = s.node("KSampler", [seed, "randomize", 4, 1, "res_multistep", "simple", 1])
    dec = s.node("VAEDecode", [])
    s.connect(unet, 0, msamp, "model")
    s.connect(clip, 0, pos, "clip")
    s.connect(-10, 0, pos, "text")
    s.connect(-10, 1, lat, "width")
    if nested_negative:
        s.connect(clip, 0, neg, "clip")
    else:
        s.connect(pos, 0, neg, "conditioning")
    s.connect(msamp, 0, ks, "model")
    s.connect(pos, 0, ks, "positive")
    s.connect(neg, 0, ks, "negative")
    s.connect(lat, 0, ks, "latent_image")
    s.connect(ks, 0, dec, "samples")
    s.connect(vae, 0, dec, "vae")
    s.connect(dec, 0, -20, "IMAGE")
    return definition(TEXT_TO_IMAGE, s, ["text", "width"], ["IMAGE"], "Text to Image (Z-Image-Turbo)")


def negative_subgraph(text="blurry, worst quality") -> dict:
    """A nested "CLIP Text Encode (Negative Prompt)" subgraph: clip in, conditioning out."""
    s = Level(first_id=1, object_links=True)
    enc = s.node("CLIPTextEncode", [""], inputs=[("clip", False), ("text", True)])
    value = s.node("PrimitiveStringMultiline", [text])
    s.connect(-10, 0, enc, "clip")
    s.connect(value, 0, enc, "text")
    s.connect(enc, 0, -20, "CONDITIONING")
    return definition(NEGATIVE, s, ["clip"], ["CONDITIONING"], "CLIP Text Encode (Negative Prompt)")


def workflow(*definitions: dict, linked_text: str = "", bypassed_copy: bool = False) -> dict:
    top = Level(first_id=60)
    if bypassed_copy:  # a second use of the subgraph, bypassed, saved by a bypassed node, listed first
        copy = top.node(TEXT_TO_IMAGE, [], mode=4)
        top.connect(copy, 0, top.node("SaveImage", ["other"], mode=4), "images")
    save = top.node("SaveImage", ["z-image-turbo"])
    outer = top.node(TEXT_TO_IMAGE, [], inputs=[("text", True), ("width", True)],
                     proxyWidgets=[["90", "text"], ["91", "width"], ["92", "seed"]])
    top.connect(outer, 0, save, "images")
    if linked_text:
        text = top.node("PrimitiveStringMultiline", [linked_text])
        top.connect(text, 0, outer, "text")
    return {"id": "91f6bbe2-ed41-4fd6-bac7-71d5b5864ecb", "revision": 2, "nodes": top.nodes, "links": top.links,
            "definitions": {"subgraphs": list(definitions)}, "version": 0.4}


def params_of(wf: dict):
    outcome = parse_tags({"PNG:Workflow": json.dumps(wf)})
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_a_template_subgraph_is_expanded_with_the_inner_nodes_widget_values():
    p = params_of(workflow(z_image_subgraph()))
    assert (p.prompt, p.seed, p.steps, p.cfg_scale, p.sampler, p.scheduler, p.model, p.width, p.height) == (
        "a billboard on a rooftop", 7, 4, 1, "res_multistep", "simple", "z_image_turbo_bf16.safetensors", 1024, 1536)
    assert p.negative_prompt == ""  # ConditioningZeroOut: deliberately empty
    assert p.params["samplers"][0]["node"] == "61:92"  # ComfyUI's id of an inner node: outer:inner
    assert p.params["workflow_only"] is True


def test_a_linked_subgraph_input_replaces_the_inner_widget():
    p = params_of(workflow(z_image_subgraph(prompt="stale widget text"), linked_text="a lighthouse in fog"))
    assert p.prompt == "a lighthouse in fog"


def test_nested_subgraphs_and_a_bypassed_second_use_of_the_definition():
    wf = workflow(z_image_subgraph(seed=1234, nested_negative=True), negative_subgraph("lowres, jpeg artifacts"),
                  bypassed_copy=True)
    p = params_of(wf)
    assert (p.prompt, p.negative_prompt, p.seed) == ("a billboard on a rooftop", "lowres, jpeg artifacts", 1234)
    flat = expand_subgraphs(wf)
    ids = {str(n["id"]) for n in flat["nodes"]}
    assert {"63:92", "63:90:1", "63:90:2"} <= ids  # nested ids chain the outer ids
    assert not any(n["type"] in (TEXT_TO_IMAGE, NEGATIVE) and n["mode"] == 0 for n in flat["nodes"])
    assert expand_subgraphs({"nodes": [], "links": []}) == {"nodes": [], "links": []}


def test_a_subgraph_png_is_indexed_end_to_end(tmp_path: Path):
    folder = tmp_path / "img"
    folder.mkdir()
    write_png(folder / "template.png", [("workflow", json.dumps(workflow(z_image_subgraph(seed=2**50))))])
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    (r,) = rows(tmp_path / "t.db")
    assert r["parse_status"] == "ok", r["error"]
    assert (r["generator"], r["prompt"], int(r["seed"]), r["steps"], r["model"], r["width"]) == (
        "ComfyUI", "a billboard on a rooftop", 2**50, 4, "z_image_turbo_bf16.safetensors", 1024)


def test_self_referencing_and_broken_definitions_stay_bounded():
    sub = z_image_subgraph()
    # the definition uses itself twice (a loop no frontend writes): expansion stops at the nesting cap
    sub["nodes"].append({"id": 500, "type": TEXT_TO_IMAGE, "mode": 0, "inputs": [], "outputs": []})
    sub["nodes"].append({"id": 501, "type": TEXT_TO_IMAGE, "mode": 0, "inputs": [], "outputs": []})
    broken = [{"id": "x", "nodes": "no"}, {"id": 5}, "junk", {"id": TEXT_TO_IMAGE + "b", "nodes": [None, 1],
                                                                "links": [None, [1], {"id": True}]}]
    wf = workflow(sub, *broken)
    assert len(expand_subgraphs(wf)["nodes"]) <= MAX_NODES
    assert params_of(wf).seed == 7


# ---------------------------------------------------------------------------------------------
# switches, computed prompts and newer model families (flat UI workflows and API graphs)

def flux2_workflow(lightning: bool) -> dict:
    """The Flux.2 Dev template's sampling: SamplerCustomAdvanced fed by RandomNoise, BasicGuider
    (+ FluxGuidance), KSamplerSelect and Flux2Scheduler; steps and model chosen by switches on one
    "Enable Turbo LoRA" boolean, while the scheduler's own widget still says 4 steps."""
    t = Level(first_id=1)
    unet = t.node("UNETLoader", ["flux2_dev_fp8mixed.safetensors", "default"])
    lora = t.node("LoraLoaderModelOnly", ["Flux_2-Turbo-LoRA_comfyui.safetensors", 1])
    flag = t.node("PrimitiveBoolean", [lightning])
    model = t.node("ComfySwitchNode", [False], inputs=[("switch", True)])
    steps_off, steps_on = t.node("PrimitiveInt", [20, "fixed"]), t.node("PrimitiveInt", [8, "fixed"])
    steps = t.node("ComfySwitchNode", [False], inputs=[("switch", True)])
    clip = t.node("CLIPLoader", ["mistral_3_small_flux2_fp8.safetensors", "flux2", "default"])
    enc = t.node("CLIPTextEncode", ["high fashion street photography"])
    guid = t.node("FluxGuidance", [4])
    guider = t.node("BasicGuider", [])
    noise = t.node("RandomNoise", [1027111520328378, "randomize"])
    pick = t.node("KSamplerSelect", ["euler"])
    sched = t.node("Flux2Scheduler", [4, 1024, 768], inputs=[("steps", True), ("width", True), ("height", True)])
    lat = t.node("EmptyFlux2LatentImage", [1024, 768, 1])
    sampler = t.node("SamplerCustomAdvanced", [])
    dec = t.node("VAEDecode", [])
    save = t.node("SaveImage", ["Flux2"])
    t.connect(unet, 0, lora, "model")
    t.connect(unet, 0, model, "on_false")
    t.connect(lora, 0, model, "on_true")
    t.connect(flag, 0, model, "switch")
    t.connect(steps_off, 0, steps, "on_false")
    t.connect(steps_on, 0, steps, "on_true")
    t.connect(flag, 0, steps, "switch")
    t.connect(clip, 0, enc, "clip")
    t.connect(enc, 0, guid, "conditioning")
    t.connect(model, 0, guider, "model")
    t.connect(guid, 0, guider, "conditioning")
    t.connect(steps, 0, sched, "steps")
    for target, name in ((noise, "noise"), (guider, "guider"), (pick, "sampler"), (sched, "sigmas"),
                         (lat, "latent_image")):
        t.connect(target, 0, sampler, name)
    t.connect(sampler, 0, dec, "samples")
    t.connect(dec, 0, save, "images")
    return {"nodes": t.nodes, "links": t.links, "version": 0.4}


def test_switches_pick_the_branch_their_flag_selects_over_stale_widgets():
    off = params_of(flux2_workflow(lightning=False))
    assert (off.prompt, off.seed, off.steps, off.sampler, off.model, off.width, off.height, off.cfg_scale) == (
        "high fashion street photography", 1027111520328378, 20, "euler", "flux2_dev_fp8mixed.safetensors", 1024,
        768, None)
    assert off.params["Guidance"] == 4 and "LoRAs" not in off.params  # FluxGuidance is not CFG
    on = params_of(flux2_workflow(lightning=True))
    assert (on.steps, on.model) == (8, "flux2_dev_fp8mixed.safetensors")
    assert [(r.name, r.weight) for r in on.resources] == [("Flux_2-Turbo-LoRA_comfyui", 1)]


def test_video_latents_and_the_sd_turbo_scheduler_give_size_and_steps():
    for latent, widgets in (("EmptyHunyuanLatentVideo", [640, 480, 81, 1]),
                            ("Wan22ImageToVideoLatent", [1280, 704, 121, 1])):
        t = Level()
        unet = t.node("UNETLoader", ["wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", "default"])
        shift = t.node("ModelSamplingSD3", [8])
        pos, neg = t.node("CLIPTextEncode", ["a fox running"]), t.node("CLIPTextEncode", ["static, blurry"])
        lat = t.node(latent, widgets)
        pick = t.node("KSamplerSelect", ["euler"])
        sched = t.node("SDTurboScheduler", [3, 1])
        sampler = t.node("SamplerCustom", [True, 5, "fixed", 1.5])
        t.connect(unet, 0, shift, "model")
        for src, name in ((shift, "model"), (pos, "positive"), (neg, "negative"), (pick, "sampler"),
                          (sched, "sigmas"), (lat, "latent_image")):
            t.connect(src, 0, sampler, name)
        t.connect(sampler, 0, t.node("SaveWEBM", ["video"]), "images")
        p = params_of({"nodes": t.nodes, "links": t.links})
        assert (p.prompt, p.negative_prompt, p.seed, p.steps, p.cfg_scale, p.sampler, p.width, p.height) == (
            "a fox running", "static, blurry", 5, 3, 1.5, "euler", widgets[0], widgets[1]), latent
        assert p.model == "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors"


def test_prompts_built_by_string_replace_and_the_negative_of_a_dual_cfg_guider():
    g = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "hidream_e1_1_bf16.safetensors"}},
        "2": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "tags: {user_prompt}; caption: {c}"}},
        "3": {"class_type": "StringReplace", "inputs": {"string": ["2", 0], "find": "{user_prompt}",
                                                        "replace": "1girl, witch hat"}},
        "4": {"class_type": "StringReplace", "inputs": {"string": ["3", 0], "find": "{c}", "replace": ["5", 0]}},
        "5": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a witch in a vortex"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": ["4", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "low quality, blurry"}},
        "8": {"class_type": "InstructPixToPixConditioning", "inputs": {"positive": ["6", 0], "negative": ["7", 0],
                                                                       "vae": ["1", 2], "pixels": ["9", 0]}},
        "9": {"class_type": "LoadImage", "inputs": {"image": "input.png"}},
        "10": {"class_type": "DualCFGGuider", "inputs": {"model": ["1", 0], "cond1": ["8", 0], "cond2": ["8", 1],
                                                         "negative": ["6", 0], "cfg_conds": 3, "cfg_cond2_negative": 1.5,
                                                         "style": "regular"}},
        "11": {"class_type": "RandomNoise", "inputs": {"noise_seed": 3}},
        "12": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "13": {"class_type": "BasicScheduler", "inputs": {"model": ["1", 0], "scheduler": "normal", "steps": 28,
                                                          "denoise": 1}},
        "14": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["11", 0], "guider": ["10", 0],
                                                                 "sampler": ["12", 0], "sigmas": ["13", 0],
                                                                 "latent_image": ["8", 2]}},
        "15": {"class_type": "VAEDecode", "inputs": {"samples": ["14", 0], "vae": ["1", 2]}},
        "16": {"class_type": "SaveImage", "inputs": {"images": ["15", 0], "filename_prefix": "e1"}},
    }
    outcome = parse_tags({"PNG:Prompt": json.dumps(g)})
    assert outcome.status == STATUS_OK, outcome
    p = outcome.params
    assert p.prompt == "tags: 1girl, witch hat; caption: a witch in a vortex"
    assert (p.negative_prompt, p.steps, p.scheduler, p.seed) == ("low quality, blurry", 28, "normal", 3)
    g["4"]["inputs"]["replace"] = ["1", 0]  # a part that is no text: the prompt is unknown, not half-built
    assert parse_tags({"PNG:Prompt": json.dumps(g)}).params.prompt is None


def test_an_api_prompt_of_a_subgraph_workflow_keeps_comfyuis_outer_inner_ids():
    """What ComfyUI writes in ``prompt`` when it queues a subgraph workflow: the graph already
    flattened, inner nodes named ``outer:inner``."""
    g = {
        "104:89": {"class_type": "UNETLoader", "inputs": {"unet_name": "z_image_turbo_bf16.safetensors",
                                                          "weight_dtype": "default"}},
        "104:93": {"class_type": "ModelSamplingAuraFlow", "inputs": {"shift": 3, "model": ["104:89", 0]}},
        "104:85": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2"}},
        "104:90": {"class_type": "CLIPTextEncode", "inputs": {"text": "a billboard", "clip": ["104:85", 0]}},
        "104:87": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["104:90", 0]}},
        "104:91": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
        "104:92": {"class_type": "KSampler", "inputs": {
            "seed": 11, "steps": 4, "cfg": 1, "sampler_name": "res_multistep", "scheduler": "simple", "denoise": 1,
            "model": ["104:93", 0], "positive": ["104:90", 0], "negative": ["104:87", 0],
            "latent_image": ["104:91", 0]}},
        "104:86": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "104:88": {"class_type": "VAEDecode", "inputs": {"samples": ["104:92", 0], "vae": ["104:86", 0]}},
        "60": {"class_type": "SaveImage", "inputs": {"filename_prefix": "z", "images": ["104:88", 0]}},
    }
    outcome = parse_tags({"PNG:Prompt": json.dumps(g), "PNG:Workflow": json.dumps(workflow(z_image_subgraph()))})
    p = outcome.params
    assert (p.prompt, p.seed, p.steps, p.model, p.width, p.height, p.vae) == (
        "a billboard", 11, 4, "z_image_turbo_bf16.safetensors", 1024, 768, "ae.safetensors")
    assert p.params["graph"] == "PNG:Prompt" and p.params["samplers"][0]["node"] == "104:92"
