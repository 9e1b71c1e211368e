"""A traced graph as GenerationParams, and the gap filling from a second source.

Save nodes that also write A1111 infotext (Comfy Image Saver, SaveImageWithMetaData…) can
disagree with the graph — their text is built from the save node's own widgets, which need
not be wired to the sampler — so the graph wins and the other source only fills fields the
graph leaves empty (a model hash only when it names the same model).
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Optional

from ...models import RECIPE_COLUMNS, UNREAD_NODES_KEY
from ...names.samplers import canonical_sampler
from ..base import GenerationParams, Resource, Tags
from ..common import NotParsed, model_stem, to_float, to_int
from .sources import find_graphs
from .topology import Graph
from .trace import Trace, trace
from .widgets import CORE_WIDGETS
from .workflow import workflow_to_api

logger = logging.getLogger(__name__)

GENERATOR = "ComfyUI"


def graph_params(tags: Tags, generator: str = GENERATOR) -> Optional[GenerationParams]:
    """GenerationParams traced from the file's ComfyUI graph; None when there is no graph.
    The API graph is preferred; an image with only the UI workflow is converted to API form.
    Raises NotParsed when a graph is there but yields no sampler (or cannot be read)."""
    source = find_graphs(tags)
    result: Optional[Trace] = None
    used_key = None
    graph: Optional[Graph] = None
    workflow_only = False
    if source.api is not None:
        result, used_key, graph = trace(source.api), source.api_key, source.api
    if result is None and source.workflow is not None:
        converted = workflow_to_api(source.workflow)
        if converted is not None:
            result = trace(converted)
            if result is not None:
                used_key, graph, workflow_only = source.workflow_key, converted, source.api is None
    if result is None:
        if source.api is not None or source.workflow is not None:
            where = ", ".join(k for k in (source.api_key, source.workflow_key) if k)
            raise NotParsed(f"ComfyUI graph without a sampler node ({where})")
        if source.broken:
            raise NotParsed(source.broken)
        return None
    first = result.first
    if all(v is None for v in (first.positive, first.negative, first.steps, first.seed, first.sampler, first.cfg,
                               first.model, first.width)):
        feeding = ", ".join(_feeding_classes(graph or {}, first.node_id)) or f"sampler {first.class_type}"
        raise NotParsed(f"ComfyUI sampler settings come from nodes that do not store their values "
                        f"({used_key}: {feeding})")
    return _params(result, used_key or "", workflow_only, generator)


def _feeding_classes(graph: Graph, node_id: str) -> list[str]:
    """Classes of the not-core nodes up to two links above a node (to name them in an error)."""
    classes: list[str] = []
    frontier = [node_id]
    for _hop in range(2):
        nxt = []
        for nid in frontier:
            for value in (graph.get(nid) or {}).get("inputs", {}).values():
                if isinstance(value, list) and len(value) == 2 and str(value[0]) in graph:
                    src = str(value[0])
                    nxt.append(src)
                    cls = graph[src]["class_type"]
                    if cls not in CORE_WIDGETS and cls not in classes:
                        classes.append(cls)
        frontier = nxt
    return classes[:4]


def _params(result: Trace, key: str, workflow_only: bool, generator: str) -> GenerationParams:
    first = result.first
    resources = []
    for name, weight in first.loras:
        stem = model_stem(name)
        if stem:
            resources.append(Resource(kind="lora", name=stem, weight=weight, source="ComfyUI graph"))
    params: dict[str, Any] = {
        "graph": key,
        "samplers": [p.as_dict() for p in result.chain],
    }
    if workflow_only:
        params["workflow_only"] = True
    if result.other_samplers:
        params["other_samplers"] = [p.as_dict() for p in result.other_samplers]
    if first.model:
        params["Model"] = first.model
    if first.loras:
        params["LoRAs"] = [{"name": n, "weight": w} for n, w in first.loras]
    if result.vae:
        params["VAE"] = result.vae
    if result.clip_skip is not None:
        params["Clip skip"] = result.clip_skip
    if first.guidance is not None:
        params["Guidance"] = first.guidance
    if result.upscalers:
        params["Upscalers"] = list(result.upscalers)
    if result.unread_classes:
        params[UNREAD_NODES_KEY] = list(result.unread_classes)
    if len(result.chain) > 1:
        last = result.chain[-1]
        params["Passes"] = len(result.chain)
        if last.denoise is not None:
            params["Final pass denoise"] = last.denoise
        if last.steps is not None:
            params["Final pass steps"] = last.steps
    return GenerationParams(
        generator=generator, prompt=first.positive, negative_prompt=first.negative,
        steps=first.steps, seed=first.seed, sampler=first.sampler, scheduler=first.scheduler,
        cfg_scale=first.cfg, denoising_strength=first.denoise, width=first.width, height=first.height,
        model=first.model, vae=result.vae, clip_skip=result.clip_skip,
        params=params, resources=tuple(resources),
    )


# ---- filling gaps from another source -------------------------------------------------------------

# every recipe column but the generator (the graph's) and the model hash (taken only for the
# same model, below)
_FILLABLE = tuple(name for name in RECIPE_COLUMNS if name not in ("generator", "model_hash"))


def same_model(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two model names denote the same file ('x.safetensors' == 'models/x')."""
    return bool(a and b) and (model_stem(a) or "").lower() == (model_stem(b) or "").lower()


