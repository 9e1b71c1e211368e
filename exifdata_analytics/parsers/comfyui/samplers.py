"""One sampler node's settings, resolved through links.

KSampler-like nodes hold their settings directly; ``SamplerCustom``/``SamplerCustomAdvanced``
spread them over noise (``RandomNoise``), guider (``CFGGuider``/``BasicGuider``…), sampler
(``KSamplerSelect``, ``SamplerEuler…``) and sigma (``BasicScheduler``, ``KarrasScheduler``…)
nodes; Impact Pack samplers take model and conditioning bundled in a basic pipe. The size is
the one of the node the sampler's latent comes from.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Optional

from ..common import parse_size, to_float, to_int, to_seed, to_text
from .conditioning import Conditioning, join_texts
from .models import Lora, model_and_loras
from .topology import MAX_DEPTH, is_sampler, link
from .values import Values
from .vocabulary import GUIDER_NEGATIVE, GUIDER_POSITIVE, LATENT_INPUTS, LATENT_SOURCE_INPUTS, SEED_INPUTS, SIZE_STRINGS

logger = logging.getLogger(__name__)

# how many sigma nodes (SplitSigmas, FlipSigmas…) are followed up to the scheduler
_MAX_SIGMA_HOPS = 8


@dataclass(frozen=True)
class SamplerPass:
    """One sampler node's settings, resolved through links."""

    node_id: str
    class_type: str
    seed: Optional[int] = None
    steps: Optional[int] = None
    cfg: Optional[float] = None
    sampler: Optional[str] = None
    scheduler: Optional[str] = None
    denoise: Optional[float] = None
    start_step: Optional[int] = None
    end_step: Optional[int] = None
    guidance: Optional[float] = None
    model: Optional[str] = None
    loras: tuple[Lora, ...] = ()
    positive: Optional[str] = None
    negative: Optional[str] = None
    positive_encoder: Optional[str] = None  # node id of the first text encoder found
    width: Optional[int] = None
    height: Optional[int] = None
    latent_source: Optional[str] = None  # class of the node the latent came from
    unread: tuple[str, ...] = ()  # classes of the nodes its missing settings and prompt were linked to

    def as_dict(self) -> dict[str, Any]:
        out = {"node": self.node_id, "class_type": self.class_type}
        for name in ("seed", "steps", "cfg", "sampler", "scheduler", "denoise", "start_step", "end_step",
                     "guidance", "model", "width", "height", "latent_source"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.loras:
            out["loras"] = [{"name": n, "weight": w} for n, w in self.loras]
        return out


def sampler_pass(values: Values, conditioning: Conditioning, nid: str) -> SamplerPass:
    """The settings of sampler ``nid``, wherever in the graph they are held."""
    graph = values.graph
    number, string = values.number, values.string
    inputs = graph[nid]["inputs"]
    seed = steps = cfg = sampler = scheduler = denoise = guidance = None
    seed_value = None
    model_value = inputs.get("model")
    positive_value, negative_value = inputs.get("positive"), inputs.get("negative")

    for key in SEED_INPUTS:
        if key in inputs:
            seed_value = inputs[key]
            seed = to_seed(number(inputs[key], key))
            if seed is not None:
                break
    if "steps" in inputs:
        steps = to_int(number(inputs["steps"], "steps"))
    if "cfg" in inputs:
        cfg = to_float(number(inputs["cfg"], "cfg"))
    if "sampler_name" in inputs:
        sampler = to_text(string(inputs["sampler_name"], "sampler_name"))
    if "scheduler" in inputs:
        scheduler = to_text(string(inputs["scheduler"], "scheduler"))
    if "denoise" in inputs:
        denoise = to_float(number(inputs["denoise"], "denoise"))

    # Impact Pack samplers take model and conditioning bundled in a basic pipe (ToBasicPipe)
    pipe = link(graph, inputs.get("basic_pipe"))
    if pipe is not None:
        p_inputs = graph[pipe[0]]["inputs"]
        model_value = model_value if model_value is not None else p_inputs.get("model")
        positive_value = positive_value if positive_value is not None else p_inputs.get("positive")
        negative_value = negative_value if negative_value is not None else p_inputs.get("negative")

    # efficiency nodes' KSampler SDXL (Eff.): model and both prompts come bundled from the loader
    if link(graph, inputs.get("sdxl_tuple")) is not None:
        bundle = inputs["sdxl_tuple"]
        model_value = model_value if model_value is not None else bundle
        positive_value = positive_value if positive_value is not None else bundle
        negative_value = negative_value if negative_value is not None else bundle

    # SamplerCustom(Advanced): settings live in the nodes feeding noise/guider/sampler/sigmas
    noise = link(graph, inputs.get("noise"))
    if noise is not None and seed is None:
        seed = to_seed(number(graph[noise[0]]["inputs"].get("noise_seed"), "noise_seed"))
    guider = link(graph, inputs.get("guider"))
    if guider is not None:
        g_inputs = graph[guider[0]]["inputs"]
        model_value = g_inputs.get("model", model_value)
        if cfg is None and "cfg" in g_inputs:
            cfg = to_float(number(g_inputs["cfg"], "cfg"))
        positive_value = next((g_inputs[k] for k in GUIDER_POSITIVE if k in g_inputs), None)
        negative_value = next((g_inputs[k] for k in GUIDER_NEGATIVE if k in g_inputs), None)
    picked = link(graph, inputs.get("sampler"))
    if picked is not None and sampler is None:
        sampler = _sampler_name(values, picked[0])
    sigmas = link(graph, inputs.get("sigmas"))
    if sigmas is not None:
        s_sched, s_steps, s_denoise, s_model = _sigmas(values, sigmas[0])
        scheduler = scheduler or s_sched
        steps = steps if steps is not None else s_steps
        denoise = denoise if denoise is not None else s_denoise
        if model_value is None:
            model_value = s_model

    model, loras = model_and_loras(values, model_value)
    positive, encoder, guidance = conditioning.texts(positive_value, "positive")
    negative: Optional[list[str]] = None
    if negative_value is not None:
        negative, neg_encoder, _g = conditioning.texts(negative_value, "negative")
        if conditioning.is_unknown(negative, neg_encoder):
            negative = None
    # only now: tracing the negative may have found the positive's encoder unresolvable
    if conditioning.is_unknown(positive, encoder):
        positive = None
    width, height, source = latent_size(values, inputs)
    missing = [(seed, seed_value), (steps, inputs.get("steps")), (cfg, inputs.get("cfg")),
               (sampler, inputs.get("sampler_name")), (scheduler, inputs.get("scheduler")),
               (denoise, inputs.get("denoise"))]
    unread = {values.unread_class(linked) for found, linked in missing if found is None}
    if positive is None and encoder in conditioning.unresolved:
        unread |= {values.unread_class(v) for v in graph[encoder]["inputs"].values()}
    return SamplerPass(
        node_id=nid, class_type=graph[nid]["class_type"], seed=seed, steps=steps, cfg=cfg, sampler=sampler,
        scheduler=scheduler, denoise=denoise,
        start_step=to_int(number(inputs.get("start_at_step"), "start_at_step")),
        end_step=to_int(number(inputs.get("end_at_step"), "end_at_step")),
        guidance=guidance, model=model, loras=tuple(loras),
        positive=join_texts(positive) if positive is not None else None,
        negative=join_texts(negative) if negative is not None else None,
        positive_encoder=encoder, width=width, height=height, latent_source=source,
        unread=tuple(sorted(c for c in unread if c)),
    )


def _sampler_name(values: Values, nid: str) -> Optional[str]:
    inputs = values.graph[nid]["inputs"]
    if "sampler_name" in inputs:
        return to_text(values.string(inputs["sampler_name"], "sampler_name"))
    return _class_to_name(values.graph[nid]["class_type"], "Sampler")


def _sigmas(values: Values, nid: str, depth: int = 0) -> tuple[Optional[str], Optional[int], Optional[float], Any]:
    """(scheduler, steps, denoise, model input) of a sigma-producing node."""
    if depth > _MAX_SIGMA_HOPS:
        return None, None, None, None
    graph = values.graph
    inputs = graph[nid]["inputs"]
    upstream = link(graph, inputs.get("sigmas"))
    if upstream is not None and "steps" not in inputs:  # SplitSigmas, FlipSigmas…
        return _sigmas(values, upstream[0], depth + 1)
    scheduler = to_text(values.string(inputs["scheduler"], "scheduler")) if "scheduler" in inputs else None
    if scheduler is None:
        scheduler = _class_to_name(graph[nid]["class_type"], "Scheduler", suffix=True)
    return (scheduler, to_int(values.number(inputs.get("steps"), "steps")),
            to_float(values.number(inputs.get("denoise"), "denoise")), inputs.get("model"))


def latent_size(values: Values, inputs: dict) -> tuple[Optional[int], Optional[int], Optional[str]]:
    """Generation size: width/height of the node the sampler's latent comes from (and its class)."""
    graph = values.graph
    value = next((inputs[k] for k in LATENT_INPUTS if k in inputs), None)
    lk = link(graph, value)
    seen: set[str] = set()
    while lk is not None and lk[0] not in seen and len(seen) < MAX_DEPTH:
        nid = lk[0]
        seen.add(nid)
        n_inputs = graph[nid]["inputs"]
        cls = graph[nid]["class_type"]
        for key in SIZE_STRINGS:
            if isinstance(n_inputs.get(key), str):
                w, h = parse_size(n_inputs[key])
                if w and h:
                    return w, h, cls
        for wk, hk in (("width", "height"), ("empty_latent_width", "empty_latent_height"), ("Width", "Height")):
            if wk in n_inputs and hk in n_inputs:
                w = to_int(values.number(n_inputs[wk], wk))
                h = to_int(values.number(n_inputs[hk], hk))
                if w and h and w > 0 and h > 0:
                    return w, h, cls
        if is_sampler(graph, nid) or "pixels" in n_inputs or "encode" in cls.lower():
            return None, None, cls  # img2img or a later pass: the size is not in the graph
        lk = next((link(graph, n_inputs[k]) for k in LATENT_SOURCE_INPUTS if link(graph, n_inputs.get(k))), None)
    return None, None, None


def _class_to_name(cls: str, affix: str, suffix: bool = False) -> Optional[str]:
    """'SamplerEulerAncestral' -> 'euler_ancestral', 'SamplerDPMPP_2M_SDE' -> 'dpmpp_2m_sde',
    'KarrasScheduler' -> 'karras' (the name ComfyUI's own samplers/schedulers use)."""
    name = cls[:-len(affix)] if suffix and cls.endswith(affix) else cls
    if not suffix and name.startswith(affix):
        name = name[len(affix):]
    if not name:
        return None
    words = []
    for part in name.split("_"):
        words += re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+[A-Za-z]*|[A-Z]+", part)
    return "_".join(w.lower() for w in words if w) or None
