"""ComfyUI subgraphs: UI workflows whose nodes live in ``definitions.subgraphs[]``, built here in
the shape of the official templates (an outer node typed by the subgraph's UUID, promoted widgets
in ``properties.proxyWidgets``, links to the input node -10 and the output node -20), written
into real PNGs and read back through ExifTool."""
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
