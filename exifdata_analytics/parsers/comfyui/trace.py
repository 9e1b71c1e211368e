"""Tracing a ComfyUI API graph from its samplers to the values that made the image.

Neither of the graphs ComfyUI stores holds "the parameters"; they have to be read off the graph:

1. **Which samplers made the saved image.** From each save node (else each output node) walk
   up the image/latent inputs to the nearest sampler, then from sampler to sampler along their
   latent inputs (a hires pass's latent comes from the first pass, through upscale nodes). The
   longest such chain is the image's pipeline; its most upstream sampler is the *first pass*,
   which fills the columns. Every sampler in the graph goes to params.
2. **Each sampler's settings**, with values that may themselves be links (``samplers``,
   ``values``), its prompts (``conditioning``), model and LoRAs (``models``).
3. **Clip skip** on the first pass's text encoder, the **VAE** of the output's decode node, and
   the upscale models the graph loads.

Everything is pure and bounded: cycles and absurd depths end the walk, never the run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from . import models, topology
from .conditioning import Conditioning
from .samplers import SamplerPass, sampler_pass
from .topology import Graph
from .values import Values

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trace:
    """What a graph says about the image: the pipeline (first pass first) and the rest."""

    chain: tuple[SamplerPass, ...]  # the output's samplers, first pass first
    other_samplers: tuple[SamplerPass, ...] = ()
    vae: Optional[str] = None
    clip_skip: Optional[int] = None
    upscalers: tuple[str, ...] = ()
    output_node: Optional[str] = None

    @property
    def unread_classes(self) -> tuple[str, ...]:
        """Classes of the nodes the output's samplers' missing values were linked to."""
        return tuple(sorted({c for p in self.chain for c in p.unread}))

    @property
    def first(self) -> SamplerPass:
        return self.chain[0]


class _Tracer:
    """One graph and its readers; values and conditioning are memoised for the whole graph, so
    the samplers sharing a prompt or a primitive read it once."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.values = Values(graph)
        self.conditioning = Conditioning(self.values)

    def samplers(self) -> list[str]:
        return [nid for nid in self.graph if topology.is_sampler(self.graph, nid)]

    def pipelines(self, samplers: list[str]) -> list[tuple[list[str], Optional[str]]]:
        """(chain from final pass to first pass, output node) for each output that reaches a sampler,
        else the chain above every sampler (with no output)."""
        chains: list[tuple[list[str], Optional[str]]] = []
        for out in topology.outputs(self.graph):
            final = topology.upstream_sampler(self.graph, self.graph[out]["inputs"].values())
            if final is not None:
                chains.append((topology.chain_from(self.graph, final), out))
        if not chains:  # no output reaches a sampler: the longest sampler-to-sampler chain
            chains = [(topology.chain_from(self.graph, s), None) for s in samplers]
        return chains

    def sampler_pass(self, nid: str) -> SamplerPass:
        return sampler_pass(self.values, self.conditioning, nid)

    def vae_of_output(self, final_sampler: str) -> Optional[str]:
        return models.vae_of_output(self.values, final_sampler)

    def clip_skip(self, encoder: Optional[str]) -> Optional[int]:
        return models.clip_skip(self.values, encoder)

    def upscalers(self) -> tuple[str, ...]:
        return models.upscalers(self.values)


def trace(graph: Graph) -> Optional[Trace]:
    """The generation recipe of an API graph, or None when it has no sampler."""
    graph = topology.resolve_switches(graph)
    t = _Tracer(graph)
    samplers = t.samplers()
    if not samplers:
        return None
    chains = t.pipelines(samplers)
    order = {nid: i for i, nid in enumerate(graph)}
    chains.sort(key=lambda c: (-len(c[0]), order.get(c[0][-1], 0)))
    best, output = chains[0]
    passes = {nid: t.sampler_pass(nid) for nid in samplers}
    chain = tuple(passes[nid] for nid in reversed(best))  # first pass first
    others = tuple(passes[nid] for nid in samplers if nid not in best)
    upscalers = t.upscalers()
    return Trace(
        chain=chain, other_samplers=others,
        vae=t.vae_of_output(best[0]),
        clip_skip=t.clip_skip(chain[0].positive_encoder),
        upscalers=upscalers, output_node=output,
    )
