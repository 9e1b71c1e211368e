"""Tracing a ComfyUI graph from its samplers to the values that made the image.

ComfyUI stores two graphs in an image: the API graph (``prompt``: ``{node_id: {class_type,
inputs}}``, an input being a literal or a link ``[source_node_id, output_slot]``) and the UI
workflow (``workflow``: ``nodes`` with ``widgets_values``, ``links``). Neither holds "the
parameters"; they have to be read off the graph:

1. **Which samplers made the saved image.** From each save node (else each output node)
   walk up the image/latent inputs to the nearest sampler, then from sampler to sampler
   along their latent inputs (a hires pass's latent comes from the first pass, through
   upscale nodes). The longest such chain is the image's pipeline; its most upstream sampler
   is the *first pass*, which fills the columns. Every sampler in the graph goes to params.
2. **Each sampler's settings**, with values that may themselves be links (a seed from a
   primitive node, steps from a settings node…): KSampler-like nodes hold them directly;
   ``SamplerCustom``/``SamplerCustomAdvanced`` spread them over noise (``RandomNoise``),
   guider (``CFGGuider``/``BasicGuider``…), sampler (``KSamplerSelect``, ``SamplerEuler…``)
   and sigma (``BasicScheduler``, ``KarrasScheduler``…) nodes.
3. **Prompts**: from the sampler's positive/negative conditioning back through conditioning
   nodes (combine, concat, set-area, ControlNet, guidance…) to text encoders (``text``, SDXL
   ``text_g``/``text_l``, Flux ``clip_l``/``t5xxl``…), whose text may come from primitive,
   string, wildcard or concatenation nodes.
4. **Model and LoRAs**: up the sampler's model input through LoRA loaders (core,
   rgthree Power Lora Loader, LoRA stacks) and model patches to the checkpoint/UNet loader.
   **Clip skip**: ``CLIPSetLastLayer`` on the text encoder's CLIP input. **VAE**: the loader
   feeding the decode node of the output. **Size**: the first pass's latent source.

Node classes are recognised by what they take (input names) wherever possible, so custom
nodes that follow ComfyUI's naming conventions are understood without a table entry.
Everything here is pure and bounded: cycles and absurd depths end the walk, never the run.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .common import parse_size, to_float, to_int, to_seed, to_text

logger = logging.getLogger(__name__)

Graph = dict[str, dict]

_MAX_DEPTH = 80
# Texts built by concatenation nodes are cut here: a graph of nodes that each join their input
# twice would otherwise grow a text exponentially.
_MAX_TEXT = 100_000

# ---- vocabulary of input names -----------------------------------------------------------------

_IMAGE_PATH_FIRST = ("images", "image", "IMAGE", "samples", "latent_image", "latent", "pixels", "samples_to",
                     "LATENT")
_TEXT_INPUTS = ("populated_text", "text", "Text", "TEXT", "text_g", "text_l", "clip_l", "clip_g", "t5xxl",
                "prompt", "Prompt", "string", "String", "STRING", "value", "wildcard_text", "text_a",
                "bert", "mt5xl", "llama", "result", "output")
_POLARITY_TEXT = {
    "positive": ("positive", "text_positive", "positive_prompt", "prompt_positive", "pos", "positive_text"),
    "negative": ("negative", "text_negative", "negative_prompt", "prompt_negative", "neg", "negative_text"),
}
_CONDITIONING_INPUTS = ("conditioning", "conditioning_1", "conditioning_2", "conditioning_to", "conditioning_from",
                        "conditioning_a", "conditioning_b", "cond", "conditioning1", "conditioning2", "cond1",
                        "cond2", "base_conditioning")
_NOT_TEXT = frozenset({"filename_prefix", "filename", "path", "ckpt_name", "unet_name", "vae_name", "lora_name",
                       "model_name", "control_net_name", "sampler_name", "scheduler", "upscale_method", "crop",
                       "weight_dtype", "type", "mode", "delimiter", "separator", "format", "extension",
                       "file_type", "output_ext", "image", "config_name", "clip_name", "clip_name1",
                       "clip_name2", "device", "seed_mode", "add_noise", "return_with_leftover_noise",
                       "token_normalization", "weight_interpretation", "dimensions", "resolution",
                       "aspect_ratio", "style", "title", "time_format", "method"})
_DELIMITER_INPUTS = ("delimiter", "separator", "sep", "Delimiter", "join_with", "linebreak_addition")
_MODEL_INPUTS = ("model", "MODEL", "model1", "base_model", "unet", "model_a")
_LOADER_NAMES = ("ckpt_name", "unet_name", "base_ckpt_name", "gguf_name", "model_path", "ckpt", "checkpoint",
                 "model_file")
_LORA_WEIGHTS = ("strength_model", "lora_model_strength", "model_strength", "strength", "model_weight",
                 "weight", "lora_wt", "model_str", "lora_strength")
_SEED_INPUTS = ("seed", "noise_seed", "seed_value", "Seed")
_SIZE_STRINGS = ("dimensions", "resolution", "aspect_ratio", "size", "preset", "dimension")

_SAVE_RE = re.compile(r"save|image saver|imagesaver", re.IGNORECASE)
_PREVIEW_RE = re.compile(r"preview", re.IGNORECASE)
_CONCAT_RE = re.compile(r"concat|join|combine|merge|append", re.IGNORECASE)
_PART_RE = re.compile(r"^(?:text|string|prompt)_?(?:[a-d]|\d{1,2})$", re.IGNORECASE)
_STACK_ITEM_RE = re.compile(r"^lora_?(?:name_?)?0*(\d+)$", re.IGNORECASE)
_OFF = frozenset({"off", "false", "disabled", "disable", "no", "0"})
_NONE_NAMES = frozenset({"none", "", "baked vae", "automatic", "default", "null"})


# ---- results -----------------------------------------------------------------------------------

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
    loras: tuple[tuple[str, Optional[float]], ...] = ()
    positive: Optional[str] = None
    negative: Optional[str] = None
    positive_encoder: Optional[str] = None  # node id of the first text encoder found
    width: Optional[int] = None
    height: Optional[int] = None
    latent_source: Optional[str] = None  # class of the node the latent came from

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
    def first(self) -> SamplerPass:
        return self.chain[0]


# ---- graph recognition -------------------------------------------------------------------------

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


def is_ui_workflow(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("nodes"), list) and any(
        isinstance(n, dict) and "type" in n for n in doc["nodes"])


# ---- the tracer -------------------------------------------------------------------------------

class _Tracer:
    def __init__(self, graph: Graph):
        self.g = graph
        self._cond_cache: dict[tuple[str, int, str], tuple[list[str], Optional[str], Optional[float]]] = {}
        # memo of linked values: a DAG of concatenation nodes must not be walked once per path
        self._memo: dict[tuple, Any] = {}
        # encoders whose text comes from a node we cannot evaluate: their prompt is unknown, not ''
        self._unresolved: set[str] = set()

    # -- primitives ---------------------------------------------------------------------------

    def link(self, value: Any) -> Optional[tuple[str, int]]:
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int) \
                and not isinstance(value[1], bool) and isinstance(value[0], (str, int)) \
                and not isinstance(value[0], bool) and str(value[0]) in self.g:
            return str(value[0]), value[1]
        return None

    def cls(self, nid: str) -> str:
        return self.g[nid]["class_type"]

    def inputs(self, nid: str) -> dict:
        return self.g[nid]["inputs"]

    def _is_passthrough(self, nid: str) -> bool:
        """Reroute-like nodes: links only, no settings of their own."""
        inputs = self.inputs(nid)
        if len(inputs) != 1:
            return False
        return "reroute" in self.cls(nid).lower() or self.link(next(iter(inputs.values()))) is not None

    # -- scalar values through links -------------------------------------------------------------

    def number(self, value: Any, hint: str = "", depth: int = 0) -> Any:
        """A literal number, or the number a linked primitive/settings node holds."""
        if depth > _MAX_DEPTH:
            return None
        lk = self.link(value)
        if lk is None:
            if isinstance(value, dict):  # some nodes wrap values: {"value": 7}
                value = value.get("value", value.get("content"))
            return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
        key = ("n", lk, hint)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None
        result = self._linked_number(lk, hint, depth)
        self._memo[key] = result
        return result

    def _linked_number(self, lk: tuple[str, int], hint: str, depth: int) -> Any:
        nid, _slot = lk
        inputs = self.inputs(nid)
        if self._is_passthrough(nid):
            return self.number(next(iter(inputs.values())), hint, depth + 1)
        names = [hint] if hint else []
        if hint in _SEED_INPUTS:
            names += list(_SEED_INPUTS)
        names += ["value", "Value", "int", "INT", "float", "FLOAT", "number", "Number"]
        for name in names:
            if name in inputs:
                result = self.number(inputs[name], hint, depth + 1)
                if result is not None:
                    return result
        if len(inputs) == 1:  # a constant node with an unusual input name
            only = next(iter(inputs.values()))
            if isinstance(only, (int, float)) and not isinstance(only, bool):
                return only
        return None

    def string(self, value: Any, hint: str = "", polarity: str = "", depth: int = 0) -> Optional[str]:
        """A literal string, or the text a linked text/primitive/concatenation node produces."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, dict):  # pysssss loaders: {"content": "name", "image": …}
            inner = value.get("content", value.get("value"))
            return inner if isinstance(inner, str) else None
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "\n".join(value)  # ShowText keeps its text as a list of strings
        lk = self.link(value)
        if lk is None:
            return None
        key = ("s", lk, hint, polarity)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a cycle back to here reads None
        result = self._linked_string(lk, hint, polarity, depth)
        self._memo[key] = result
        return result

    def _linked_string(self, lk: tuple[str, int], hint: str, polarity: str, depth: int) -> Optional[str]:
        nid, slot = lk
        inputs = self.inputs(nid)
        if self._is_passthrough(nid):
            return self.string(next(iter(inputs.values())), hint, polarity, depth + 1)
        parts = sum(1 for k in inputs if _PART_RE.match(k))
        if (_CONCAT_RE.search(self.cls(nid)) and "conditioning" not in self.cls(nid).lower()) or parts >= 2:
            joined = self._concatenation(nid, depth)
            if joined is not None:
                return joined
        if hint:
            # a setting (sampler_name, ckpt_name…): the same-named input of a settings node, or a
            # primitive's value, never some other text of that node
            for name in (hint, "value", "Value", "string", "String", "STRING"):
                if name in inputs:
                    result = self.string(inputs[name], hint if name == hint else "", "", depth + 1)
                    if result is not None:
                        return result
            return None
        names: list[str] = []
        if polarity:
            names += list(_POLARITY_TEXT[polarity])
        elif slot in (0, 1) and "text_positive" in inputs and "text_negative" in inputs:
            names.append("text_positive" if slot == 0 else "text_negative")
        names += list(_TEXT_INPUTS)
        for name in names:
            if name in inputs:
                result = self.string(inputs[name], "", polarity, depth + 1)
                if result is not None:
                    return result
        # a text node with an unusual input name: its only text input
        candidates = [v for k, v in inputs.items() if isinstance(v, str) and k not in _NOT_TEXT and v.strip()]
        return candidates[0] if len(candidates) == 1 else None

    def _concatenation(self, nid: str, depth: int) -> Optional[str]:
        inputs = self.inputs(nid)
        delimiter = ""
        for name in _DELIMITER_INPUTS:
            if isinstance(inputs.get(name), str):
                delimiter = inputs[name].replace("\\n", "\n")
                break
        parts = []
        named_parts = [k for k in inputs if _PART_RE.match(k)]
        for name, value in inputs.items():
            if named_parts and name not in named_parts:
                continue  # text_a/text_b…: only those are joined, the rest are options
            if name in _DELIMITER_INPUTS or name in _NOT_TEXT or isinstance(value, (bool, int, float)):
                continue
            text = self.string(value, "", "", depth + 1)
            if text:
                parts.append(text[:_MAX_TEXT])
        return delimiter.join(parts)[:_MAX_TEXT] if parts else None

    # -- conditioning to texts ---------------------------------------------------------------------

    def conditioning(self, value: Any, polarity: str, depth: int = 0,
                     seen: Optional[set] = None) -> tuple[list[str], Optional[str], Optional[float]]:
        """(texts, first encoder node id, Flux guidance) behind a conditioning input."""
        lk = self.link(value)
        if lk is None or depth > _MAX_DEPTH:
            return [], None, None
        key = (lk[0], lk[1], polarity)
        if key in self._cond_cache:
            return self._cond_cache[key]
        seen = set() if seen is None else seen
        if key in seen:
            return [], None, None
        seen.add(key)
        result = self._conditioning_node(lk[0], lk[1], polarity, depth, seen)
        self._cond_cache[key] = result
        return result

    def _conditioning_node(self, nid: str, slot: int, polarity: str, depth: int,
                           seen: set) -> tuple[list[str], Optional[str], Optional[float]]:
        cls = self.cls(nid)
        inputs = self.inputs(nid)
        if "zeroout" in cls.lower().replace("_", ""):
            return [], nid, None  # deliberately empty (Flux negatives): '' rather than unknown
        guidance = to_float(self.number(inputs.get("guidance"), "guidance")) if "guidance" in inputs else None

        # a text encoder: text-like inputs that hold or link to text
        texts: list[str] = []
        text_keys = [name for name in _TEXT_INPUTS if name in inputs and name != "value"]
        for name in text_keys:
            text = self.string(inputs[name], "", polarity, depth + 1)
            if text is not None:
                texts.append(text)
        polar_value = None
        for name in _POLARITY_TEXT[polarity] if polarity else ():
            if name in inputs:
                polar_value = inputs[name]
                break
        if polar_value is not None and not texts:
            if isinstance(polar_value, str):
                texts.append(polar_value)
            else:
                plk = self.link(polar_value)
                if plk is not None and self._produces_conditioning(plk[0]):
                    sub, enc, g = self.conditioning(polar_value, polarity, depth + 1, seen)
                    return sub, enc, guidance if guidance is not None else g
                text = self.string(polar_value, "", polarity, depth + 1)
                if text is not None:
                    texts.append(text)
        if texts or text_keys:  # an encoder, even when its text comes from an unknown node
            if not texts and any(self.link(inputs[k]) for k in text_keys):
                self._unresolved.add(nid)
            return _dedupe(texts), nid, guidance

        # a conditioning node: follow its conditioning inputs, in order
        follow = [inputs[name] for name in _CONDITIONING_INPUTS if name in inputs]
        if not follow:
            follow = [v for k, v in inputs.items() if self.link(v) and self._produces_conditioning(self.link(v)[0])]
        collected: list[str] = []
        encoder = None
        for value in follow:
            sub, enc, g = self.conditioning(value, polarity, depth + 1, seen)
            collected += sub
            encoder = encoder or enc
            guidance = guidance if guidance is not None else g
        return _dedupe(collected), encoder, guidance

    def _produces_conditioning(self, nid: str) -> bool:
        cls = self.cls(nid).lower()
        if any(word in cls for word in ("conditioning", "textencode", "text encode", "controlnet", "guidance",
                                        "unclip", "stylemodel", "pix2pix", "inpaintmodel", "cliptext",
                                        "encode", "cond")):
            return True
        inputs = self.inputs(nid)
        return "clip" in inputs or any(name in inputs for name in _CONDITIONING_INPUTS)

    # -- model, LoRAs, clip skip, VAE ---------------------------------------------------------------

    def model(self, value: Any) -> tuple[Optional[str], list[tuple[str, Optional[float]]]]:
        """(checkpoint/UNet name, LoRAs) behind a model input."""
        loras: list[tuple[str, Optional[float]]] = []
        seen: set[str] = set()
        lk = self.link(value)
        name = None
        depth = 0
        while lk is not None and lk[0] not in seen and depth < _MAX_DEPTH:
            nid = lk[0]
            seen.add(nid)
            depth += 1
            inputs = self.inputs(nid)
            loras = self._loras_of(nid, seen) + loras  # walking up: earlier loaders go first
            for key in _LOADER_NAMES:
                if key in inputs:
                    name = self.string(inputs[key], key)
                    if name:
                        break
            if name:
                break
            nxt = None
            for key in _MODEL_INPUTS:
                nxt = self.link(inputs.get(key))
                if nxt:
                    break
            if nxt is None and self._is_passthrough(nid):
                nxt = self.link(next(iter(inputs.values())))
            lk = nxt
        return name, loras

    def _loras_of(self, nid: str, seen: set) -> list[tuple[str, Optional[float]]]:
        inputs = self.inputs(nid)
        found: list[tuple[str, Optional[float]]] = []
        if "lora_name" in inputs:
            name = self.string(inputs["lora_name"], "lora_name")
            if name and name.strip().lower() not in _NONE_NAMES:
                weight = None
                for key in _LORA_WEIGHTS:
                    if key in inputs:
                        weight = to_float(self.number(inputs[key], key))
                        break
                found.append((name, weight))
        found += self._lora_items(inputs)
        # stacks feeding this node (CR Apply LoRA Stack, Efficient Loader…), possibly chained
        for key, value in inputs.items():
            if "stack" in key.lower():
                lk = self.link(value)
                depth = 0
                while lk is not None and lk[0] not in seen and depth < _MAX_DEPTH:
                    seen.add(lk[0])
                    depth += 1
                    stack_inputs = self.inputs(lk[0])
                    found = self._lora_items(stack_inputs) + found
                    nxt = None
                    for k2, v2 in stack_inputs.items():
                        if "stack" in k2.lower() and self.link(v2):
                            nxt = self.link(v2)
                            break
                    lk = nxt
        return found

    def _lora_items(self, inputs: dict) -> list[tuple[str, Optional[float]]]:
        """Numbered LoRA slots: rgthree Power Lora Loader (``lora_1: {on, lora, strength}``),
        CR LoRA Stack (``switch_1``, ``lora_name_1``, ``model_weight_1``), Efficiency
        LoRA Stacker (``lora_name_1``, ``lora_wt_1``/``model_str_1``), rgthree stack (``lora_01``,
        ``strength_01``)."""
        items = []
        count = to_int(inputs.get("lora_count"))
        for key, value in inputs.items():
            m = _STACK_ITEM_RE.match(key)
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
                if isinstance(switch, str) and switch.strip().lower() in _OFF or switch is False:
                    continue
                weight = None
                for prefix in ("model_weight_", "lora_wt_", "model_str_", "strength_", "lora_strength_",
                               "weight_"):
                    for k in (f"{prefix}{n}", f"{prefix}{index}", f"{prefix}{index:02d}"):
                        if k in inputs:
                            weight = to_float(inputs[k])
                            break
                    if weight is not None:
                        break
            if isinstance(name, str) and name.strip().lower() not in _NONE_NAMES:
                items.append((name, weight))
        return items

    def clip_skip(self, encoder: Optional[str]) -> Optional[int]:
        """Clip skip from CLIPSetLastLayer (or a loader's clip_skip) on the encoder's CLIP input."""
        if encoder is None:
            return None
        lk: Optional[tuple[str, int]] = (encoder, 0)
        seen: set[str] = set()
        while lk is not None and lk[0] not in seen and len(seen) < _MAX_DEPTH:
            nid = lk[0]
            seen.add(nid)
            inputs = self.inputs(nid)
            for key in ("stop_at_clip_layer", "clip_skip"):
                if key in inputs:
                    layer = to_int(self.number(inputs[key], key))
                    if layer is not None and layer != 0:
                        return abs(layer)
            lk = self.link(inputs.get("clip")) or self.link(inputs.get("CLIP"))
        return None

    def vae(self, value: Any) -> Optional[str]:
        lk = self.link(value)
        seen: set[str] = set()
        while lk is not None and lk[0] not in seen and len(seen) < _MAX_DEPTH:
            nid = lk[0]
            seen.add(nid)
            inputs = self.inputs(nid)
            if "vae_name" in inputs:
                name = self.string(inputs["vae_name"], "vae_name")
                return name if name and name.strip().lower() not in _NONE_NAMES else None
            if any(key in inputs for key in _LOADER_NAMES):
                return None  # the checkpoint's own VAE
            lk = self.link(inputs.get("vae"))
        return None

    # -- samplers ----------------------------------------------------------------------------------

    def is_sampler(self, nid: str) -> bool:
        inputs = self.inputs(nid)
        has_run = "steps" in inputs or "sigmas" in inputs
        has_cond = "positive" in inputs or "guider" in inputs or "basic_pipe" in inputs
        # a model input tells a sampler from a save node that merely records sampler settings
        has_model = any(self.link(inputs.get(k)) for k in ("model", "guider", "basic_pipe", "pipe", "sdxl_tuple"))
        return has_run and has_cond and has_model

    def sampler_pass(self, nid: str) -> SamplerPass:
        inputs = self.inputs(nid)
        seed = steps = cfg = sampler = scheduler = denoise = guidance = None
        model_value = inputs.get("model")
        positive_value, negative_value = inputs.get("positive"), inputs.get("negative")

        for key in _SEED_INPUTS:
            if key in inputs:
                seed = to_seed(self.number(inputs[key], key))
                if seed is not None:
                    break
        if "steps" in inputs:
            steps = to_int(self.number(inputs["steps"], "steps"))
        if "cfg" in inputs:
            cfg = to_float(self.number(inputs["cfg"], "cfg"))
        if "sampler_name" in inputs:
            sampler = to_text(self.string(inputs["sampler_name"], "sampler_name"))
        if "scheduler" in inputs:
            scheduler = to_text(self.string(inputs["scheduler"], "scheduler"))
        if "denoise" in inputs:
            denoise = to_float(self.number(inputs["denoise"], "denoise"))

        # Impact Pack samplers take model and conditioning bundled in a basic pipe (ToBasicPipe)
        pipe = self.link(inputs.get("basic_pipe"))
        if pipe is not None:
            p_inputs = self.inputs(pipe[0])
            model_value = model_value if model_value is not None else p_inputs.get("model")
            positive_value = positive_value if positive_value is not None else p_inputs.get("positive")
            negative_value = negative_value if negative_value is not None else p_inputs.get("negative")

        # SamplerCustom(Advanced): settings live in the nodes feeding noise/guider/sampler/sigmas
        noise = self.link(inputs.get("noise"))
        if noise is not None and seed is None:
            seed = to_seed(self.number(self.inputs(noise[0]).get("noise_seed"), "noise_seed"))
        guider = self.link(inputs.get("guider"))
        if guider is not None:
            g_inputs = self.inputs(guider[0])
            model_value = g_inputs.get("model", model_value)
            if cfg is None and "cfg" in g_inputs:
                cfg = to_float(self.number(g_inputs["cfg"], "cfg"))
            positive_value = g_inputs.get("positive", g_inputs.get("conditioning", g_inputs.get("cond1")))
            negative_value = g_inputs.get("negative")
        picked = self.link(inputs.get("sampler"))
        if picked is not None and sampler is None:
            sampler = self._sampler_name(picked[0])
        sigmas = self.link(inputs.get("sigmas"))
        if sigmas is not None:
            s_sched, s_steps, s_denoise, s_model = self._sigmas(sigmas[0])
            scheduler = scheduler or s_sched
            steps = steps if steps is not None else s_steps
            denoise = denoise if denoise is not None else s_denoise
            if model_value is None:
                model_value = s_model

        model, loras = self.model(model_value)
        positive, encoder, guidance = self.conditioning(positive_value, "positive")
        negative: Optional[list[str]] = None
        if negative_value is not None:
            negative, neg_encoder, _g = self.conditioning(negative_value, "negative")
            if not negative and (neg_encoder in self._unresolved or neg_encoder is None):
                negative = None
        if not positive and (encoder in self._unresolved or encoder is None):
            positive = None
        width, height, source = self.latent_size(inputs)
        return SamplerPass(
            node_id=nid, class_type=self.cls(nid), seed=seed, steps=steps, cfg=cfg, sampler=sampler,
            scheduler=scheduler, denoise=denoise,
            start_step=to_int(self.number(inputs.get("start_at_step"), "start_at_step")),
            end_step=to_int(self.number(inputs.get("end_at_step"), "end_at_step")),
            guidance=guidance, model=model, loras=tuple(loras),
            positive=_join(positive) if positive is not None else None,
            negative=_join(negative) if negative is not None else None,
            positive_encoder=encoder, width=width, height=height, latent_source=source,
        )

    def _sampler_name(self, nid: str) -> Optional[str]:
        inputs = self.inputs(nid)
        if "sampler_name" in inputs:
            return to_text(self.string(inputs["sampler_name"], "sampler_name"))
        return _class_to_name(self.cls(nid), "Sampler")

    def _sigmas(self, nid: str, depth: int = 0) -> tuple[Optional[str], Optional[int], Optional[float], Any]:
        """(scheduler, steps, denoise, model input) of a sigma-producing node."""
        if depth > 8:
            return None, None, None, None
        inputs = self.inputs(nid)
        cls = self.cls(nid)
        upstream = self.link(inputs.get("sigmas"))
        if upstream is not None and "steps" not in inputs:  # SplitSigmas, FlipSigmas…
            return self._sigmas(upstream[0], depth + 1)
        scheduler = to_text(self.string(inputs["scheduler"], "scheduler")) if "scheduler" in inputs else None
        if scheduler is None:
            scheduler = _class_to_name(cls, "Scheduler", suffix=True)
        return (scheduler, to_int(self.number(inputs.get("steps"), "steps")),
                to_float(self.number(inputs.get("denoise"), "denoise")), inputs.get("model"))

    def latent_size(self, inputs: dict) -> tuple[Optional[int], Optional[int], Optional[str]]:
        """Generation size: width/height of the node the sampler's latent comes from."""
        value = next((inputs[k] for k in ("latent_image", "latent", "samples") if k in inputs), None)
        lk = self.link(value)
        seen: set[str] = set()
        while lk is not None and lk[0] not in seen and len(seen) < _MAX_DEPTH:
            nid = lk[0]
            seen.add(nid)
            n_inputs = self.inputs(nid)
            cls = self.cls(nid)
            for key in _SIZE_STRINGS:
                if isinstance(n_inputs.get(key), str):
                    w, h = parse_size(n_inputs[key])
                    if w and h:
                        return w, h, cls
            for wk, hk in (("width", "height"), ("empty_latent_width", "empty_latent_height"),
                           ("Width", "Height")):
                if wk in n_inputs and hk in n_inputs:
                    w = to_int(self.number(n_inputs[wk], wk))
                    h = to_int(self.number(n_inputs[hk], hk))
                    if w and h and w > 0 and h > 0:
                        return w, h, cls
            if self.is_sampler(nid) or "pixels" in n_inputs or "encode" in cls.lower():
                return None, None, cls  # img2img or a later pass: the size is not in the graph
            lk = next((self.link(n_inputs[k]) for k in ("samples", "latent", "latent_image", "samples_to", "LATENT")
                       if self.link(n_inputs.get(k))), None)
        return None, None, None

    # -- the pipeline ------------------------------------------------------------------------------

    def upstream_sampler(self, start: Iterable[Any], exclude: str = "") -> Optional[str]:
        """The nearest sampler above the given input values, image/latent inputs first."""
        stack = [lk for lk in (self.link(v) for v in start) if lk is not None]
        stack.reverse()
        seen: set[str] = set()
        while stack and len(seen) < 5000:
            nid, _slot = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            if nid != exclude and self.is_sampler(nid):
                return nid
            inputs = self.inputs(nid)
            ordered = [inputs[k] for k in _IMAGE_PATH_FIRST if k in inputs]
            ordered += [v for k, v in inputs.items() if k not in _IMAGE_PATH_FIRST
                        and k not in ("model", "clip", "vae", "positive", "negative", "conditioning", "guider",
                                      "upscale_model", "control_net", "clip_vision")]
            nxt = [lk for lk in (self.link(v) for v in ordered) if lk is not None]
            stack.extend(reversed(nxt))
        return None

    def chain_from(self, sampler: str) -> list[str]:
        """[sampler, previous pass, …, first pass], following latent/image inputs."""
        chain = [sampler]
        while len(chain) < 32:
            inputs = self.inputs(chain[-1])
            latent = [inputs[k] for k in ("latent_image", "latent", "samples", "image", "pixels") if k in inputs]
            prev = self.upstream_sampler(latent, exclude=chain[-1])
            if prev is None or prev in chain:
                break
            chain.append(prev)
        return chain

    def outputs(self) -> list[str]:
        consumed = set()
        for nid, node in self.g.items():
            for value in node["inputs"].values():
                lk = self.link(value)
                if lk:
                    consumed.add(lk[0])
        sinks = [nid for nid in self.g if nid not in consumed]
        saves = [nid for nid in self.g if _SAVE_RE.search(self.cls(nid))]  # also savers with outputs
        if saves:
            return saves
        previews = [nid for nid in sinks if _PREVIEW_RE.search(self.cls(nid))]
        return previews or sinks

    def vae_of_output(self, output: Optional[str], final_sampler: str) -> Optional[str]:
        """The VAE of the decode node between the final sampler and the output."""
        for nid, node in self.g.items():
            inputs = node["inputs"]
            if "vae" not in inputs:
                continue
            src = self.link(inputs.get("samples"))
            if src is not None and src[0] == final_sampler:
                return self.vae(inputs["vae"])
        return None


