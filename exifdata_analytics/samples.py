"""Deterministic sample images with real generation metadata, for tests and demos.

Two layers:

* Low-level writers that build small real image files whose metadata sits exactly where the
  generators put it: ``write_png`` (tEXt / iTXt / zTXt chunks, optionally after IDAT, optionally
  raw UTF-8 inside tEXt as many tools wrongly do), ``write_jpeg`` and ``write_webp`` (EXIF
  ``UserComment`` = ``b"UNICODE\\0"`` + UTF-16, optional camera ``Make``/``Model``/
  ``DateTimeOriginal``), plus the payload builders ``a1111_infotext`` and ``comfyui_graph``.
* ``make_sample_folder``: a small folder tree (~30 files) covering the formats and edge cases
  the project must handle, with the ground truth of every file as ``SampleImage`` records.

Everything is deterministic: the same arguments give the same file names and the same bytes
(pixels come from a seeded numpy generator; no timestamps are embedded). Pillow does the pixel
encoding; the PNG chunk stream and the EXIF (TIFF) block are assembled here by hand.

The library never prints and never exits; errors are raised (``ValueError`` for bad arguments,
``OSError`` from the file system).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

__all__ = [
    "SampleImage",
    "Verbatim",
    "a1111_infotext",
    "a1111_quote",
    "build_exif",
    "comfyui_graph",
    "make_pixels",
    "make_sample_folder",
    "png_chunks",
    "sample_by_case",
    "write_jpeg",
    "write_png",
    "write_webp",
]

PathLike = Union[str, "os.PathLike[str]"]
TextChunks = Union[Mapping[str, str], Sequence[tuple[str, str]]]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXIF_HEADER = b"Exif\x00\x00"
UNICODE_PREFIX = b"UNICODE\x00"


# --------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------

def make_pixels(size: tuple[int, int] = (64, 64), *, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A small deterministic image: a two-colour diagonal gradient plus seeded noise.

    ``mode`` is any Pillow mode reachable from RGB/RGBA by ``convert`` (``RGB``, ``RGBA``,
    ``L``, ``LA``, ``P``, ``1``, ``I``…). Alpha, when present, is fully opaque (255), so no
    "stealth" data hides in its low bits.
    """
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    rng = np.random.default_rng(int(seed) % (2**64))
    c0 = rng.integers(0, 256, size=3).astype(np.float64)
    c1 = rng.integers(0, 256, size=3).astype(np.float64)
    amplitude = float(rng.integers(4, 48))
    t = (np.linspace(0.0, 1.0, width)[None, :, None] + np.linspace(0.0, 1.0, height)[:, None, None]) / 2.0
    noise = rng.normal(0.0, amplitude, size=(height, width, 3))
    rgb = np.clip(c0 * (1.0 - t) + c1 * t + noise, 0, 255).astype(np.uint8)
    if "A" in mode:
        alpha = np.full((height, width, 1), 255, dtype=np.uint8)
        img = Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA")
        return img if mode == "RGBA" else img.convert(mode)
    img = Image.fromarray(rgb, "RGB")
    return img if mode == "RGB" else img.convert(mode)


# --------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG byte string into ``(chunk type, chunk data)`` pairs (CRCs checked)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    pos = len(PNG_SIGNATURE)
    chunks = []
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError(f"truncated PNG chunk header at offset {pos}")
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        crc_bytes = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc_bytes) != 4:
            raise ValueError(f"truncated PNG chunk {kind!r} at offset {pos}")
        if struct.unpack(">I", crc_bytes)[0] != zlib.crc32(kind + body) & 0xFFFFFFFF:
            raise ValueError(f"bad CRC in PNG chunk {kind!r} at offset {pos}")
        chunks.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _text_chunk(keyword: str, text: str, *, itxt: Optional[bool], raw_utf8: bool, compress: bool) -> bytes:
    try:
        kw = keyword.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"PNG keyword must be Latin-1: {keyword!r}") from None
    if not 1 <= len(kw) <= 79 or b"\x00" in kw:
        raise ValueError(f"PNG keyword must be 1-79 characters without NUL: {keyword!r}")
    if raw_utf8:
        # What many tools do wrongly: UTF-8 bytes in a chunk the PNG spec defines as Latin-1.
        payload = text.encode("utf-8")
        if compress:
            return _chunk(b"zTXt", kw + b"\x00\x00" + zlib.compress(payload))
        return _chunk(b"tEXt", kw + b"\x00" + payload)
    use_itxt = (not _is_latin1(text)) if itxt is None else itxt
    if use_itxt:
        payload = text.encode("utf-8")
        if compress:
            payload = zlib.compress(payload)
        # keyword NUL, compression flag, compression method, language tag NUL, translated keyword NUL
        return _chunk(b"iTXt", kw + b"\x00" + bytes([1 if compress else 0, 0]) + b"\x00" + b"\x00" + payload)
    if not _is_latin1(text):
        raise ValueError(f"text of PNG keyword {keyword!r} is not Latin-1; use itxt=True/None or raw_utf8_in_text=True")
    payload = text.encode("latin-1")
    if compress:
        return _chunk(b"zTXt", kw + b"\x00\x00" + zlib.compress(payload))
    return _chunk(b"tEXt", kw + b"\x00" + payload)


