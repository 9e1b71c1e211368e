"""Subgraphs of a UI workflow expanded into one flat workflow.

Since ComfyUI 0.3.51 a workflow may hold its node groups as subgraphs: their definitions sit in
``definitions.subgraphs[]`` (``id``, ``nodes``, ``links``, ``inputs``, ``outputs``, ``inputNode``,
``outputNode``), and each use of one is an outer node whose ``type`` is the definition's ``id``.
Inside a definition, links from the input node (id -10) stand for the outer node's inputs and
links to the output node (id -20) for its outputs; a definition may use another (nesting).

The expansion does what ComfyUI does when it queues such a workflow: each inner node becomes a
node of its own, named ``outer:inner`` (``48:52:10`` when nested); a link into a subgraph input
is replaced by the link the outer node receives there (none when that input is unconnected: the
inner node's own widget value then holds, as ``properties.proxyWidgets`` shows it on the outer
node), and a link out of the outer node by the inner link feeding that output. Muted and
bypassed subgraph nodes are left unexpanded for ``workflow`` to drop or pass through. Bounded:
nesting deeper than ``MAX_NESTING`` or more than ``MAX_NODES`` nodes in all ends the expansion.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from .topology import is_id, is_int

logger = logging.getLogger(__name__)

# how deep subgraphs may nest, and how many nodes an expanded workflow may have
MAX_NESTING = 16
MAX_NODES = 20_000
_INPUT_NODE, _OUTPUT_NODE = -10, -20
_MUTED, _BYPASSED = 2, 4

Source = tuple[str, Any, Any]  # (flat node id, output slot, link type)


def has_subgraphs(workflow: dict) -> bool:
    """Whether the workflow uses a subgraph it defines."""
    defs = _definitions(workflow)
    return bool(defs) and any(isinstance(n, dict) and n.get("type") in defs for n in _nodes(workflow))


def expand_subgraphs(workflow: dict) -> dict:
    """``workflow`` with every subgraph node replaced by the nodes of its definition (the
    workflow itself when it uses none). Only ``nodes`` and ``links`` are rebuilt."""
    defs = _definitions(workflow)
    if not defs or not any(isinstance(n, dict) and n.get("type") in defs for n in _nodes(workflow)):
        return workflow
    flat = _Flattener(defs)
    flat.emit(_Scope(workflow, "", None, None))
    expanded = dict(workflow)
    expanded["nodes"] = flat.nodes
    expanded["links"] = flat.links
    expanded.pop("definitions", None)
    return expanded


class _Scope:
    """One graph level: the top workflow, or one use of a definition (``instance`` in ``parent``)."""

    def __init__(self, graph: dict, prefix: str, parent: Optional[_Scope], instance: Optional[dict]):
        self.graph = graph
        self.prefix = prefix
        self.parent = parent
        self.instance = instance
        self.depth = 0 if parent is None else parent.depth + 1
        self.nodes = {_key(n["id"]): n for n in _nodes(graph) if isinstance(n, dict) and is_id(n.get("id"))}
        self.links: dict[Any, tuple[Any, Any, Any, Any]] = {}  # id -> (origin, slot, target, type)
        raw = graph.get("links")
        for lk in raw if isinstance(raw, list) else ():
            if isinstance(lk, list) and len(lk) >= 5 and is_id(lk[0]):
                self.links[_key(lk[0])] = (lk[1], lk[2], (lk[3], lk[4]), lk[5] if len(lk) > 5 else None)
            elif isinstance(lk, dict) and is_id(lk.get("id")):
                self.links[_key(lk["id"])] = (lk.get("origin_id"), lk.get("origin_slot"),
                                              (lk.get("target_id"), lk.get("target_slot")), lk.get("type"))
        self.input_node = _boundary_id(graph.get("inputNode"), _INPUT_NODE)
        self.output_node = _boundary_id(graph.get("outputNode"), _OUTPUT_NODE)
        self.children: dict[str, _Scope] = {}
        self._outputs: Optional[dict[int, Any]] = None

    def output_link(self, slot: Any) -> Any:
        """The inner link that feeds output ``slot`` of this subgraph."""
        if self._outputs is None:
            self._outputs = {}
            for link_id, (_origin, _slot, (target, target_slot), _typ) in self.links.items():
                if _same(target, self.output_node) and is_int(target_slot):
                    self._outputs.setdefault(target_slot, link_id)
        return self._outputs.get(slot) if is_int(slot) else None

    def outer_input_link(self, slot: Any) -> Any:
        """The link the outer node receives at subgraph input ``slot`` (None when unconnected)."""
        declared = self.graph.get("inputs")
        declared = declared if isinstance(declared, list) else []
        outer_inputs = [i for i in (self.instance or {}).get("inputs") or () if isinstance(i, dict)]
        if not is_int(slot) or not 0 <= slot < max(len(declared), len(outer_inputs)):
            return None
        name = declared[slot].get("name") if slot < len(declared) and isinstance(declared[slot], dict) else None
        match = next((i for i in outer_inputs if name is not None and i.get("name") == name), None)
        if match is None and name is None and slot < len(outer_inputs):
            match = outer_inputs[slot]
        return match.get("link") if match is not None else None


class _Flattener:
    def __init__(self, defs: dict[str, dict]):
        self.defs = defs
        self.nodes: list[dict] = []
        self.links: list[list] = []
        self._link_ids: dict[Source, int] = {}

    def expands(self, scope: _Scope, node: dict) -> bool:
        return (node.get("type") in self.defs and node.get("mode") not in (_MUTED, _BYPASSED)
                and scope.depth < MAX_NESTING)

    def child(self, scope: _Scope, node: dict) -> _Scope:
        key = _key(node["id"])
        if key not in scope.children:
            scope.children[key] = _Scope(self.defs[node["type"]], f"{scope.prefix}{key}:", scope, node)
        return scope.children[key]

    def emit(self, scope: _Scope) -> None:
        for key, node in scope.nodes.items():
            if len(self.nodes) >= MAX_NODES:
                return
            if self.expands(scope, node):
                self.emit(self.child(scope, node))
                continue
            copy = dict(node)
            copy["id"] = scope.prefix + key
            inputs = node.get("inputs")
            if isinstance(inputs, list):
                copy["inputs"] = [self._relinked(scope, inp) for inp in inputs]
            self.nodes.append(copy)

    def _relinked(self, scope: _Scope, inp: Any) -> Any:
        if not isinstance(inp, dict) or inp.get("link") is None:
            return inp
        copy = dict(inp)
        src = self.resolve(scope, inp["link"])
        copy["link"] = self._flat_link(src) if src is not None else None
        return copy

    def resolve(self, scope: _Scope, link_id: Any) -> Optional[Source]:
        """The flat node and slot a link of ``scope`` comes from, through subgraph boundaries."""
        for _hop in range(4 * MAX_NESTING):
            src = scope.links.get(_key(link_id)) if is_id(link_id) else None
            if src is None:
                return None
            origin, slot, _target, typ = src
            if _same(origin, scope.input_node):  # from the outer node's input
                if scope.parent is None:
                    return None
                link_id = scope.outer_input_link(slot)
                scope = scope.parent
                continue
            node = scope.nodes.get(_key(origin)) if is_id(origin) else None
            if node is None:
                return None
            if self.expands(scope, node):  # from a subgraph's output
                scope = self.child(scope, node)
                link_id = scope.output_link(slot)
                continue
            return scope.prefix + _key(origin), slot if is_int(slot) else 0, typ
        return None

    def _flat_link(self, src: Source) -> int:
        key = (src[0], src[1], src[2] if isinstance(src[2], (str, int)) else None)
        if key not in self._link_ids:
            link_id = len(self.links) + 1
            self._link_ids[key] = link_id
            self.links.append([link_id, src[0], src[1], None, None, key[2]])
        return self._link_ids[key]


def _definitions(workflow: dict) -> dict[str, dict]:
    defs = workflow.get("definitions")
    subgraphs = defs.get("subgraphs") if isinstance(defs, dict) else None
    return {d["id"]: d for d in subgraphs if isinstance(d, dict) and isinstance(d.get("id"), str)
            and isinstance(d.get("nodes"), list)} if isinstance(subgraphs, list) else {}


def _nodes(graph: dict) -> list:
    nodes = graph.get("nodes")
    return nodes if isinstance(nodes, list) else []


def _boundary_id(node: Any, default: int) -> Any:
    return node["id"] if isinstance(node, dict) and is_id(node.get("id")) else default


def _key(value: Any) -> str:
    return str(value)


def _same(a: Any, b: Any) -> bool:
    return is_id(a) and is_id(b) and str(a) == str(b)
