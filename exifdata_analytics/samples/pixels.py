"""The deterministic pixels every sample writer encodes, and the path type the writers accept."""
from __future__ import annotations

import logging
import os
from typing import Union

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]


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