def _pairs(text_chunks: TextChunks) -> list[tuple[str, str]]:
    if isinstance(text_chunks, Mapping):
        return [(str(k), str(v)) for k, v in text_chunks.items()]
    pairs = []
    for item in text_chunks:
        key, value = item
        pairs.append((str(key), str(value)))
    return pairs


def write_png(
    path: PathLike,
    text_chunks: TextChunks = (),
    *,
    size: tuple[int, int] = (64, 64),
    mode: str = "RGB",
    itxt: Optional[bool] = None,
    text_after_idat: bool = False,
    raw_utf8_in_text: bool = False,
    compress: bool = False,
    seed: int = 0,
) -> Path:
    """Write a PNG with the given text chunks, in the given order (repeated keywords allowed).

    Chunk type per text: ``itxt=None`` (default) uses tEXt when the text is Latin-1 and iTXt
    (UTF-8) otherwise, as Pillow and A1111 do; ``itxt=True`` forces iTXt; ``itxt=False`` forces
    tEXt (ValueError for non-Latin-1 text). ``raw_utf8_in_text=True`` puts the UTF-8 bytes in
    a tEXt chunk regardless (ExifTool then shows mojibake). ``compress=True`` writes zTXt (or
    compressed iTXt). ``text_after_idat=True`` puts the text chunks between the last IDAT and
    IEND. Returns the path written.
    """
    if raw_utf8_in_text and itxt:
        raise ValueError("raw_utf8_in_text=True writes tEXt; it cannot be combined with itxt=True")
    pairs = _pairs(text_chunks)
    text = [_text_chunk(k, v, itxt=itxt, raw_utf8=raw_utf8_in_text, compress=compress) for k, v in pairs]

    buf = io.BytesIO()
    make_pixels(size, mode=mode, seed=seed).save(buf, "PNG")
    chunks = png_chunks(buf.getvalue())

    out = [PNG_SIGNATURE]
    idat_seen = False
    for kind, body in chunks:
        if kind == b"IDAT" and not idat_seen:
            idat_seen = True
            if not text_after_idat:
                out.extend(text)
        if kind == b"IEND":
            if text_after_idat:
                out.extend(text)
        if kind in (b"tEXt", b"zTXt", b"iTXt", b"tIME"):
            continue  # Pillow wrote none, but never let a stray one in
        out.append(_chunk(kind, body))
    path = Path(path)
    path.write_bytes(b"".join(out))
    logger.debug("wrote PNG %s (%d text chunks%s)", path, len(text), ", after IDAT" if text_after_idat else "")
    return path


# --------------------------------------------------------------------------------------------
# EXIF (TIFF) for JPEG and WebP
# --------------------------------------------------------------------------------------------

_ASCII, _LONG, _UNDEFINED = 2, 4, 7


def _ifd_size(entries: Sequence[tuple[int, int, int, bytes]]) -> int:
    size = 2 + 12 * len(entries) + 4
    for _, _, _, payload in entries:
        if len(payload) > 4:
            size += len(payload) + (len(payload) % 2)
    return size


def _ifd_bytes(entries: Sequence[tuple[int, int, int, bytes]], offset: int, bo: str) -> bytes:
    entries = sorted(entries, key=lambda e: e[0])
    head_len = 2 + 12 * len(entries) + 4
    out = struct.pack(bo + "H", len(entries))
    data = b""
    for tag, typ, count, payload in entries:
        if len(payload) <= 4:
            out += struct.pack(bo + "HHI", tag, typ, count) + payload.ljust(4, b"\x00")
        else:
            out += struct.pack(bo + "HHII", tag, typ, count, offset + head_len + len(data))
            data += payload
            if len(data) % 2:
                data += b"\x00"
    out += struct.pack(bo + "I", 0)  # no next IFD
    return out + data


