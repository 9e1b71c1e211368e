"""Generation stages: every sampler pass that made an image, not only the first.

The images row holds the first pass (its columns stay as they are). An image made in several
passes (a hires fix, an SDXL refiner, Wan 2.2's high- and low-noise experts, a detailer's
second sampler) also gets one ``stages`` row per pass, so statistics and search see them. The
passes are read off what the parsers already store in ``params_json``, so a database gets its
stages from a migration, without reading a file again:

* ComfyUI (and the apps that embed its graph: SwarmUI, Tensor.Art, …): the traced chain
  ``samplers`` (first pass first), each with sampler, schedule, steps, CFG, denoise, seed,
  model and LoRAs;
* A1111-family infotext: ``Refiner``/``Refiner switch at`` and ``Hires steps``/``Hires
  upscaler``/``Hires sampler``/``Hires checkpoint`` with ``Denoising strength``.

Roles: the first pass is ``first``; a later pass by a detailer node (Impact Pack's FaceDetailer,
DetailerForEach…: it redraws detected regions such as faces) is ``detailer``; a later pass with
another model is ``refiner``; a later pass with the same model is ``hires`` (it starts from the
previous pass's image, denoise below 1 or an upscaled latent), else ``pass``. An image made in
one pass has no stages rows.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

logger = logging.getLogger(__name__)

ROLES = ("first", "detailer", "refiner", "hires", "pass")
_HASH_SUFFIX_RE = re.compile(r"\s*\[[0-9a-fA-F]{6,}\]\s*$")
# params_json texts that can hold more than one pass (checked before decoding)
_MARKERS = ('"samplers"', '"Hires', '"Refiner"')


@dataclass(frozen=True)
class Stage:
    """One sampler pass of an image."""
    stage: int  # 0 = the first pass (the images row), then in the order they ran
    role: str
    sampler: Optional[str] = None
    scheduler: Optional[str] = None
    steps: Optional[int] = None
    cfg_scale: Optional[float] = None
    denoise: Optional[float] = None
    seed: Any = None
    model: Optional[str] = None
    start_step: Optional[int] = None
    end_step: Optional[int] = None
    loras: tuple[tuple[str, Optional[float]], ...] = ()
    node: Optional[str] = None  # where it was read: a ComfyUI node ('3 KSamplerAdvanced') or an infotext key

    def loras_json(self) -> Optional[str]:
        return json.dumps([{"name": n, "weight": w} for n, w in self.loras], ensure_ascii=False) if self.loras else None


def stages_from_json(params_json: Optional[str], first: Mapping[str, Any]) -> tuple[Stage, ...]:
    """The stages of an image from its stored ``params_json`` and first-pass columns (``first``:
    sampler, scheduler, steps, cfg_scale, denoising_strength, seed, model); () for one pass."""
    if not params_json or not any(m in params_json for m in _MARKERS):
        return ()
    try:
        params = json.loads(params_json)
    except (ValueError, RecursionError):
        return ()
    return stages_of(params, first) if isinstance(params, dict) else ()


def stages_of(params: Mapping[str, Any], first: Mapping[str, Any]) -> tuple[Stage, ...]:
    chain = _comfy_chain(params)
    stages = _from_chain(chain) if chain else _from_infotext(params, first)
    return stages if len(stages) >= 2 else ()


def _comfy_chain(params: Mapping[str, Any]) -> Optional[list]:
    """The traced sampler chain: at the top (ComfyUI) or one level down, where an app that embeds
    the graph keeps the graph's params (SwarmUI's 'ComfyUI graph', Civitai's 'graph')."""
    for candidate in (params, *(v for v in params.values() if isinstance(v, dict))):
        chain = candidate.get("samplers")
        if isinstance(chain, list) and all(isinstance(p, dict) for p in chain) and chain:
            return chain
    return None


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if kind is not int or number == float(value) else None


def _rounded(value: Optional[float]) -> Optional[float]:
    """Graph arithmetic leaves 0.3500000000000001: six decimals are more than any UI sets."""
    return None if value is None else round(value, 6)


def _text(value: Any) -> Optional[str]:
    return value.strip() or None if isinstance(value, str) else None


