"""The edge cases of the sample folder: which files to write and the ground truth of each.

Every random choice comes from a ``random.Random`` seeded with the folder seed and the case
name, so the same seed always gives the same cases.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from .comfy import comfyui_graph
from .infotext import Verbatim, a1111_infotext, a1111_quote
from .vocabulary import (A1111_VERSIONS, CAMERAS, COMFY_SAMPLERS, COMFY_SCHEDULERS, DESCRIPTORS, FORGE_VERSION,
                         LIGHTING, NEGATIVE, NEW_SAMPLERS, OLD_SAMPLERS, QUALITY, SD15_MODELS, SDXL_MODELS,
                         SETTINGS, STYLES, SUBJECTS, VAES)

logger = logging.getLogger(__name__)


def _hash(name: str, n: int = 10) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:n]


def _num(x: float) -> Union[int, float]:
    """7.0 -> 7, 7.5 -> 7.5 (how A1111's sliders end up in the infotext)."""
    return int(x) if float(x).is_integer() else x


def _weight(r: random.Random, term: str) -> str:
    x = r.random()
    if x < 0.15:
        return f"({term}:{r.choice([1.1, 1.2, 1.3, 0.8])})"
    if x < 0.22:
        return f"(({term}))"
    if x < 0.26:
        return f"[{term}]"
    return term


def _sd_prompt(r: random.Random) -> str:
    parts = [f"({r.choice(QUALITY[:2])}:1.2)"] + r.sample(QUALITY[2:], r.randint(1, 3))
    parts += r.sample(SUBJECTS, r.randint(1, 2))
    parts += [_weight(r, d) for d in r.sample(DESCRIPTORS, r.randint(1, 4))]
    parts.append(r.choice(SETTINGS))
    parts += r.sample(STYLES, r.randint(0, 2))
    parts += [_weight(r, t) for t in r.sample(LIGHTING, r.randint(1, 2))]
    return ", ".join(parts)


def _sd_negative(r: random.Random) -> str:
    neg = r.sample(NEGATIVE, r.randint(3, 9))
    return ", ".join(f"({n}:1.4)" if r.random() < 0.2 else n for n in neg)


@dataclass
class SampleSpec:
    """A file to write: where, how, and its ground truth (mutable while building)."""

    path: str
    kind: str
    case: str
    format: str
    truth: dict[str, Any]
    png_text: Sequence[tuple[str, str]] = ()
    png_opts: Optional[dict[str, Any]] = None
    user_comment: Optional[str] = None
    camera: Optional[tuple[Optional[str], Optional[str], Optional[str]]] = None
    byte_order: str = "MM"
    pixel_size: tuple[int, int] = (64, 64)
    png_mode: str = "RGB"
    notes: str = ""


def _a1111(r: random.Random, *, prompt: Optional[str] = None, negative: Optional[str] = "random",
           model: Optional[str] = None, size: Optional[tuple[int, int]] = None, new_sampler: bool = False,
           sampler: Optional[str] = None, schedule: str = "Karras", seed: Optional[int] = None,
           steps: Optional[int] = None, cfg: Optional[float] = None,
           vae: bool = True, clip_skip: Optional[int] = None, denoise: Optional[float] = None,
           extra_before: Sequence[tuple[str, Any]] = (), extra_after: Sequence[tuple[str, Any]] = (),
           version: Optional[str] = "random", generator: str = "A1111", model_line: bool = True,
           loras: Sequence[tuple[str, float]] = ()) -> tuple[str, dict[str, Any]]:
    """An A1111-family infotext and its truth; the key order follows A1111's create_infotext."""
    prompt = _sd_prompt(r) if prompt is None else prompt
    if loras:
        prompt = prompt + ", " + " ".join(f"<lora:{n}:{_num(w)}>" for n, w in loras)
    negative = _sd_negative(r) if negative == "random" else negative
    model = model or r.choice(SD15_MODELS)
    width, height = size or r.choice([(512, 512), (512, 768), (768, 512)])
    steps = steps if steps is not None else r.randint(20, 40)
    seed = seed if seed is not None else r.randint(0, 2**32 - 1)
    cfg = cfg if cfg is not None else r.choice([4, 5, 5.5, 6, 7, 7, 7.5, 8])
    sched: Optional[str]
    if new_sampler:
        sampler_name, sched = r.choice(NEW_SAMPLERS) if sampler is None else (sampler, schedule)
    else:
        sampler_name, sched = (sampler or r.choice(OLD_SAMPLERS)), None
    vae_name = r.choice(VAES) if vae else None
    model_hash = _hash(model)
    settings: dict[str, Any] = {"Steps": steps, "Sampler": sampler_name}
    if sched:
        settings["Schedule type"] = sched
    settings["CFG scale"] = cfg
    settings.update(extra_before)
    settings["Seed"] = seed
    settings["Size"] = f"{width}x{height}"
    if model_line:
        settings["Model hash"] = model_hash
        settings["Model"] = model
    if vae_name:
        settings["VAE hash"] = _hash(vae_name)
        settings["VAE"] = vae_name
    if denoise is not None:
        settings["Denoising strength"] = denoise
    if clip_skip is not None:
        settings["Clip skip"] = clip_skip
    if loras:
        settings["Lora hashes"] = ", ".join(f"{n}: {_hash(n, 12)}" for n, _ in loras)
    settings.update(extra_after)
    if version == "random":
        version = r.choice(A1111_VERSIONS)
    if version:
        settings["Version"] = version
    text = a1111_infotext(prompt, negative, settings)
    truth = {
        "generator": generator, "prompt": prompt, "negative_prompt": negative or None,
        "steps": steps, "seed": seed, "sampler": sampler_name, "scheduler": sched,
        "cfg_scale": float(cfg), "width": width, "height": height,
        "model": model if model_line else None, "model_hash": model_hash if model_line else None,
        "vae": vae_name, "denoising_strength": denoise, "clip_skip": clip_skip,
        "loras": tuple((n, float(w)) for n, w in loras),
        "settings": tuple((k, a1111_quote(v)) for k, v in settings.items() if v is not None),
    }
    return text, truth


def _pixel_size(width: int, height: int) -> tuple[int, int]:
    """A small stand-in for the generated pixel size: same aspect ratio, long side 96."""
    scale = max(width, height) / 96.0
    return max(8, round(width / scale)), max(8, round(height / scale))


def sample_specs(seed: int) -> list[SampleSpec]:
    def rng(case: str) -> random.Random:
        return random.Random(f"exifdata-samples:{seed}:{case}")

    specs: list[SampleSpec] = []

    def a1111_png(folder: str, name_no: int, case: str, notes: str, *, kind: str = "a1111_png",
                  png_opts: Optional[dict[str, Any]] = None, png_mode: str = "RGB",
                  **kwargs: Any) -> SampleSpec:
        text, truth = _a1111(rng(case), **kwargs)
        spec = SampleSpec(path=f"{folder}/{name_no:05d}-{truth['seed']}.png", kind=kind, case=case,
                     format="PNG", truth=truth, png_text=[("parameters", text)], png_opts=png_opts,
                     pixel_size=_pixel_size(truth["width"], truth["height"]), png_mode=png_mode,
                     notes=notes)
        specs.append(spec)
        return spec

    t2i = "txt2img-images/2024-03-14"
    i2i = "img2img-images/2024-03-14"

    # ---- A1111 PNG ------------------------------------------------------------------------
    basic = a1111_png(t2i, 0, "a1111_basic", "negative prompt, old-style sampler name, VAE, Clip skip",
                      sampler="DPM++ 2M Karras", clip_skip=2)
    a1111_png(t2i, 1, "a1111_no_negative", "no 'Negative prompt:' line", negative=None)
    r = rng("a1111_multiline_prompt")
    a1111_png(t2i, 2, "a1111_multiline_prompt",
              "prompt and negative span lines (newline and BREAK); Sampler + Schedule type",
              prompt=f"{_sd_prompt(r)},\n{r.choice(SETTINGS)}, {r.choice(LIGHTING)}\nBREAK\n"
                     f"{r.choice(STYLES)}, {r.choice(STYLES)}",
              negative=f"{_sd_negative(r)},\n{r.choice(NEGATIVE)}", new_sampler=True)
    a1111_png(t2i, 3, "a1111_lora", "<lora:…> in the prompt, Lora hashes and TI hashes (quoted lists)",
              loras=[("add_detail", 0.8), ("epiNoiseoffset_v2", 0.5)],
              extra_after=[("TI hashes", "easynegative: c74b4e810b03, badhandv4: 5e40d722fc3d")],
              new_sampler=True)
    a1111_png(t2i, 4, "a1111_hires_adetailer", "hires fix keys, ADetailer keys, Hashes JSON object",
              denoise=0.45, size=(512, 768),
              extra_after=[("Hires upscale", 2), ("Hires steps", 15), ("Hires upscaler", "4x-UltraSharp"),
                           ("ADetailer model", "face_yolov8n.pt"), ("ADetailer confidence", 0.3),
                           ("ADetailer dilate erode", 4), ("ADetailer mask blur", 4),
                           ("ADetailer denoising strength", 0.4), ("ADetailer inpaint only masked", True),
                           ("ADetailer inpaint padding", 32), ("ADetailer version", "24.1.2"),
                           ("Hashes", {"vae": "c6a580b13a", "model": "879db523c3"})],
              new_sampler=True)
    a1111_png(t2i, 5, "a1111_japanese_itxt", "Japanese prompt and negative: PNG iTXt (UTF-8), read correctly",
              prompt="傑作, 最高品質, 1人の女の子, 桜の木の下, 着物, 夕焼け, (猫耳:1.2), テスト",
              negative="低品質, 最悪の品質, ぼやけた, watermark", new_sampler=True)
    a1111_png(t2i, 6, "a1111_japanese_raw_utf8",
              "Japanese prompt written as raw UTF-8 inside tEXt (as many tools do): ExifTool shows "
              "mojibake, the truth is the repaired text",
              prompt="青い空, 東京の夜景, 1人の少年, ネオン, テスト", negative="低品質, lowres",
              png_opts={"raw_utf8_in_text": True})
    a1111_png(t2i, 7, "a1111_sdxl_ztxt_after_idat",
              "SDXL 1024x1024; compressed zTXt 'parameters' after IDAT (lost with ExifTool -fast2)",
              model="sd_xl_base_1.0", size=(1024, 1024), sampler="Euler a", vae=False,
              png_opts={"text_after_idat": True, "compress": True})
    a1111_png(t2i, 8, "a1111_prompt_with_colons",
              "prompt lines that look like settings ('style: anime, mood: dark, …'); RGBA PNG",
              prompt=f"{_sd_prompt(rng('colons'))}\nstyle: anime, mood: dark, lighting: soft",
              new_sampler=True, png_mode="RGBA")

    # same base name as a1111_basic in another folder: img2img keeps the txt2img seed and the
    # per-folder counter restarts at 00000 -> the original tool's bare-name key loses one of them
    a1111_png(i2i, 0, "a1111_img2img_same_name",
              "img2img of a1111_basic: same base name in another folder, different parameters",
              prompt=basic.truth["prompt"] + ", (detailed background:1.1)", seed=basic.truth["seed"],
              model=basic.truth["model"], size=(basic.truth["width"], basic.truth["height"]),
              denoise=0.55, steps=basic.truth["steps"] + 7, sampler="Euler a",
              extra_after=[("Mask blur", 4)])
    a1111_png(i2i, 1, "a1111_img2img", "img2img with Denoising strength and Mask blur", denoise=0.35,
              extra_after=[("Mask blur", 4)])

    # ---- Forge ----------------------------------------------------------------------------
    forge = "forge/2024-03-16"
    a1111_png(forge, 0, "forge_flux", "Forge Flux: Distilled CFG Scale, Schedule type Simple, Module 1..3",
              kind="forge_png", generator="Forge", negative=None, model="flux1-dev-bnb-nf4-v2",
              size=(896, 1152), new_sampler=True, sampler="Euler", schedule="Simple", cfg=1, vae=False,
              version=FORGE_VERSION, extra_before=[("Distilled CFG Scale", 3.5)],
              extra_after=[("Module 1", "ae"), ("Module 2", "clip_l"), ("Module 3", "t5xxl_fp16")])
    a1111_png(forge, 1, "forge_sdxl", "Forge SDXL with Version f2.0.1v1.10.1-previous-…", kind="forge_png",
              generator="Forge", model=rng("forge_sdxl_model").choice(SDXL_MODELS), size=(832, 1216),
              new_sampler=True, version=FORGE_VERSION, clip_skip=2)

    # ---- Civitai --------------------------------------------------------------------------
    r = rng("civitai")
    civ_res = [
        {"type": "checkpoint", "modelVersionId": 290640, "modelName": "Pony Diffusion V6 XL",
         "modelVersionName": "V6 (start with this one)"},
        {"type": "lora", "weight": 0.8, "modelVersionId": 135867, "modelName": "Detail Tweaker XL",
         "modelVersionName": "v1.0"},
    ]
    civ_verbatim = [
        ("Created Date", Verbatim("2024-06-01T0529:44.7563207Z")),
        ("Civitai resources", Verbatim(json.dumps(civ_res, separators=(",", ":")))),
        ("Civitai metadata", Verbatim('{"remixOfId":1234567}')),
    ]
    text, truth = _a1111(r, model_line=False, vae=False, version=None, generator="Civitai",
                         size=(832, 1216), sampler="Euler a", clip_skip=2, extra_after=civ_verbatim)
    truth["model"] = civ_res[0]["modelName"]  # no Model: line; the checkpoint resource names it
    specs.append(SampleSpec(path=f"civitai/{truth['seed']}.png", kind="civitai_png", case="civitai_png",
                       format="PNG", truth=truth, png_text=[("parameters", text)],
                       pixel_size=_pixel_size(832, 1216),
                       notes="Civitai resources/metadata JSON written unquoted, Created Date, no Model:"))
    r = rng("civitai_jpeg")
    text, truth = _a1111(r, model_line=False, vae=False, version=None, generator="Civitai",
                         size=(1024, 1024), sampler="DPM++ 2M Karras",
                         prompt=_sd_prompt(r) + ", \n1girl, solo, #テスト",
                         extra_after=[("Created Date", Verbatim("2024-06-02T1130:02.1234567Z")),
                                      ("Civitai resources", Verbatim(json.dumps(civ_res[:1], separators=(",", ":"))))])
    truth["model"] = civ_res[0]["modelName"]
    specs.append(SampleSpec(path=f"civitai/{truth['seed']}.jpeg", kind="civitai_jpeg", case="civitai_jpeg",
                       format="JPEG", truth=truth, user_comment=text, pixel_size=(96, 96),
                       notes="Civitai JPEG: infotext in EXIF UserComment, multi-line prompt with Japanese"))

    # ---- A1111 JPEG / WebP -------------------------------------------------------------------
    t2i_b = "txt2img-images/2024-03-15"
    for no, (case, fmt, bo, kw, notes) in enumerate([
        ("a1111_jpeg_mm", "JPEG", "MM", {}, "UserComment UNICODE + UTF-16BE in a big-endian EXIF (piexif)"),
        ("a1111_jpeg_ii", "JPEG", "II", {"new_sampler": True}, "UserComment UNICODE + UTF-16LE in a little-endian EXIF"),
        ("a1111_jpeg_japanese", "JPEG", "MM",
         {"prompt": "傑作, 1人の女の子,\n桜, 夕焼け, 東京の夜景", "negative": "低品質,\nwatermark"},
         "multi-line Japanese prompt in UserComment"),
        ("a1111_webp", "WEBP", "MM", {"size": (512, 768)}, "WebP with EXIF UserComment"),
        ("a1111_webp_no_negative", "WEBP", "MM", {"negative": None, "new_sampler": True},
         "WebP, no negative prompt"),
    ]):
        text, truth = _a1111(rng(case), **kw)
        ext = ".jpg" if fmt == "JPEG" else ".webp"
        specs.append(SampleSpec(path=f"{t2i_b}/{no:05d}-{truth['seed']}{ext}",
                           kind="a1111_jpeg" if fmt == "JPEG" else "a1111_webp", case=case, format=fmt,
                           truth=truth, user_comment=text, byte_order=bo,
                           pixel_size=_pixel_size(truth["width"], truth["height"]), notes=notes))

    # ---- ComfyUI ------------------------------------------------------------------------------
    def comfy(folder: str, no: int, case: str, notes: str, **kw: Any) -> None:
        r = rng(case)
        prompt = kw.pop("prompt", None) or _sd_prompt(r)
        negative = kw.pop("negative_prompt", None) or _sd_negative(r)
        model = kw.pop("model", None) or r.choice(SD15_MODELS) + ".safetensors"
        width, height = kw.pop("size", None) or r.choice([(512, 512), (512, 768), (768, 512)])
        pj, wj, truth = comfyui_graph(
            prompt, negative, model=model, seed=r.randint(0, 2**50), steps=r.randint(20, 40),
            cfg=r.choice([5.0, 6.0, 6.5, 7.0, 7.5, 8.0]), sampler_name=r.choice(COMFY_SAMPLERS),
            scheduler=r.choice(COMFY_SCHEDULERS), width=width, height=height,
            filename_prefix="%date:yyyy-MM-dd%/ComfyUI", **kw)
        truth["settings"] = ()
        specs.append(SampleSpec(path=f"{folder}/ComfyUI_{no:05d}_.png", kind="comfyui_png", case=case,
                           format="PNG", truth=truth, png_text=[("prompt", pj), ("workflow", wj)],
                           pixel_size=_pixel_size(width, height), notes=notes))

    comfy("comfyui/2024-03-14", 1, "comfyui_basic", "default text-to-image graph; same base name as comfyui_same_name")
    comfy("comfyui/2024-03-14", 2, "comfyui_loras", "two chained LoraLoader nodes",
          loras=[("add_detail.safetensors", 0.7), ("film_grain_v1.safetensors", 0.4)])
    comfy("comfyui/2024-03-14", 3, "comfyui_sdxl_japanese",
          "SDXL; Japanese prompt, stored as \\uXXXX escapes by json.dumps",
          prompt="傑作, 1人の女の子, 猫耳, 桜の木の下, 夕焼け", model="sd_xl_base_1.0.safetensors",
          size=(1024, 1024))
    comfy("comfyui/2024-03-15", 1, "comfyui_same_name",
          "same base name as comfyui_basic (ComfyUI restarts its counter per folder), different parameters")
    comfy("comfyui/2024-03-15", 2, "comfyui_img2img_denoise", "KSampler denoise below 1", denoise=0.6)

    # ---- no generation data -----------------------------------------------------------------
    none_truth = {"generator": None}
    r = rng("camera")
    make, model = r.choice(CAMERAS)
    camera = (make, model, f"2024:03:{r.randint(1, 13):02d} {r.randint(8, 20):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}")
    specs += [
        SampleSpec(path="misc/IMG_0001.jpg", kind="camera_jpeg", case="camera_jpeg", format="JPEG",
              truth=dict(none_truth), camera=camera, pixel_size=(96, 72),
              notes="camera photo: IFD0 Make/Model, ExifIFD DateTimeOriginal, no generation data"),
        SampleSpec(path="misc/IMG_0002.jpg", kind="none_jpeg", case="none_jpeg", format="JPEG",
              truth=dict(none_truth), pixel_size=(72, 96), notes="JPEG without any EXIF"),
        SampleSpec(path="misc/screenshot.png", kind="none_png", case="none_png", format="PNG",
              truth=dict(none_truth), pixel_size=(96, 54), notes="PNG without text chunks"),
        SampleSpec(path="misc/edited.png", kind="none_png", case="none_png_software", format="PNG",
              truth=dict(none_truth), png_text=[("Software", "GIMP 2.10.36")], pixel_size=(64, 64),
              notes="PNG with an unrelated Software tEXt chunk only"),
        SampleSpec(path="misc/grayscale.png", kind="none_png", case="none_png_grayscale", format="PNG",
              truth=dict(none_truth), png_mode="L", pixel_size=(48, 48), notes="mode L PNG, no metadata"),
    ]
    return specs