def build_exif(
    *,
    user_comment: Optional[str] = None,
    make: Optional[str] = None,
    model: Optional[str] = None,
    datetime_original: Optional[str] = None,
    software: Optional[str] = None,
    byte_order: str = "MM",
) -> Optional[bytes]:
    """``b"Exif\\0\\0"`` + a TIFF block (IFD0 with Make/Model/Software and the ExifIFD pointer;
    ExifIFD with DateTimeOriginal and UserComment), or None when there is nothing to write.

    UserComment is ``b"UNICODE\\0"`` + UTF-16 in the TIFF byte order: big-endian for ``MM``
    (what piexif writes for A1111), little-endian for ``II``. ASCII fields are UTF-8 encoded.
    """
    if byte_order not in ("MM", "II"):
        raise ValueError(f"byte_order must be 'MM' or 'II', got {byte_order!r}")
    bo = ">" if byte_order == "MM" else "<"

    def ascii_entry(tag: int, value: str) -> tuple[int, int, int, bytes]:
        payload = value.encode("utf-8") + b"\x00"
        return (tag, _ASCII, len(payload), payload)

    ifd0: list[tuple[int, int, int, bytes]] = []
    exif_ifd: list[tuple[int, int, int, bytes]] = []
    if make is not None:
        ifd0.append(ascii_entry(0x010F, make))
    if model is not None:
        ifd0.append(ascii_entry(0x0110, model))
    if software is not None:
        ifd0.append(ascii_entry(0x0131, software))
    if datetime_original is not None:
        exif_ifd.append(ascii_entry(0x9003, datetime_original))
    if user_comment is not None:
        payload = UNICODE_PREFIX + user_comment.encode("utf-16-be" if byte_order == "MM" else "utf-16-le")
        exif_ifd.append((0x9286, _UNDEFINED, len(payload), payload))
    if not ifd0 and not exif_ifd:
        return None
    if exif_ifd:
        # pointer value is patched in once IFD0's size is known (the entry itself has fixed size)
        exif_offset = 8 + _ifd_size(ifd0 + [(0x8769, _LONG, 1, b"\x00" * 4)])
        ifd0.append((0x8769, _LONG, 1, struct.pack(bo + "I", exif_offset)))
    tiff = (b"MM\x00\x2a" if byte_order == "MM" else b"II\x2a\x00") + struct.pack(bo + "I", 8)
    tiff += _ifd_bytes(ifd0, 8, bo)
    if exif_ifd:
        tiff += _ifd_bytes(exif_ifd, len(tiff), bo)
    return EXIF_HEADER + tiff


def _camera_fields(camera: Optional[Sequence[Optional[str]]]) -> dict[str, Optional[str]]:
    if camera is None:
        return {}
    if len(camera) != 3:
        raise ValueError("camera must be (make, model, datetime_original); use None for a missing part")
    make, model, dt = camera
    return {"make": make, "model": model, "datetime_original": dt}


def _write_with_exif(path: PathLike, fmt: str, *, user_comment, camera, software, size, seed, byte_order,
                     quality) -> Path:
    exif = build_exif(user_comment=user_comment, software=software, byte_order=byte_order,
                      **_camera_fields(camera))
    kwargs: dict[str, Any] = {"quality": quality}
    if exif is not None:
        kwargs["exif"] = exif  # for WebP Pillow strips the "Exif\0\0" header itself
    path = Path(path)
    make_pixels(size, mode="RGB", seed=seed).save(path, fmt, **kwargs)
    logger.debug("wrote %s %s (exif %s)", fmt, path, "yes" if exif else "no")
    return path


def write_jpeg(
    path: PathLike,
    *,
    user_comment: Optional[str] = None,
    camera: Optional[Sequence[Optional[str]]] = None,
    software: Optional[str] = None,
    size: tuple[int, int] = (64, 64),
    seed: int = 0,
    byte_order: str = "MM",
    quality: int = 85,
) -> Path:
    """Write a JPEG, with an EXIF APP1 block when ``user_comment``, ``camera``
    (``(Make, Model, DateTimeOriginal)``, parts may be None) or ``software`` is given.

    ``"YYYY:MM:DD HH:MM:SS"`` is the EXIF date format. Pillow refuses EXIF blocks over
    ~64 KB (a UserComment of ~32,000 characters), raising ValueError.
    """
    return _write_with_exif(path, "JPEG", user_comment=user_comment, camera=camera, software=software,
                            size=size, seed=seed, byte_order=byte_order, quality=quality)


def write_webp(
    path: PathLike,
    *,
    user_comment: Optional[str] = None,
    camera: Optional[Sequence[Optional[str]]] = None,
    software: Optional[str] = None,
    size: tuple[int, int] = (64, 64),
    seed: int = 0,
    byte_order: str = "MM",
    quality: int = 80,
) -> Path:
    """Write a (lossy, VP8X) WebP with an EXIF chunk built as for ``write_jpeg``."""
    return _write_with_exif(path, "WEBP", user_comment=user_comment, camera=camera, software=software,
                            size=size, seed=seed, byte_order=byte_order, quality=quality)


# --------------------------------------------------------------------------------------------
# A1111 infotext
# --------------------------------------------------------------------------------------------

class Verbatim(str):
    """A settings value that ``a1111_infotext`` writes as-is, without A1111's quoting
    (for tools such as Civitai that write e.g. ``Civitai resources: [{...}]`` unquoted)."""


def a1111_quote(value: Any) -> str:
    """A1111's ``quote()``: JSON-encode values containing ``,``, ``:`` or a newline.

    Like A1111, the test is on ``str(value)`` but ``json.dumps`` gets the value itself, so
    dicts and lists become JSON objects/arrays and strings become quoted JSON strings.
    """
    if isinstance(value, Verbatim):
        return str(value)
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(value, ensure_ascii=False)


