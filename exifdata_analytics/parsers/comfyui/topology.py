"""The graph itself: links between nodes, what a node is, outputs and the walks up the image path.

An API graph is ``{node_id: {class_type, inputs}}``, an input being a literal or a link
``[source_node_id, output_slot]``. Every walk is bounded: cycles and absurd depths end the
walk, never the run.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Optional

from .vocabulary import FLAG_INPUTS, IMAGE_PATH_FIRST, OFF_IMAGE_PATH, PASS_INPUTS, PREVIEW_RE, SAVE_RE, SWITCHES

logger = logging.getLogger(__name__)

Graph = dict[str, dict]
Link = tuple[str, int]

# how deep any walk through the graph goes before it gives up
MAX_DEPTH = 80
# how many nodes the search for a sampler visits (a graph may have thousands)
_MAX_VISITS = 5000
# how many passes a pipeline may have
_MAX_PASSES = 32


def is_id(value: Any) -> bool:
    """Whether a value can be a node or link id (an int or a string, never a bool)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def api_graph(doc: Any) -> Optional[Graph]:
    """The nodes of an API graph (``{id: {class_type, inputs}}``), or None when ``doc`` is not
    one. Entries that are not nodes (Civitai's ``extra``, …) are left out."""
    if not isinstance(doc, dict):
        return None
    nodes = {}
    for key, node in doc.items():
        if isinstance(node, dict) and isinstance(node.get("class_type"), str):
            inputs = node.get("inputs")
            nodes[str(key)] = {"class_type": node["class_type"], "inputs": inputs if isinstance(inputs, dict) else {}}
    return nodes or None


def resolve_switches(graph: Graph) -> Graph:
    """The graph with every link to a switch node (``SWITCHES``) whose flag is known replaced by
    the branch it selects, so that values, models and prompts are read through it; the graph
    itself when it has no such switch."""
    switches = {nid for nid, node in graph.items() if node["class_type"] in SWITCHES}
    if not switches:
        return graph
    picked: dict[str, Any] = {}
    for nid in switches:
        flag = _flag(graph, graph[nid]["inputs"].get(SWITCHES[graph[nid]["class_type"]][0]))
        if flag is not None:
            branch = graph[nid]["inputs"].get(SWITCHES[graph[nid]["class_type"]][1 if flag else 2])
            if branch is not None:
                picked[nid] = branch
    if not picked:
        return graph
    resolved: Graph = {}
    for nid, node in graph.items():
        inputs = dict(node["inputs"])
        for key, value in node["inputs"].items():
            lk = link(graph, value)
            hops = 0
            while lk is not None and lk[0] in picked and hops < MAX_DEPTH:
                value = picked[lk[0]]
                lk = link(graph, value)
                hops += 1
            inputs[key] = value
        resolved[nid] = {**node, "inputs": inputs}
    return resolved


def _flag(graph: Graph, value: Any) -> Optional[bool]:
    """A boolean literal, or the one a linked primitive holds ('true'/'false' strings too)."""
    for _hop in range(MAX_DEPTH):
        lk = link(graph, value)
        if lk is None:
            break
        inputs = graph[lk[0]]["inputs"]
        value = next((inputs[k] for k in FLAG_INPUTS if k in inputs), None)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def link(graph: Graph, value: Any) -> Optional[Link]:
    """The (node id, output slot) an input value links to, or None for a literal or a dangling link."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int) \
            and not isinstance(value[1], bool) and isinstance(value[0], (str, int)) \
            and not isinstance(value[0], bool) and str(value[0]) in graph:
        return str(value[0]), value[1]
    return None


def is_passthrough(graph: Graph, nid: str) -> bool:
    """Reroute-like nodes: links only, no settings of their own."""
    inputs = graph[nid]["inputs"]
    if len(inputs) != 1:
        return False
    return "reroute" in graph[nid]["class_type"].lower() or link(graph, next(iter(inputs.values()))) is not None


def is_sampler(graph: Graph, nid: str) -> bool:
    """A sampler is told by what it takes: steps or sigmas, conditioning, and a linked model."""
    inputs = graph[nid]["inputs"]
    has_run = "steps" in inputs or "sigmas" in inputs
    # efficiency nodes' SDXL sampler takes its prompts inside the loader's sdxl_tuple
    has_cond = any(k in inputs for k in ("positive", "guider", "basic_pipe", "sdxl_tuple"))
    # a model input tells a sampler from a save node that merely records sampler settings
    has_model = any(link(graph, inputs.get(k)) for k in ("model", "guider", "basic_pipe", "pipe", "sdxl_tuple"))
    return has_run and has_cond and has_model


def outputs(graph: Graph) -> list[str]:
    """The save nodes, else the previews among the sinks, else every sink."""
    consumed = set()
    for nid, node in graph.items():
        for value in node["inputs"].values():
            lk = link(graph, value)
            if lk:
                consumed.add(lk[0])
    sinks = [nid for nid in graph if nid not in consumed]
    saves = [nid for nid in graph if SAVE_RE.search(graph[nid]["class_type"])]  # also savers with outputs
    if saves:
        return saves
    previews = [nid for nid in sinks if PREVIEW_RE.search(graph[nid]["class_type"])]
    return previews or sinks


def upstream_sampler(graph: Graph, start: Iterable[Any], exclude: str = "") -> Optional[str]:
    """The nearest sampler above the given input values, image/latent inputs first."""
    stack = [lk for lk in (link(graph, v) for v in start) if lk is not None]
    stack.reverse()
    seen: set[str] = set()
    while stack and len(seen) < _MAX_VISITS:
        nid, _slot = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        if nid != exclude and is_sampler(graph, nid):
            return nid
        inputs = graph[nid]["inputs"]
        ordered = [inputs[k] for k in IMAGE_PATH_FIRST if k in inputs]
        ordered += [v for k, v in inputs.items() if k not in IMAGE_PATH_FIRST and k not in OFF_IMAGE_PATH]
        nxt = [lk for lk in (link(graph, v) for v in ordered) if lk is not None]
        stack.extend(reversed(nxt))
    return None


def chain_from(graph: Graph, sampler: str) -> list[str]:
    """[sampler, previous pass, …, first pass], following latent/image inputs."""
    chain = [sampler]
    while len(chain) < _MAX_PASSES:
        inputs = graph[chain[-1]]["inputs"]
        latent = [inputs[k] for k in PASS_INPUTS if k in inputs]
        prev = upstream_sampler(graph, latent, exclude=chain[-1])
        if prev is None or prev in chain:
            break
        chain.append(prev)
    return chain
