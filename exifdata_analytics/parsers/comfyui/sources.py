"""Where the graph sits in a file's tags.

Where ComfyUI and its save nodes put the graph:

* PNG text chunks ``prompt`` (API graph) and ``workflow`` (UI graph) -> ``PNG:Prompt``,
  ``PNG:Workflow``;
* animated WebP / JPEG savers: EXIF strings with a ``prompt:`` / ``workflow:`` prefix
  (core SaveAnimatedWEBP: ``Model`` = ``prompt:{…}``, ``Make`` = ``workflow:{…}``; Save Image
  Extended: ``Prompt: {…}`` in ``Make``, ``Workflow: {…}`` in ``ImageDescription``);
* one JSON object ``{"prompt": …, "workflow": …}`` in EXIF ``UserComment`` or a video's
  ``Comment`` (SaveImage+, VideoHelperSuite).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any, Optional

from ..base import Tags
from ..common import clean_text, json_object
from ..tags import iter_tags
from .topology import Graph, api_graph
from .workflow import is_ui_workflow

logger = logging.getLogger(__name__)

# EXIF/XMP strings that ComfyUI savers fill with 'prompt:{…}' / 'workflow:{…}'.
_PREFIXED_TAGS = ("Model", "Make", "ImageDescription", "UserComment", "Software", "Artist", "Copyright",
                  "DocumentName", "XPComment", "Comment", "Description")
_CONTAINER_TAGS = ("UserComment", "Comment", "Parameters", "Description", "ImageDescription")
_PREFIX_RE = re.compile(r"^\s*(prompt|workflow)\s*:\s*(?=[{\[])", re.IGNORECASE)

# every tag name a graph may be found under
GRAPH_TAGS = frozenset(("Prompt", "Workflow") + _PREFIXED_TAGS + _CONTAINER_TAGS)


@dataclasses.dataclass(frozen=True)
class GraphSource:
    """The graph documents found in a file's tags, and where."""

    api: Optional[Graph] = None
    api_key: Optional[str] = None
    workflow: Optional[dict] = None
    workflow_key: Optional[str] = None
    broken: Optional[str] = None  # why a graph-looking value could not be read


def _decode(text: str) -> tuple[Any, Optional[str]]:
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:160]


def find_graphs(tags: Tags) -> GraphSource:
    """Locate ComfyUI's API graph and UI workflow in ``tags`` (no tracing)."""
    api = workflow = None
    api_key = workflow_key = broken = None

    def offer(kind: str, key: str, doc: Any) -> None:
        nonlocal api, api_key, workflow, workflow_key
        if isinstance(doc, str):
            doc = json_object(doc)
        if kind in ("prompt", "any") and api is None:
            graph = api_graph(doc)
            if graph is not None:
                api, api_key = graph, key
                return
        if kind in ("workflow", "any") and workflow is None and is_ui_workflow(doc):
            workflow, workflow_key = doc, key

    for name, kind in (("Prompt", "prompt"), ("Workflow", "workflow")):
        for key, value in iter_tags(tags, name):
            text = clean_text(value)
            if not text or not text.lstrip().startswith("{"):
                continue
            doc, error = _decode(text.strip())
            if doc is None:
                if "class_type" in text or '"nodes"' in text:
                    broken = broken or f"{key} holds a ComfyUI graph that is not valid JSON ({error})"
                continue
            offer(kind, key, doc)
    for name in _PREFIXED_TAGS:
        for key, value in iter_tags(tags, name):
            text = clean_text(value)
            if not text:
                continue
            m = _PREFIX_RE.match(text)
            if m is None:
                continue
            doc, error = _decode(text[m.end():].strip())
            if doc is None:
                broken = broken or f"{key} holds a ComfyUI {m.group(1).lower()} that is not valid JSON ({error})"
                continue
            offer(m.group(1).lower(), key, doc)
    if api is None or workflow is None:
        for name in _CONTAINER_TAGS:
            for key, value in iter_tags(tags, name):
                doc = json_object(clean_text(value))
                if doc is None:
                    continue
                if not ("prompt" in doc or "workflow" in doc):
                    offer("any", key, doc)  # the graph itself, unwrapped
                    continue
                if "prompt" in doc:
                    offer("prompt", key, doc["prompt"])
                if "workflow" in doc:
                    offer("workflow", key, doc["workflow"])
    return GraphSource(api, api_key, workflow, workflow_key, broken)
