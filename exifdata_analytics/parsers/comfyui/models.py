"""The files a graph loads: checkpoint/UNet loaders, LoRA chains and stacks, VAE, clip skip, upscale models.

The model is found up a sampler's model input, through LoRA loaders (core, rgthree Power Lora
Loader, LoRA stacks) and model patches, to the loader; clip skip is a ``CLIPSetLastLayer`` (or a
loader's ``clip_skip``) on the text encoder's CLIP input; the VAE is the loader feeding the decode
node of the output.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from ..common import to_float, to_int, to_text
from .topology import MAX_DEPTH, Link, is_passthrough, link
from .values import Values
from .vocabulary import (CLIP_SKIP_INPUTS, LOADER_NAMES, LORA_WEIGHTS, MODEL_INPUTS, NONE_NAMES, OFF,
                         SOURCE_LOADER_NAMES, STACK_ITEM_RE, STACK_WEIGHT_PREFIXES)

logger = logging.getLogger(__name__)

Lora = tuple[str, Optional[float]]  # (file name, model weight)


def model_and_loras(values: Values, value: Any) -> tuple[Optional[str], list[Lora]]:
    """(checkpoint/UNet name, LoRAs) behind a model input."""
    graph = values.graph
    loras: list[Lora] = []
    seen: set[str] = set()
    lk = link(graph, value)
    name = None
    depth = 0
    while lk is not None and lk[0] not in seen and depth < MAX_DEPTH:
        nid = lk[0]
        seen.add(nid)
        depth += 1
        inputs = graph[nid]["inputs"]
        loras = _loras_of(values, nid, seen) + loras  # walking up: earlier loaders go first
        for key in LOADER_NAMES:
            if key in inputs:
                name = values.string(inputs[key], key)
                if name:
                    break
        if name:
            break
        nxt = None
        for key in MODEL_INPUTS:
            nxt = link(graph, inputs.get(key))
            if nxt:
                break
        if nxt is None:
            name = next(filter(None, (values.string(inputs[k], k) for k in SOURCE_LOADER_NAMES if k in inputs)), None)
            if name:
                break
        if nxt is None and is_passthrough(graph, nid):
            nxt = link(graph, next(iter(inputs.values())))
        lk = nxt
    return name, loras


def _loras_of(values: Values, nid: str, seen: set) -> list[Lora]:
    graph = values.graph
    inputs = graph[nid]["inputs"]
    found: list[Lora] = []
    if "lora_name" in inputs:
        name = values.string(inputs["lora_name"], "lora_name")
        if name and name.strip().lower() not in NONE_NAMES:
            weight = None
            for key in LORA_WEIGHTS:
                if key in inputs:
                    weight = to_float(values.number(inputs[key], key))
                    break
            found.append((name, weight))
    found += _lora_items(inputs)
    # stacks feeding this node (CR Apply LoRA Stack, Efficient Loader…), possibly chained
    for key, value in inputs.items():
        if "stack" in key.lower():
            lk = link(graph, value)
            depth = 0
            while lk is not None and lk[0] not in seen and depth < MAX_DEPTH:
                seen.add(lk[0])
                depth += 1
                stack_inputs = graph[lk[0]]["inputs"]
                found = _lora_items(stack_inputs) + found
                nxt = None
                for k2, v2 in stack_inputs.items():
                    if "stack" in k2.lower() and link(graph, v2):
                        nxt = link(graph, v2)
                        break
                lk = nxt
    return found


def _lora_items(inputs: dict) -> list[Lora]:
    """Numbered LoRA slots: rgthree Power Lora Loader (``lora_1: {on, lora, strength}``),
    CR LoRA Stack (``switch_1``, ``lora_name_1``, ``model_weight_1``), Efficiency
    LoRA Stacker (``lora_name_1``, ``lora_wt_1``/``model_str_1``), rgthree stack (``lora_01``,
    ``strength_01``)."""
    items = []
    count = to_int(inputs.get("lora_count"))
    for key, value in inputs.items():
        m = STACK_ITEM_RE.match(key)
        if not m:
            continue
        n = m.group(1)
        index = int(n)
        if count is not None and index > count:
            continue
        if isinstance(value, dict):  # Power Lora Loader
            if value.get("on") is False:
                continue
            name = value.get("lora")
            weight = to_float(value.get("strength"))
        else:
            name = value if isinstance(value, str) else None
            switch = next((inputs[k] for k in (f"switch_{n}", f"lora_{n}_on", f"enabled_{n}", f"on_{n}")
                           if k in inputs), None)
            if isinstance(switch, str) and switch.strip().lower() in OFF or switch is False:
                continue
            weight = None
            for prefix in STACK_WEIGHT_PREFIXES:
                for k in (f"{prefix}{n}", f"{prefix}{index}", f"{prefix}{index:02d}"):
                    if k in inputs:
                        weight = to_float(inputs[k])
                        break
                if weight is not None:
                    break
        if isinstance(name, str) and name.strip().lower() not in NONE_NAMES:
            items.append((name, weight))
    return items


def clip_skip(values: Values, encoder: Optional[str]) -> Optional[int]:
    """Clip skip from CLIPSetLastLayer (or a loader's clip_skip) on the encoder's CLIP input."""
    if encoder is None:
        return None
    graph = values.graph
    lk: Optional[Link] = (encoder, 0)
    seen: set[str] = set()
    while lk is not None and lk[0] not in seen and len(seen) < MAX_DEPTH:
        nid = lk[0]
        seen.add(nid)
        inputs = graph[nid]["inputs"]
        for key in CLIP_SKIP_INPUTS:
            if key in inputs:
                layer = to_int(values.number(inputs[key], key))
                if layer is not None and layer != 0:
                    return abs(layer)
        lk = link(graph, inputs.get("clip")) or link(graph, inputs.get("CLIP"))
    return None


def vae(values: Values, value: Any) -> Optional[str]:
    """The VAE file behind a vae input; None for the checkpoint's own VAE."""
    graph = values.graph
    lk = link(graph, value)
    seen: set[str] = set()
    while lk is not None and lk[0] not in seen and len(seen) < MAX_DEPTH:
        nid = lk[0]
        seen.add(nid)
        inputs = graph[nid]["inputs"]
        if "vae_name" in inputs:
            name = values.string(inputs["vae_name"], "vae_name")
            return name if name and name.strip().lower() not in NONE_NAMES else None
        if any(key in inputs for key in LOADER_NAMES):
            return None  # the checkpoint's own VAE
        lk = link(graph, inputs.get("vae"))
    return None


def vae_of_output(values: Values, final_sampler: str) -> Optional[str]:
    """The VAE of the decode node between the final sampler and the output."""
    graph = values.graph
    for nid, node in graph.items():
        inputs = node["inputs"]
        if "vae" not in inputs:
            continue
        src = link(graph, inputs.get("samples"))
        if src is not None and src[0] == final_sampler:
            return vae(values, inputs["vae"])
    return None


def upscalers(values: Values) -> tuple[str, ...]:
    """The upscale models a graph loads, in graph order."""
    names: list[str] = []
    for nid, node in values.graph.items():
        if "upscale" in node["class_type"].lower() and "model_name" in node["inputs"]:
            name = to_text(values.string(node["inputs"]["model_name"], "model_name"))
            if name and name not in names:
                names.append(name)
    return tuple(names)