def _role(index: int, model: Optional[str], first_model: Optional[str], denoise: Optional[float],
          latent_source: Optional[str], class_type: Optional[str] = None) -> str:
    if index == 0:
        return "first"
    if "detailer" in (class_type or "").lower():
        return "detailer"
    if model and first_model and _model_key(model) != _model_key(first_model):
        return "refiner"
    if (denoise is not None and denoise < 1) or "upscale" in (latent_source or "").lower():
        return "hires"
    return "pass"


def _model_key(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    return re.sub(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$", "", _HASH_SUFFIX_RE.sub("", base), flags=re.I).lower()


def _from_chain(chain: list) -> tuple[Stage, ...]:
    first_model = _text(chain[0].get("model"))
    out = []
    for i, p in enumerate(chain):
        model = _text(p.get("model"))
        denoise = _rounded(_number(p.get("denoise"), float))
        loras = tuple((str(x.get("name")), _number(x.get("weight"), float)) for x in p.get("loras") or ()
                      if isinstance(x, dict) and x.get("name"))
        out.append(Stage(
            stage=i, role=_role(i, model, first_model, denoise, _text(p.get("latent_source")),
                                _text(p.get("class_type"))),
            sampler=_text(p.get("sampler")), scheduler=_text(p.get("scheduler")), steps=_number(p.get("steps"), int),
            cfg_scale=_rounded(_number(p.get("cfg"), float)), denoise=denoise, seed=p.get("seed"), model=model,
            start_step=_number(p.get("start_step"), int), end_step=_number(p.get("end_step"), int), loras=loras,
            node=" ".join(str(x) for x in (p.get("node"), p.get("class_type")) if x is not None) or None))
    return tuple(out)


def _from_infotext(params: Mapping[str, Any], first: Mapping[str, Any]) -> tuple[Stage, ...]:
    lower = {str(k).lower(): v for k, v in params.items()}
    first_model = _text(first.get("model"))
    has_hires = any(k in lower for k in ("hires upscale", "hires steps", "hires upscaler", "hires resize-1"))
    refiner = _text(lower.get("refiner"))
    if not has_hires and not refiner:
        return ()
    stages = [Stage(stage=0, role="first", sampler=first.get("sampler"), scheduler=first.get("scheduler"),
                    steps=first.get("steps"), cfg_scale=first.get("cfg_scale"),
                    denoise=None, seed=first.get("seed"), model=first_model, node="infotext")]
    if refiner:
        switch = _number(lower.get("refiner switch at"), float)
        steps = first.get("steps")
        start = round(steps * switch) if isinstance(steps, int) and switch is not None else None
        stages.append(Stage(stage=len(stages), role="refiner", sampler=first.get("sampler"),
                            scheduler=first.get("scheduler"), steps=steps, cfg_scale=first.get("cfg_scale"),
                            seed=first.get("seed"), model=_HASH_SUFFIX_RE.sub("", refiner), start_step=start,
                            node="Refiner"))
    if has_hires:
        hires_steps = _number(lower.get("hires steps"), int)
        model = _text(lower.get("hires checkpoint"))
        model = _HASH_SUFFIX_RE.sub("", model) if model and model.lower() != "use same checkpoint" else first_model
        sampler = _text(lower.get("hires sampler"))
        stages.append(Stage(
            stage=len(stages), role="hires" if _model_key(model or "") == _model_key(first_model or "") else "refiner",
            sampler=sampler if sampler and sampler.lower() != "use same sampler" else first.get("sampler"),
            scheduler=_text(lower.get("hires schedule type")) or first.get("scheduler"),
            steps=hires_steps or first.get("steps"),  # 0 means 'as many as the first pass'
            cfg_scale=_number(lower.get("hires cfg scale"), float) or first.get("cfg_scale"),
            denoise=_number(lower.get("denoising strength"), float), seed=first.get("seed"), model=model,
            node="Hires"))
    return tuple(stages)


def stage_rows(image_id: int, stages: Iterable[Stage]) -> list[tuple]:
    """Rows of table ``stages`` (db.py's column order)."""
    return [(image_id, s.stage, s.role, s.sampler, s.scheduler, s.steps, s.cfg_scale, s.denoise, s.seed, s.model,
             s.start_step, s.end_step, s.loras_json(), s.node) for s in stages]
