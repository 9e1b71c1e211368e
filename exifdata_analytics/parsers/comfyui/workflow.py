"""A UI workflow (``workflow``: ``nodes`` with ``widgets_values``, ``links``) turned into an API graph.

An image that carries only the UI workflow is traced like an API graph after this conversion.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from .subgraphs import expand_subgraphs
from .topology import MAX_DEPTH, Graph, is_id, is_int
from .widgets import CONTROL_VALUES, OLDER_LAYOUTS, WIDGETS

logger = logging.getLogger(__name__)

def is_ui_workflow(doc: Any) -> bool:
    """Whether ``doc`` is a UI workflow: a list of typed nodes."""
    return isinstance(doc, dict) and isinstance(doc.get("nodes"), list) and any(
        isinstance(n, dict) and "type" in n for n in doc["nodes"])


def workflow_to_api(workflow: dict) -> Optional[Graph]:
    """An API-shaped graph from a UI workflow: links become ``[source, slot]`` inputs, widget
    values are named (core nodes by ComfyUI's widget order, other nodes by the widget inputs
    the workflow lists), muted nodes are dropped and bypassed nodes passed through. Subgraphs
    are expanded first (``subgraphs``)."""
    workflow = expand_subgraphs(workflow)
    nodes = [n for n in workflow.get("nodes") or [] if isinstance(n, dict) and "id" in n and "type" in n]
    if not nodes:
        return None
    link_src: dict[Any, tuple[str, int, Any]] = {}
    links = workflow.get("links")
    for lk in links if isinstance(links, list) else ():
        if isinstance(lk, list) and len(lk) >= 5 and is_id(lk[0]):
            link_src[lk[0]] = (str(lk[1]), lk[2] if is_int(lk[2]) else 0, lk[5] if len(lk) > 5 else None)
        elif isinstance(lk, dict) and is_id(lk.get("id")):
            slot = lk.get("origin_slot")
            link_src[lk["id"]] = (str(lk.get("origin_id")), slot if is_int(slot) else 0, lk.get("type"))
    by_id = {str(n["id"]): n for n in nodes}

    def source(link_id: Any, depth: int = 0) -> Optional[list]:
        """The [node, slot] a link comes from, passing through bypassed nodes."""
        src = link_src.get(link_id) if is_id(link_id) else None
        if src is None or depth > MAX_DEPTH:
            return None
        nid, slot, typ = src
        node = by_id.get(nid)
        if node is None or node.get("mode") == 2:
            return None
        if node.get("mode") == 4:  # bypassed: the same-typed input stands in for the output
            node_inputs = node.get("inputs")
            for inp in node_inputs if isinstance(node_inputs, list) else ():
                if isinstance(inp, dict) and inp.get("link") is not None and (typ is None or inp.get("type") == typ):
                    return source(inp["link"], depth + 1)
            return None
        return [nid, slot]

    graph: Graph = {}
    for node in nodes:
        nid = str(node["id"])
        if node.get("mode") in (2, 4):
            continue
        inputs: dict[str, Any] = {}
        widget_inputs = []
        node_inputs = node.get("inputs")
        for inp in node_inputs if isinstance(node_inputs, list) else ():
            if not isinstance(inp, dict) or not isinstance(inp.get("name"), str):
                continue
            if isinstance(inp.get("widget"), dict):
                name = inp["widget"].get("name", inp["name"])
                widget_inputs.append(name if isinstance(name, str) else inp["name"])
            if inp.get("link") is not None:
                src = source(inp["link"])
                if src is not None:
                    inputs[inp["name"]] = src
        values = node.get("widgets_values")
        if isinstance(values, dict):
            for key, value in values.items():
                inputs.setdefault(str(key), value)
        elif isinstance(values, list):
            names = _layout(node["type"], values) if isinstance(node["type"], str) else None
            if names is None:
                plain = [v for v in values if not (isinstance(v, str) and v in CONTROL_VALUES)]
                names = tuple(widget_inputs) if widget_inputs and len(widget_inputs) == len(plain) else ()
                values = plain
            _assign_widgets(inputs, names, values)
        graph[nid] = {"class_type": str(node["type"]), "inputs": inputs}
    return graph or None


def _layout(node_type: str, values: list) -> Optional[tuple[str, ...]]:
    """The widget names of a node type for these values: its current order, or an older one
    whose seed is followed by a control value where the current one's is not."""
    current = WIDGETS.get(node_type)
    if current is None or node_type not in OLDER_LAYOUTS or _seeds_line_up(current, values):
        return current
    return next((older for older in OLDER_LAYOUTS[node_type] if _seeds_line_up(older, values)), current)


def _seeds_line_up(names: tuple[str, ...], values: list) -> bool:
    at = [i for i, name in _positions(names, values) if name.endswith("+")]
    return bool(at) and all(i + 1 < len(values) and _is_control(values[i + 1]) for i in at)


def _is_control(value: Any) -> bool:
    # Efficiency nodes' seed widget leaves its control slot null
    return value is None or (isinstance(value, str) and value in CONTROL_VALUES)


def _positions(names: tuple[str, ...], values: list) -> list[tuple[int, str]]:
    """(index in ``values``, widget name) of each name, skipping control values after seeds."""
    out, i = [], 0
    for name in names:
        if i >= len(values):
            break
        out.append((i, name))
        i += 1
        if name.endswith("+") and i < len(values) and _is_control(values[i]):
            i += 1
    return out


def _assign_widgets(inputs: dict, names: tuple[str, ...], values: list) -> None:
    for i, name in _positions(names, values):
        inputs.setdefault(name.rstrip("+"), values[i])  # a linked input keeps its link