def _dedupe(texts: list[str]) -> list[str]:
    out, seen = [], set()
    for text in texts:
        key = text.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def _join(texts: Optional[list[str]]) -> Optional[str]:
    if texts is None:
        return None
    if not texts:
        return ""
    if len(texts) == 1:
        return texts[0]
    return "\n".join(t.strip("\n") for t in texts)


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


# ---- public entry points ------------------------------------------------------------------------

def trace(graph: Graph) -> Optional[Trace]:
    """The generation recipe of an API graph, or None when it has no sampler."""
    t = _Tracer(graph)
    samplers = [nid for nid in graph if t.is_sampler(nid)]
    if not samplers:
        return None
    chains: list[tuple[list[str], Optional[str]]] = []
    for out in t.outputs():
        final = t.upstream_sampler(t.inputs(out).values())
        if final is not None:
            chains.append((t.chain_from(final), out))
    if not chains:  # no output reaches a sampler: the longest sampler-to-sampler chain
        chains = [(t.chain_from(s), None) for s in samplers]
    order = {nid: i for i, nid in enumerate(graph)}
    chains.sort(key=lambda c: (-len(c[0]), order.get(c[0][-1], 0)))
    best, output = chains[0]
    passes = {nid: t.sampler_pass(nid) for nid in samplers}
    chain = tuple(passes[nid] for nid in reversed(best))  # first pass first
    others = tuple(passes[nid] for nid in samplers if nid not in best)
    upscalers = []
    for nid, node in graph.items():
        if "upscale" in node["class_type"].lower() and "model_name" in node["inputs"]:
            name = to_text(t.string(node["inputs"]["model_name"], "model_name"))
            if name and name not in upscalers:
                upscalers.append(name)
    return Trace(
        chain=chain, other_samplers=others,
        vae=t.vae_of_output(output, best[0]),
        clip_skip=t.clip_skip(chain[0].positive_encoder),
        upscalers=tuple(upscalers), output_node=output,
    )