def a1111_infotext(
    prompt: str,
    negative_prompt: Optional[str] = None,
    settings: Optional[Mapping[str, Any]] = None,
) -> str:
    """The infotext A1111's ``create_infotext`` writes.

    ``prompt``, then ``\\nNegative prompt: …`` only when the negative is non-empty, then
    ``\\n`` and the settings line ``Key: value, Key: value`` (values quoted by ``a1111_quote``;
    None values skipped; a key whose value equals the key is written bare), the whole
    ``.strip()``-ed as A1111 does.
    """
    settings = settings or {}
    line = ", ".join(
        k if k == v else f"{k}: {a1111_quote(v)}" for k, v in settings.items() if v is not None
    )
    negative = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    return f"{prompt}{negative}\n{line}".strip()


# --------------------------------------------------------------------------------------------
# ComfyUI graphs
# --------------------------------------------------------------------------------------------

def comfyui_graph(
    prompt: str,
    negative_prompt: str = "",
    *,
    model: str = "dreamshaper_8.safetensors",
    seed: int = 0,
    steps: int = 20,
    cfg: float = 7.0,
    sampler_name: str = "euler",
    scheduler: str = "normal",
    width: int = 512,
    height: int = 512,
    denoise: float = 1.0,
    loras: Sequence[tuple[str, float]] = (),
    filename_prefix: str = "ComfyUI",
) -> tuple[str, str, dict[str, Any]]:
    """A ComfyUI text-to-image graph as ComfyUI's SaveImage embeds it.

    CheckpointLoaderSimple -> [LoraLoader…] -> CLIPTextEncode (positive, negative) ->
    EmptyLatentImage -> KSampler -> VAEDecode -> SaveImage. Returns
    ``(prompt_json, workflow_json, truth)``: the API graph (``{id: {inputs, class_type,
    _meta}}``, links as ``["node_id", slot]``) and the UI workflow (``nodes``, ``links``
    ``[id, from, from_slot, to, to_slot, type]``), both serialised with ``json.dumps``
    defaults as ComfyUI does (so non-ASCII text appears as ``\\uXXXX`` escapes), and the
    ground truth in the database's vocabulary.
    """
    # ---- API graph -------------------------------------------------------------------------
    model_src: list[Any] = ["4", 0]
    clip_src: list[Any] = ["4", 1]
    lora_nodes: list[tuple[str, dict[str, Any]]] = []
    for i, (lora_name, strength) in enumerate(loras):
        nid = str(10 + i)
        lora_nodes.append((nid, {
            "inputs": {"lora_name": lora_name, "strength_model": strength, "strength_clip": strength,
                       "model": model_src, "clip": clip_src},
            "class_type": "LoraLoader", "_meta": {"title": "Load LoRA"}}))
        model_src, clip_src = [nid, 0], [nid, 1]
    api: dict[str, Any] = {
        "3": {"inputs": {"seed": seed, "steps": steps, "cfg": cfg, "sampler_name": sampler_name,
                         "scheduler": scheduler, "denoise": denoise, "model": model_src,
                         "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
              "class_type": "KSampler", "_meta": {"title": "KSampler"}},
        "4": {"inputs": {"ckpt_name": model},
              "class_type": "CheckpointLoaderSimple", "_meta": {"title": "Load Checkpoint"}},
        "5": {"inputs": {"width": width, "height": height, "batch_size": 1},
              "class_type": "EmptyLatentImage", "_meta": {"title": "Empty Latent Image"}},
        "6": {"inputs": {"text": prompt, "clip": clip_src},
              "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "7": {"inputs": {"text": negative_prompt, "clip": clip_src},
              "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}},
        "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]},
              "class_type": "VAEDecode", "_meta": {"title": "VAE Decode"}},
        "9": {"inputs": {"filename_prefix": filename_prefix, "images": ["8", 0]},
              "class_type": "SaveImage", "_meta": {"title": "Save Image"}},
    }
    api.update(lora_nodes)

    # ---- UI workflow -----------------------------------------------------------------------
    links: list[list[Any]] = []

    def link(src: int, src_slot: int, dst: int, dst_slot: int, typ: str) -> int:
        links.append([len(links) + 1, src, src_slot, dst, dst_slot, typ])
        return len(links)

    # model/clip chain through the LoRA loaders
    chain = [4] + [10 + i for i in range(len(loras))]
    lora_in: dict[int, tuple[int, int]] = {}
    for prev, nxt in zip(chain, chain[1:]):
        lora_in[nxt] = (link(prev, 0, nxt, 0, "MODEL"), link(prev, 1, nxt, 1, "CLIP"))
    last = chain[-1]
    l_model = link(last, 0, 3, 0, "MODEL")
    l_clip_pos = link(last, 1, 6, 0, "CLIP")
    l_clip_neg = link(last, 1, 7, 0, "CLIP")
    l_pos = link(6, 0, 3, 1, "CONDITIONING")
    l_neg = link(7, 0, 3, 2, "CONDITIONING")
    l_latent = link(5, 0, 3, 3, "LATENT")
    l_samples = link(3, 0, 8, 0, "LATENT")
    l_vae = link(4, 2, 8, 1, "VAE")
    l_image = link(8, 0, 9, 0, "IMAGE")

    def out_links(node_id: int, slot: int) -> list[int]:
        return [lk[0] for lk in links if lk[1] == node_id and lk[2] == slot]

    def node(nid: int, typ: str, order: int, pos: list[int], size: tuple[int, int],
             inputs: list[dict[str, Any]], outputs: list[tuple[str, int]], widgets: list[Any]) -> dict[str, Any]:
        return {
            "id": nid, "type": typ, "pos": pos, "size": {"0": size[0], "1": size[1]}, "flags": {},
            "order": order, "mode": 0, "inputs": inputs,
            "outputs": [{"name": name, "type": name, "links": out_links(nid, slot) or None,
                         "slot_index": slot} for name, slot in outputs],
            "properties": {"Node name for S&R": typ}, "widgets_values": widgets,
        }

    n_l = len(loras)
    nodes = [
        node(4, "CheckpointLoaderSimple", 0, [26, 474], (315, 98), [],
             [("MODEL", 0), ("CLIP", 1), ("VAE", 2)], [model]),
        node(5, "EmptyLatentImage", 1 + n_l, [473, 609], (315, 106), [],
             [("LATENT", 0)], [width, height, 1]),
    ]
    for i, (lora_name, strength) in enumerate(loras):
        nid = 10 + i
        nodes.append(node(nid, "LoraLoader", 1 + i, [200 + 40 * i, 300 + 40 * i], (315, 126),
                          [{"name": "model", "type": "MODEL", "link": lora_in[nid][0]},
                           {"name": "clip", "type": "CLIP", "link": lora_in[nid][1]}],
                          [("MODEL", 0), ("CLIP", 1)], [lora_name, strength, strength]))
    nodes += [
        node(6, "CLIPTextEncode", 2 + n_l, [415, 186], (422, 164),
             [{"name": "clip", "type": "CLIP", "link": l_clip_pos}], [("CONDITIONING", 0)], [prompt]),
        node(7, "CLIPTextEncode", 3 + n_l, [413, 389], (425, 180),
             [{"name": "clip", "type": "CLIP", "link": l_clip_neg}], [("CONDITIONING", 0)], [negative_prompt]),
        node(3, "KSampler", 4 + n_l, [863, 186], (315, 262),
             [{"name": "model", "type": "MODEL", "link": l_model},
              {"name": "positive", "type": "CONDITIONING", "link": l_pos},
              {"name": "negative", "type": "CONDITIONING", "link": l_neg},
              {"name": "latent_image", "type": "LATENT", "link": l_latent}],
             [("LATENT", 0)], [seed, "randomize", steps, cfg, sampler_name, scheduler, denoise]),
        node(8, "VAEDecode", 5 + n_l, [1209, 188], (210, 46),
             [{"name": "samples", "type": "LATENT", "link": l_samples},
              {"name": "vae", "type": "VAE", "link": l_vae}], [("IMAGE", 0)], []),
        node(9, "SaveImage", 6 + n_l, [1451, 189], (210, 270),
             [{"name": "images", "type": "IMAGE", "link": l_image}], [], [filename_prefix]),
    ]
    workflow = {
        "last_node_id": max(chain + [9]), "last_link_id": len(links), "nodes": nodes, "links": links,
        "groups": [], "config": {}, "extra": {"ds": {"scale": 1, "offset": [0, 0]}}, "version": 0.4,
    }
    truth = {
        "generator": "ComfyUI", "prompt": prompt, "negative_prompt": negative_prompt,
        "steps": steps, "seed": seed, "sampler": sampler_name, "scheduler": scheduler,
        "cfg_scale": float(cfg), "width": width, "height": height, "model": model,
        "denoising_strength": float(denoise), "loras": tuple((n, float(w)) for n, w in loras),
    }
    return json.dumps(api), json.dumps(workflow), truth


# --------------------------------------------------------------------------------------------
# The sample folder
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleImage:
    """One file written by ``make_sample_folder`` and what a correct indexer must find in it.

    ``path`` is relative to the output folder, with ``/`` separators. ``kind`` is the broad
    class (``a1111_png``, ``comfyui_png``, ``none_jpeg``, …), ``case`` the unique name of the
    edge case. Generation fields are as the tool wrote them (``sampler`` ``DPM++ 2M Karras``
    with ``scheduler`` None for old A1111, ``DPM++ 2M`` + ``Karras`` for ``Schedule type``;
    ComfyUI ``model`` is the ``ckpt_name``); ``width``/``height`` are the generation size,
    ``pixel_width``/``pixel_height`` the file's. ``settings`` holds the infotext's settings
    line as ``(key, value as written)`` pairs. ``written`` is the metadata exactly as stored,
    as ``(name, text)`` pairs in file order: PNG text-chunk keywords (``parameters``,
    ``prompt``, ``workflow``, ``Software``) or EXIF tag names (``UserComment``, ``Make``,
    ``Model``, ``DateTimeOriginal``).
    """

    path: str
    kind: str
    case: str
    format: str
    generator: Optional[str]
    prompt: Optional[str]
    negative_prompt: Optional[str]
    steps: Optional[int]
    seed: Optional[int]
    sampler: Optional[str]
    scheduler: Optional[str]
    cfg_scale: Optional[float]
    width: Optional[int]
    height: Optional[int]
    model: Optional[str]
    has_generation_data: bool
    model_hash: Optional[str] = None
    vae: Optional[str] = None
    denoising_strength: Optional[float] = None
    clip_skip: Optional[int] = None
    loras: tuple[tuple[str, float], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    pixel_width: int = 0
    pixel_height: int = 0
    camera: Optional[tuple[Optional[str], Optional[str], Optional[str]]] = None
    mtime_ns: int = 0
    written: tuple[tuple[str, str], ...] = ()
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def sample_by_case(samples: Iterable[SampleImage], case: str) -> SampleImage:
    """The sample with the given ``case`` name (KeyError if absent)."""
    for s in samples:
        if s.case == case:
            return s
    raise KeyError(case)


# ---- vocabulary -----------------------------------------------------------------------------

_QUALITY = ["masterpiece", "best quality", "high quality", "ultra detailed", "highres", "absurdres",
            "8k", "photorealistic", "raw photo", "intricate details", "sharp focus", "very aesthetic"]
_SUBJECTS = ["1girl", "1boy", "young woman", "old man", "knight", "samurai", "witch", "wizard", "elf",
             "robot", "astronaut", "pirate", "dragon", "cat", "fox", "wolf", "owl", "mermaid", "detective"]
_DESCRIPTORS = ["long hair", "silver hair", "blue eyes", "freckles", "smile", "looking at viewer",
                "full body", "upper body", "portrait", "dynamic pose", "holding sword", "armor", "cloak",
                "kimono", "hood", "glasses", "scarf", "flowers in hair"]
_SETTINGS = ["castle", "forest", "cyberpunk city", "beach", "mountains", "snowy village", "library",
             "cafe", "temple", "ruins", "underwater", "cathedral", "rooftop", "harbor", "lighthouse"]
_STYLES = ["oil painting", "watercolor", "digital painting", "concept art", "anime style", "ukiyo-e",
           "cinematic", "studio ghibli", "art nouveau", "dark fantasy", "by greg rutkowski",
           "trending on artstation", "35mm photograph", "kodak portra 400"]
_LIGHTING = ["volumetric lighting", "dramatic lighting", "soft lighting", "rim light", "golden hour",
             "moonlight", "neon lights", "god rays", "bokeh", "depth of field", "fog",
             "subsurface scattering", "cinematic lighting"]
_NEGATIVE = ["worst quality", "low quality", "lowres", "bad anatomy", "bad hands", "extra fingers",
             "missing fingers", "deformed", "blurry", "jpeg artifacts", "watermark", "signature", "text",
             "cropped", "out of frame", "poorly drawn face", "easynegative", "badhandv4", "monochrome"]
_LORAS = ["add_detail", "epiNoiseoffset_v2", "more_details", "LowRA", "ghibli_style_offset", "film_grain_v1"]
_UPSCALERS = ["Latent", "4x-UltraSharp", "R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B"]
_SD15_MODELS = ["dreamshaper_8", "realisticVisionV51_v51VAE", "revAnimated_v122EOL", "majicmixRealistic_v7",
                "epicrealism_naturalSinRC1VAE", "v1-5-pruned-emaonly"]
_SDXL_MODELS = ["sd_xl_base_1.0", "juggernautXL_v9Rundiffusionphoto2", "animagineXLV31_v31",
                "ponyDiffusionV6XL_v6StartWithThisOne"]
_OLD_SAMPLERS = ["Euler a", "Euler", "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ 2M SDE Karras", "DDIM", "UniPC"]
_NEW_SAMPLERS = [("DPM++ 2M", "Karras"), ("DPM++ SDE", "Karras"), ("Euler a", "Automatic"),
                 ("DPM++ 2M SDE", "Exponential"), ("Euler", "Automatic")]
_VAES = ["vae-ft-mse-840000-ema-pruned.safetensors", "sdxl_vae.safetensors", "kl-f8-anime2.ckpt"]
_A1111_VERSIONS = ["v1.6.0", "v1.7.0", "v1.8.0", "v1.9.4", "v1.10.1"]
_FORGE_VERSION = "f2.0.1v1.10.1-previous-224-g900196889"
_COMFY_SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde", "uni_pc"]
_COMFY_SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform"]
_CAMERAS = [("Canon", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON D850"), ("SONY", "ILCE-7M3")]


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
    parts = [f"({r.choice(_QUALITY[:2])}:1.2)"] + r.sample(_QUALITY[2:], r.randint(1, 3))
    parts += r.sample(_SUBJECTS, r.randint(1, 2))
    parts += [_weight(r, d) for d in r.sample(_DESCRIPTORS, r.randint(1, 4))]
    parts.append(r.choice(_SETTINGS))
    parts += r.sample(_STYLES, r.randint(0, 2))
    parts += [_weight(r, t) for t in r.sample(_LIGHTING, r.randint(1, 2))]
    return ", ".join(parts)


def _sd_negative(r: random.Random) -> str:
    neg = r.sample(_NEGATIVE, r.randint(3, 9))
    return ", ".join(f"({n}:1.4)" if r.random() < 0.2 else n for n in neg)


# ---- case builders ----------------------------------------------------------------------------

@dataclass
class _Spec:
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
    model = model or r.choice(_SD15_MODELS)
    width, height = size or r.choice([(512, 512), (512, 768), (768, 512)])
    steps = steps if steps is not None else r.randint(20, 40)
    seed = seed if seed is not None else r.randint(0, 2**32 - 1)
    cfg = cfg if cfg is not None else r.choice([4, 5, 5.5, 6, 7, 7, 7.5, 8])
    sched: Optional[str]
    if new_sampler:
        sampler_name, sched = r.choice(_NEW_SAMPLERS) if sampler is None else (sampler, schedule)
    else:
        sampler_name, sched = (sampler or r.choice(_OLD_SAMPLERS)), None
    vae_name = r.choice(_VAES) if vae else None
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
        version = r.choice(_A1111_VERSIONS)
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


def _specs(seed: int) -> list[_Spec]:
    def rng(case: str) -> random.Random:
        return random.Random(f"exifdata-samples:{seed}:{case}")

    specs: list[_Spec] = []

    def a1111_png(folder: str, name_no: int, case: str, notes: str, *, kind: str = "a1111_png",
                  png_opts: Optional[dict[str, Any]] = None, png_mode: str = "RGB",
                  **kwargs: Any) -> _Spec:
        text, truth = _a1111(rng(case), **kwargs)
        spec = _Spec(path=f"{folder}/{name_no:05d}-{truth['seed']}.png", kind=kind, case=case,
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
              prompt=f"{_sd_prompt(r)},\n{r.choice(_SETTINGS)}, {r.choice(_LIGHTING)}\nBREAK\n"
                     f"{r.choice(_STYLES)}, {r.choice(_STYLES)}",
              negative=f"{_sd_negative(r)},\n{r.choice(_NEGATIVE)}", new_sampler=True)
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
              version=_FORGE_VERSION, extra_before=[("Distilled CFG Scale", 3.5)],
              extra_after=[("Module 1", "ae"), ("Module 2", "clip_l"), ("Module 3", "t5xxl_fp16")])
    a1111_png(forge, 1, "forge_sdxl", "Forge SDXL with Version f2.0.1v1.10.1-previous-…", kind="forge_png",
              generator="Forge", model=rng("forge_sdxl_model").choice(_SDXL_MODELS), size=(832, 1216),
              new_sampler=True, version=_FORGE_VERSION, clip_skip=2)

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
    specs.append(_Spec(path=f"civitai/{truth['seed']}.png", kind="civitai_png", case="civitai_png",
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
    specs.append(_Spec(path=f"civitai/{truth['seed']}.jpeg", kind="civitai_jpeg", case="civitai_jpeg",
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
        specs.append(_Spec(path=f"{t2i_b}/{no:05d}-{truth['seed']}{ext}",
                           kind="a1111_jpeg" if fmt == "JPEG" else "a1111_webp", case=case, format=fmt,
                           truth=truth, user_comment=text, byte_order=bo,
                           pixel_size=_pixel_size(truth["width"], truth["height"]), notes=notes))

    # ---- ComfyUI ------------------------------------------------------------------------------
    def comfy(folder: str, no: int, case: str, notes: str, **kw: Any) -> None:
        r = rng(case)
        prompt = kw.pop("prompt", None) or _sd_prompt(r)
        negative = kw.pop("negative_prompt", None) or _sd_negative(r)
        model = kw.pop("model", None) or r.choice(_SD15_MODELS) + ".safetensors"
        width, height = kw.pop("size", None) or r.choice([(512, 512), (512, 768), (768, 512)])
        pj, wj, truth = comfyui_graph(
            prompt, negative, model=model, seed=r.randint(0, 2**50), steps=r.randint(20, 40),
            cfg=r.choice([5.0, 6.0, 6.5, 7.0, 7.5, 8.0]), sampler_name=r.choice(_COMFY_SAMPLERS),
            scheduler=r.choice(_COMFY_SCHEDULERS), width=width, height=height,
            filename_prefix="%date:yyyy-MM-dd%/ComfyUI", **kw)
        truth["settings"] = ()
        specs.append(_Spec(path=f"{folder}/ComfyUI_{no:05d}_.png", kind="comfyui_png", case=case,
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
    make, model = r.choice(_CAMERAS)
    camera = (make, model, f"2024:03:{r.randint(1, 13):02d} {r.randint(8, 20):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}")
    specs += [
        _Spec(path="misc/IMG_0001.jpg", kind="camera_jpeg", case="camera_jpeg", format="JPEG",
              truth=dict(none_truth), camera=camera, pixel_size=(96, 72),
              notes="camera photo: IFD0 Make/Model, ExifIFD DateTimeOriginal, no generation data"),
        _Spec(path="misc/IMG_0002.jpg", kind="none_jpeg", case="none_jpeg", format="JPEG",
              truth=dict(none_truth), pixel_size=(72, 96), notes="JPEG without any EXIF"),
        _Spec(path="misc/screenshot.png", kind="none_png", case="none_png", format="PNG",
              truth=dict(none_truth), pixel_size=(96, 54), notes="PNG without text chunks"),
        _Spec(path="misc/edited.png", kind="none_png", case="none_png_software", format="PNG",
              truth=dict(none_truth), png_text=[("Software", "GIMP 2.10.36")], pixel_size=(64, 64),
              notes="PNG with an unrelated Software tEXt chunk only"),
        _Spec(path="misc/grayscale.png", kind="none_png", case="none_png_grayscale", format="PNG",
              truth=dict(none_truth), png_mode="L", pixel_size=(48, 48), notes="mode L PNG, no metadata"),
    ]
    return specs


def _mtime_ns(spec_index: int, path: str) -> int:
    """A fixed modification time for each file: the date folder's day (when the path has one)
    at 10:00 UTC plus a few minutes per file."""
    day = datetime(2024, 3, 14, tzinfo=timezone.utc)
    for part in path.split("/"):
        try:
            day = datetime.strptime(part, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            break
        except ValueError:
            continue
    seconds = int(day.timestamp()) + 10 * 3600 + 137 * spec_index
    return seconds * 1_000_000_000


def make_sample_folder(out_dir: PathLike, *, seed: int = 0, set_mtimes: bool = True) -> list[SampleImage]:
    """Write the sample image tree into ``out_dir`` (created if needed) and return its truth.

    Deterministic for a given ``seed``: same relative paths, same bytes (and, with
    ``set_mtimes``, the same modification times). Existing files at those paths are replaced;
    other files in ``out_dir`` are left alone.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    samples: list[SampleImage] = []
    for index, spec in enumerate(_specs(seed)):
        target = root / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        pixel_seed = zlib.crc32(f"{seed}:{spec.case}".encode("utf-8"))
        if spec.format == "PNG":
            write_png(target, spec.png_text, size=spec.pixel_size, mode=spec.png_mode, seed=pixel_seed,
                      **(spec.png_opts or {}))
        elif spec.format == "JPEG":
            write_jpeg(target, user_comment=spec.user_comment, camera=spec.camera, size=spec.pixel_size,
                       seed=pixel_seed, byte_order=spec.byte_order)
        elif spec.format == "WEBP":
            write_webp(target, user_comment=spec.user_comment, size=spec.pixel_size, seed=pixel_seed,
                       byte_order=spec.byte_order)
        else:  # pragma: no cover - specs are internal
            raise ValueError(f"unknown sample format {spec.format!r}")
        mtime_ns = _mtime_ns(index, spec.path) if set_mtimes else target.stat().st_mtime_ns
        if set_mtimes:
            os.utime(target, ns=(mtime_ns, mtime_ns))
        t = spec.truth
        written: list[tuple[str, str]] = list(spec.png_text)
        if spec.user_comment is not None:
            written.append(("UserComment", spec.user_comment))
        if spec.camera is not None:
            written += [(name, value) for name, value in zip(("Make", "Model", "DateTimeOriginal"), spec.camera)
                        if value is not None]
        samples.append(SampleImage(
            path=spec.path, kind=spec.kind, case=spec.case, format=spec.format,
            generator=t.get("generator"), prompt=t.get("prompt"), negative_prompt=t.get("negative_prompt"),
            steps=t.get("steps"), seed=t.get("seed"), sampler=t.get("sampler"), scheduler=t.get("scheduler"),
            cfg_scale=t.get("cfg_scale"), width=t.get("width"), height=t.get("height"), model=t.get("model"),
            has_generation_data=t.get("generator") is not None,
            model_hash=t.get("model_hash"), vae=t.get("vae"), denoising_strength=t.get("denoising_strength"),
            clip_skip=t.get("clip_skip"), loras=tuple(t.get("loras", ())), settings=tuple(t.get("settings", ())),
            pixel_width=spec.pixel_size[0], pixel_height=spec.pixel_size[1], camera=spec.camera,
            mtime_ns=mtime_ns, written=tuple(written), notes=spec.notes,
        ))
    logger.info("wrote %d sample images to %s (seed %d)", len(samples), root, seed)
    return samples
