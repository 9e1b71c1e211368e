"""ComfyUI: the generation recipe read off the graph embedded in the image.

ComfyUI stores two graphs in an image: the API graph (``prompt``: ``{node_id: {class_type,
inputs}}``) and the UI workflow (``workflow``: ``nodes`` with ``widgets_values``, ``links``).
One module per job:

* ``sources``: where the graphs sit in a file's tags;
* ``workflow``: a UI workflow converted to an API graph, after ``subgraphs`` expanded the
  subgraphs it defines (``definitions.subgraphs[]``, ComfyUI 0.3.51+);
* ``trace``: the samplers that made the image and their settings, composed of ``topology``
  (links, outputs, walks up the image path), ``values`` (numbers and strings through links),
  ``conditioning`` (prompt text), ``models`` (checkpoint, LoRAs, VAE, clip skip) and
  ``samplers`` (one pass's settings), over the input names of ``vocabulary``;
* ``params``: the trace as GenerationParams, and gaps filled from a second source.

Other parsers of ComfyUI-based apps (SwarmUI, Tensor.Art, Stability Matrix) use
``graph_params`` and ``fill_gaps`` from here.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Optional

from .. import a1111
from ..base import GenerationParams, Parser, Tags
from ...models import SAVER_TEXT_DIFFERS_KEY
from .params import GENERATOR, disagreeing_fields, fill_gaps, graph_params, same_model
from .sources import GRAPH_TAGS, GraphSource, find_graphs
from .trace import Trace, trace
from .workflow import workflow_to_api

logger = logging.getLogger(__name__)

__all__ = ["GENERATOR", "PARSER", "GraphSource", "Trace", "fill_gaps", "find_graphs", "graph_params", "parse",
           "same_model", "trace", "workflow_to_api"]


def parse(tags: Tags) -> Optional[GenerationParams]:
    params = graph_params(tags)
    if params is None:
        return None
    text = a1111.parse(tags)
    merged = fill_gaps(params, text, "infotext")
    differs = disagreeing_fields(params, text)
    if differs:  # the graph's values stand; coverage counts these files
        merged = dataclasses.replace(merged, params={**merged.params, SAVER_TEXT_DIFFERS_KEY: differs})
    return merged


PARSER = Parser("comfyui", parse, GRAPH_TAGS)