# ---- UI workflow -> API graph ---------------------------------------------------------------------

# Widget order of core nodes (ComfyUI's INPUT_TYPES order); '+' marks a seed widget that the
# UI follows with a 'control after generate' value.
_WIDGETS: dict[str, tuple[str, ...]] = {
    "KSampler": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
                         "end_at_step", "return_with_leftover_noise"),
    "SamplerCustom": ("add_noise", "noise_seed+", "cfg"),
    "RandomNoise": ("noise_seed+",),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "CFGGuider": ("cfg",),
    "FluxGuidance": ("guidance",),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CheckpointLoader": ("config_name", "ckpt_name"),
    "unCLIPCheckpointLoader": ("ckpt_name",),
    "ImageOnlyCheckpointLoader": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "UnetLoaderGGUF": ("unet_name",),
    "VAELoader": ("vae_name",),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g",
                           "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
    "ImageScale": ("upscale_method", "width", "height", "crop"),
    "ImageScaleBy": ("upscale_method", "scale_by"),
    "UpscaleModelLoader": ("model_name",),
    "ConditioningSetArea": ("width", "height", "x", "y", "strength"),
    "ControlNetApply": ("strength",),
    "ControlNetApplyAdvanced": ("strength", "start_percent", "end_percent"),
    "SaveImage": ("filename_prefix",),
    "PrimitiveNode": ("value+",),
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value+",),
    "PrimitiveFloat": ("value",),
}
_CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
# Classes whose values this module knows how to read (for error messages naming the others)
CORE_WIDGETS = frozenset(_WIDGETS) | {"VAEDecode", "VAEEncode", "SaveImage", "PreviewImage", "LoadImage",
                                      "ConditioningCombine", "ConditioningConcat", "Reroute", "PrimitiveNode"}


