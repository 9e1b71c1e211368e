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

Modules, one job each: ``pixels`` (the image content), ``png`` (PNG chunks), ``exif`` (the
EXIF block, JPEG and WebP), ``infotext`` (A1111 text), ``comfy`` (ComfyUI graphs),
``vocabulary`` (the word and name lists), ``xmp`` (XMP packets: star ratings), ``cases`` (the
sample folder's edge cases) and ``folder`` (writing the folder).
"""
from __future__ import annotations

import logging

from .comfy import comfyui_graph
from .exif import build_exif, write_jpeg, write_webp
from .folder import SampleImage, make_sample_folder, sample_by_case
from .infotext import Verbatim, a1111_infotext, a1111_quote
from .pixels import make_pixels
from .png import png_chunks, write_png
from .xmp import XMP_PNG_KEYWORD, xmp_packet

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
    "XMP_PNG_KEYWORD",
    "xmp_packet",
]
