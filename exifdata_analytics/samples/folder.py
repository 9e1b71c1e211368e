"""The sample folder: write every case's file and return what a correct indexer must find in it."""
from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

from .cases import sample_specs
from .exif import write_jpeg, write_webp
from .pixels import PathLike
from .png import write_png

logger = logging.getLogger(__name__)


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
    for index, spec in enumerate(sample_specs(seed)):
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