def workflow_to_api(workflow: dict) -> Optional[Graph]:
    """An API-shaped graph from a UI workflow: links become ``[source, slot]`` inputs, widget
    values are named (core nodes by ComfyUI's widget order, other nodes by the widget inputs
    the workflow lists), muted nodes are dropped and bypassed nodes passed through."""
    nodes = [n for n in workflow.get("nodes") or [] if isinstance(n, dict) and "id" in n and "type" in n]
    if not nodes:
        return None
    link_src: dict[Any, tuple[str, int, Any]] = {}
    links = workflow.get("links")
    for lk in links if isinstance(links, list) else ():
        if isinstance(lk, list) and len(lk) >= 5 and _is_id(lk[0]):
            link_src[lk[0]] = (str(lk[1]), lk[2] if _is_int(lk[2]) else 0, lk[5] if len(lk) > 5 else None)
        elif isinstance(lk, dict) and _is_id(lk.get("id")):
            slot = lk.get("origin_slot")
            link_src[lk["id"]] = (str(lk.get("origin_id")), slot if _is_int(slot) else 0, lk.get("type"))
    by_id = {str(n["id"]): n for n in nodes}

    def source(link_id: Any, depth: int = 0) -> Optional[list]:
        """The [node, slot] a link comes from, passing through bypassed nodes."""
        src = link_src.get(link_id) if _is_id(link_id) else None
        if src is None or depth > _MAX_DEPTH:
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
            names = _WIDGETS.get(node["type"]) if isinstance(node["type"], str) else None
            if names is None:
                plain = [v for v in values if not (isinstance(v, str) and v in _CONTROL_VALUES)]
                names = tuple(widget_inputs) if widget_inputs and len(widget_inputs) == len(plain) else ()
                values = plain
            _assign_widgets(inputs, names, values)
        graph[nid] = {"class_type": str(node["type"]), "inputs": inputs}
    return graph or None


def _is_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _assign_widgets(inputs: dict, names: tuple[str, ...], values: list) -> None:
    i = 0
    for name in names:
        if i >= len(values):
            break
        seed_like = name.endswith("+")
        name = name.rstrip("+")
        inputs.setdefault(name, values[i])  # a linked input keeps its link
        i += 1
        if seed_like and i < len(values) and isinstance(values[i], str) and values[i] in _CONTROL_VALUES:
            i += 1
