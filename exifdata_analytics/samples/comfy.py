"""ComfyUI graphs as ComfyUI's SaveImage embeds them: the API prompt and the UI workflow."""
from __future__ import annotations

import json
import logging
from typing import Any, Sequence

logger = logging.getLogger(__name__)


def comfyui_graph(
    prompt: str,
    negative_prompt: str = "",
    *,
    model: str = "dreamshaper_8.safetensors",
    seed: int = 0,
    steps: int = 20,
    cfg: float = 7.0,
    sampler_name: str = "euler",
    scheduler: str = "normal",
    width: int = 512,
    height: int = 512,
    denoise: float = 1.0,
    loras: Sequence[tuple[str, float]] = (),
    filename_prefix: str = "ComfyUI",
) -> tuple[str, str, dict[str, Any]]:
    """A ComfyUI text-to-image graph as ComfyUI's SaveImage embeds it.

    CheckpointLoaderSimple -> [LoraLoader…] -> CLIPTextEncode (positive, negative) ->
    EmptyLatentImage -> KSampler -> VAEDecode -> SaveImage. Returns
    ``(prompt_json, workflow_json, truth)``: the API graph (``{id: {inputs, class_type,
    _meta}}``, links as ``["node_id", slot]``) and the UI workflow (``nodes``, ``links``
    ``[id, from, from_slot, to, to_slot, type]``), both serialised with ``json.dumps``
    defaults as ComfyUI does (so non-ASCII text appears as ``\\uXXXX`` escapes), and the
    ground truth in the database's vocabulary.
    """
    # ---- API graph -------------------------------------------------------------------------
    model_src: list[Any] = ["4", 0]
    clip_src: list[Any] = ["4", 1]
    lora_nodes: list[tuple[str, dict[str, Any]]] = []
    for i, (lora_name, strength) in enumerate(loras):
        nid = str(10 + i)
        lora_nodes.append((nid, {
            "inputs": {"lora_name": lora_name, "strength_model": strength, "strength_clip": strength,
                       "model": model_src, "clip": clip_src},
            "class_type": "LoraLoader", "_meta": {"title": "Load LoRA"}}))
        model_src, clip_src = [nid, 0], [nid, 1]
    api: dict[str, Any] = {
        "3": {"inputs": {"seed": seed, "steps": steps, "cfg": cfg, "sampler_name": sampler_name,
                         "scheduler": scheduler, "denoise": denoise, "model": model_src,
                         "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
              "class_type": "KSampler", "_meta": {"title": "KSampler"}},
        "4": {"inputs": {"ckpt_name": model},
              "class_type": "CheckpointLoaderSimple", "_meta": {"title": "Load Checkpoint"}},
        "5": {"inputs": {"width": width, "height": height, "batch_size": 1},
              "class_type": "EmptyLatentImage", "_meta": {"title": "Empty Latent Image"}},
        "6": {"inputs": {"text": prompt, "clip": clip_src},
              "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "7": {"inputs": {"text": negative_prompt, "clip": clip_src},
              "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]},
              "class_type": "VAEDecode", "_meta": {"title": "VAE Decode"}},
        "9": {"inputs": {"filename_prefix": filename_prefix, "images": ["8", 0]},
              "class_type": "SaveImage", "_meta": {"title": "Save Image"}},
    }
    api.update(lora_nodes)

    # ---- UI workflow -----------------------------------------------------------------------
    links: list[list[Any]] = []

    def link(src: int, src_slot: int, dst: int, dst_slot: int, typ: str) -> int:
        links.append([len(links) + 1, src, src_slot, dst, dst_slot, typ])
        return len(links)

    # model/clip chain through the LoRA loaders
    chain = [4] + [10 + i for i in range(len(loras))]
    lora_in: dict[int, tuple[int, int]] = {}
    for prev, nxt in zip(chain, chain[1:]):
        lora_in[nxt] = (link(prev, 0, nxt, 0, "MODEL"), link(prev, 1, nxt, 1, "CLIP"))
    last = chain[-1]
    l_model = link(last, 0, 3, 0, "MODEL")
    l_clip_pos = link(last, 1, 6, 0, "CLIP")
    l_clip_neg = link(last, 1, 7, 0, "CLIP")
    l_pos = link(6, 0, 3, 1, "CONDITIONING")
    l_neg = link(7, 0, 3, 2, "CONDITIONING")
    l_latent = link(5, 0, 3, 3, "LATENT")
    l_samples = link(3, 0, 8, 0, "LATENT")
    l_vae = link(4, 2, 8, 1, "VAE")
    l_image = link(8, 0, 9, 0, "IMAGE")

    def out_links(node_id: int, slot: int) -> list[int]:
        return [lk[0] for lk in links if lk[1] == node_id and lk[2] == slot]

    def node(nid: int, typ: str, order: int, pos: list[int], size: tuple[int, int],
             inputs: list[dict[str, Any]], outputs: list[tuple[str, int]], widgets: list[Any]) -> dict[str, Any]:
        return {
            "id": nid, "type": typ, "pos": pos, "size": {"0": size[0], "1": size[1]}, "flags": {},
            "order": order, "mode": 0, "inputs": inputs,
            "outputs": [{"name": name, "type": name, "links": out_links(nid, slot) or None,
                         "slot_index": slot} for name, slot in outputs],
            "properties": {"Node name for S&R": typ}, "widgets_values": widgets,
        }

    n_l = len(loras)
    nodes = [
        node(4, "CheckpointLoaderSimple", 0, [26, 474], (315, 98), [],
             [("MODEL", 0), ("CLIP", 1), ("VAE", 2)], [model]),
        node(5, "EmptyLatentImage", 1 + n_l, [473, 609], (315, 106), [],
             [("LATENT", 0)], [width, height, 1]),
    ]
    for i, (lora_name, strength) in enumerate(loras):
        nid = 10 + i
        nodes.append(node(nid, "LoraLoader", 1 + i, [200 + 40 * i, 300 + 40 * i], (315, 126),
                          [{"name": "model", "type": "MODEL", "link": lora_in[nid][0]},
                           {"name": "clip", "type": "CLIP", "link": lora_in[nid][1]}],
                          [("MODEL", 0), ("CLIP", 1)], [lora_name, strength, strength]))
    nodes += [
        node(6, "CLIPTextEncode", 2 + n_l, [415, 186], (422, 164),
             [{"name": "clip", "type": "CLIP", "link": l_clip_pos}], [("CONDITIONING", 0)], [prompt]),
        node(7, "CLIPTextEncode", 3 + n_l, [413, 389], (425, 180),
             [{"name": "clip", "type": "CLIP", "link": l_clip_neg}], [("CONDITIONING", 0)], [negative_prompt]),
        node(3, "KSampler", 4 + n_l, [863, 186], (315, 262),
             [{"name": "model", "type": "MODEL", "link": l_model},
              {"name": "positive", "type": "CONDITIONING", "link": l_pos},
              {"name": "negative", "type": "CONDITIONING", "link": l_neg},
              {"name": "latent_image", "type": "LATENT", "link": l_latent}],
             [("LATENT", 0)], [seed, "randomize", steps, cfg, sampler_name, scheduler, denoise]),
        node(8, "VAEDecode", 5 + n_l, [1209, 188], (210, 46),
             [{"name": "samples", "type": "LATENT", "link": l_samples},
              {"name": "vae", "type": "VAE", "link": l_vae}], [("IMAGE", 0)], []),
        node(9, "SaveImage", 6 + n_l, [1451, 189], (210, 270),
             [{"name": "images", "type": "IMAGE", "link": l_image}], [], [filename_prefix]),
    ]
    workflow = {
        "last_node_id": max(chain + [9]), "last_link_id": len(links), "nodes": nodes, "links": links,
        "groups": [], "config": {}, "extra": {"ds": {"scale": 1, "offset": [0, 0]}}, "version": 0.4,
    }
    truth = {
        "generator": "ComfyUI", "prompt": prompt, "negative_prompt": negative_prompt,
        "steps": steps, "seed": seed, "sampler": sampler_name, "scheduler": scheduler,
        "cfg_scale": float(cfg), "width": width, "height": height, "model": model,
        "denoising_strength": float(denoise), "loras": tuple((n, float(w)) for n, w in loras),
    }
    return json.dumps(api), json.dumps(workflow), truth
