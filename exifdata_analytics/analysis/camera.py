"""Ordinary photos in the library: camera, lens and exposure distributions from the EXIF of
rows without generation data."""
from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from ..parsers.tags import IndexedTags, find_tag
from .columns import id_lookup
from .counts import Counts, counts_from_counter, format_number

logger = logging.getLogger(__name__)

CAMERA_FIELDS = ("Camera", "Lens", "ISO", "Aperture", "Exposure time", "Focal length")


# the number a focal length starts with ('50.0 mm'); '[\d.]+' took '1.2.3', which float() refuses
_FOCAL_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _clean_exif(value) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    if not text or len(text) > 80 or "{" in text or text.lower() in ("unknown", "n/a", "none", "0"):
        return None  # ComfyUI hides its workflow JSON in EXIF Make/Model: not a camera
    return text


def camera_fields(tags: dict) -> dict[str, Optional[str]]:
    """Camera, lens, ISO, aperture, exposure and focal length from one ExifTool tag dict."""
    make = _clean_exif(find_tag(tags, "Make"))
    model = _clean_exif(find_tag(tags, "Model"))
    if make and model:
        camera = model if model.lower().startswith(make.split()[0].lower()) else f"{make} {model}"
    else:
        camera = model or make
    # LensID/Aperture/ShutterSpeed are Composite tags: only in rows read before ExifTool ran with -e
    lens = next((v for v in (_clean_exif(find_tag(tags, n))
                             for n in ("LensModel", "LensID", "Lens", "LensType", "LensInfo")) if v), None)
    iso = _clean_exif(find_tag(tags, "ISO"))
    fnumber = _clean_exif(find_tag(tags, "FNumber") or find_tag(tags, "Aperture")
                          or find_tag(tags, "ApertureValue"))
    if fnumber:
        try:
            fnumber = "f/" + format_number(float(fnumber))
        except ValueError:
            pass
    exposure = _clean_exif(find_tag(tags, "ExposureTime") or find_tag(tags, "ShutterSpeed")
                           or find_tag(tags, "ShutterSpeedValue"))
    if exposure and not exposure.endswith("s"):
        exposure += " s"
    focal = _clean_exif(find_tag(tags, "FocalLength"))
    if focal:
        number = _FOCAL_NUMBER.match(focal)
        if number:
            focal = format_number(float(number.group(1))) + " mm"
    return {"Camera": camera, "Lens": lens, "ISO": iso, "Aperture": fnumber, "Exposure time": exposure,
            "Focal length": focal}


@dataclass(frozen=True)
class CameraStats:
    images: int = 0
    fields: tuple[Counts, ...] = ()


def camera_stats(con: sqlite3.Connection, ids: pd.Series) -> CameraStats:
    """Distributions for ordinary photos: rows without generation data whose EXIF names a camera."""
    if ids.empty:
        return CameraStats()
    counters = {name: Counter() for name in CAMERA_FIELDS}
    wanted = id_lookup(ids)
    photos = 0
    cur = con.execute("SELECT id, raw_json FROM images WHERE generator IS NULL AND raw_json LIKE '%Make\"%'")
    for image_id, raw in cur:
        if not raw or not wanted(image_id):
            continue
        try:
            tags = json.loads(raw)
        except ValueError:
            continue
        if isinstance(tags, list):
            tags = tags[0] if tags and isinstance(tags[0], dict) else {}
        if not isinstance(tags, dict):
            continue
        values = camera_fields(IndexedTags(tags))
        if not values["Camera"]:
            continue
        photos += 1
        for name, value in values.items():
            if value:
                counters[name][value] += 1
    if not photos:
        return CameraStats()
    return CameraStats(photos, tuple(counts_from_counter(name, counters[name]) for name in CAMERA_FIELDS))
