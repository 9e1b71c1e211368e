"""Stability Matrix (Inference tab): a front end that runs ComfyUI and writes four chunks —
``parameters`` (A1111-style infotext), ``parameters-json`` (its own record: PositivePrompt,
NegativePrompt, Steps, Sampler, CfgScale, Seed, Width, Height, ModelName, ModelHash…),
``smproj`` (the project state) and ``prompt`` (the ComfyUI graph it ran).

Which source wins, field by field:

* prompts: its own record — the text the user typed. The graph holds the prompt *after*
  Stability Matrix's preprocessing (``#`` comments removed, wildcards expanded);
* everything else: the graph, which is what ran. The record's ``Sampler`` is a display label
  merging sampler and scheduler ("Euler Ancestral Karras") and its Width/Height are the output
  size after the upscale module, not the generation size;
* gaps (model hash, …): the record, then the infotext.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Optional

from . import a1111, comfyui
from .base import GenerationParams, Parser, Tags
from .common import NotParsed, iter_json_objects, parse_size, prompt_text, to_float, to_int, to_seed, to_text
from .tags import find_tag

logger = logging.getLogger(__name__)

GENERATOR = "Stability Matrix"


_RECORD_TAGS = ("Parameters-json", "Parameters_json", "ParametersJson")


def _record(tags: Tags) -> Optional[dict]:
    for _key, doc in iter_json_objects(tags, _RECORD_TAGS):
        if any(k in doc for k in ("PositivePrompt", "ModelName", "CfgScale")):
            return doc
    return None


def parse(tags: Tags) -> Optional[GenerationParams]:
    record = _record(tags)
    has_project = find_tag(tags, "Smproj") not in (None, "")
    if record is None and not has_project:
        return None
    own = _params(record) if record is not None else None
    try:
        graph = comfyui.graph_params(tags, generator=GENERATOR)
    except NotParsed as exc:
        logger.debug("Stability Matrix graph not usable: %s", exc)
        graph = None
    infotext = a1111.parse(tags)
    if graph is not None:
        result = graph
        if own is not None and (own.prompt is not None or own.negative_prompt is not None):
            result = dataclasses.replace(
                result,
                prompt=own.prompt if own.prompt is not None else result.prompt,
                negative_prompt=own.negative_prompt if own.negative_prompt is not None else result.negative_prompt)
        result = comfyui.fill_gaps(result, own, "parameters-json")
    elif own is not None:
        result = own
    elif infotext is not None:
        return dataclasses.replace(infotext, generator=GENERATOR)
    else:
        raise NotParsed("Stability Matrix project without generation parameters (PNG:Smproj)")
    result = comfyui.fill_gaps(result, infotext, "infotext")
    return dataclasses.replace(result, generator=GENERATOR)


def _params(record: dict) -> GenerationParams:
    width, height = to_int(record.get("Width")), to_int(record.get("Height"))
    if not (width and height):
        width, height = parse_size(record.get("Size"))
    return GenerationParams(
        generator=GENERATOR,
        prompt=prompt_text(record.get("PositivePrompt")),
        negative_prompt=prompt_text(record.get("NegativePrompt")),
        steps=to_int(record.get("Steps")),
        seed=to_seed(record.get("Seed")),
        sampler=to_text(record.get("Sampler")),
        scheduler=to_text(record.get("Scheduler")),
        cfg_scale=to_float(record.get("CfgScale")),
        width=width or None,
        height=height or None,
        model=to_text(record.get("ModelName")),
        model_hash=to_text(record.get("ModelHash")),
        params=dict(record),
    )


PARSER = Parser("stability_matrix", parse, frozenset(_RECORD_TAGS + ("Smproj",)))
