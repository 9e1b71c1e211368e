"""An EXIF (TIFF) block built by hand, and the JPEG and WebP writers that embed it.

Built by hand so the byte order and the UserComment encoding (``b"UNICODE\\0"`` + UTF-16) are
exactly those of the tools that write them; Pillow only encodes the pixels.
"""
from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any, Optional, Sequence

from .pixels import PathLike, make_pixels

logger = logging.getLogger(__name__)

EXIF_HEADER = b"Exif\x00\x00"
UNICODE_PREFIX = b"UNICODE\x00"

_ASCII, _SHORT, _LONG, _UNDEFINED = 2, 3, 4, 7
RATING_TAG = 0x4746  # IFD0 Rating (Windows' star rating, 0..5)


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
    rating: Optional[int] = None,
    byte_order: str = "MM",
) -> Optional[bytes]:
    """``b"Exif\\0\\0"`` + a TIFF block (IFD0 with Make/Model/Software and the ExifIFD pointer;
    ExifIFD with DateTimeOriginal and UserComment), or None when there is nothing to write.

    UserComment is ``b"UNICODE\\0"`` + UTF-16 in the TIFF byte order: big-endian for ``MM``
    (what piexif writes for A1111), little-endian for ``II``. ASCII fields are UTF-8 encoded.
    ``rating`` (0..5 stars) is IFD0's Rating, a SHORT, as Windows writes it.
    """
    if byte_order not in ("MM", "II"):
        raise ValueError(f"byte_order must be 'MM' or 'II', got {byte_order!r}")
    if rating is not None and not 0 <= rating <= 5:
        raise ValueError(f"an EXIF rating is 0..5 stars, got {rating!r}")
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
    if rating is not None:
        ifd0.append((RATING_TAG, _SHORT, 1, struct.pack(bo + "H", rating)))
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
                     quality, rating=None) -> Path:
    exif = build_exif(user_comment=user_comment, software=software, rating=rating, byte_order=byte_order,
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
    rating: Optional[int] = None,
) -> Path:
    """Write a JPEG, with an EXIF APP1 block when ``user_comment``, ``camera``
    (``(Make, Model, DateTimeOriginal)``, parts may be None), ``software`` or ``rating`` (IFD0
    Rating, 0..5 stars) is given.

    ``"YYYY:MM:DD HH:MM:SS"`` is the EXIF date format. Pillow refuses EXIF blocks over
    ~64 KB (a UserComment of ~32,000 characters), raising ValueError.
    """
    return _write_with_exif(path, "JPEG", user_comment=user_comment, camera=camera, software=software,
                            size=size, seed=seed, byte_order=byte_order, quality=quality, rating=rating)


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