def fill_gaps(primary: GenerationParams, secondary: Optional[GenerationParams],
              label: str) -> GenerationParams:
    """``primary`` with its empty columns taken from ``secondary``; the secondary's params go
    under ``label``. A model hash is taken only for the same model (or when none is known)."""
    if secondary is None:
        return primary
    changes: dict[str, Any] = {}
    for name in _FILLABLE:
        if getattr(primary, name) in (None, "") and getattr(secondary, name) not in (None, ""):
            changes[name] = getattr(secondary, name)
    model = changes.get("model", primary.model)
    if primary.model_hash is None and secondary.model_hash and (
            model is None or secondary.model is None or same_model(model, secondary.model)):
        changes["model_hash"] = secondary.model_hash
    params = dict(primary.params)
    params[label] = dict(secondary.params)
    changes["params"] = params
    known = {(r.kind, r.name.lower()) for r in primary.resources}
    extra = tuple(r for r in secondary.resources if (r.kind, r.name.lower()) not in known)
    if extra:
        changes["resources"] = primary.resources + extra
    return dataclasses.replace(primary, **changes)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _same_number(a: Any, b: Any) -> bool:
    x, y = to_float(a), to_float(b)
    if x is None or y is None:
        return str(a) == str(b)
    return abs(x - y) <= 1e-6 * max(1.0, abs(x))


def _same_integer(a: Any, b: Any) -> bool:
    """Exactly: a float's tolerance would call seeds near 2**64 equal when they differ."""
    x, y = to_int(a), to_int(b)
    return x == y if x is not None and y is not None else str(a) == str(b)


# what counts as the same value in the graph and in a saver's text (spellings differ: the text
# writes A1111's 'Euler a' for the graph's euler_ancestral, a model without its folder)
_SAME = {
    "prompt": _same_text, "negative_prompt": _same_text,
    "seed": _same_integer, "steps": _same_integer, "width": _same_integer, "height": _same_integer,
    "cfg_scale": _same_number,
    "model": same_model,
    "sampler": lambda a, b: canonical_sampler(a).sampler == canonical_sampler(b).sampler,
}


def disagreeing_fields(graph: GenerationParams, text: Optional[GenerationParams]) -> list[str]:
    """The columns that both the graph and a save node's text give, with different values (some
    savers write seed 0 or an empty prompt, or widgets not wired to the sampler)."""
    if text is None:
        return []
    out = []
    for name, same in _SAME.items():
        a, b = getattr(graph, name), getattr(text, name)
        if a not in (None, "") and b not in (None, "") and not same(a, b):
            out.append(name)
    return out
