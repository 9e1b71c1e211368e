"""Generation data hidden in pixels ("stealth pnginfo"), which ExifTool cannot see.

The A1111 stealth-pnginfo extension (and NovelAI) write the infotext into the least
significant bits of the alpha channel (``stealth_pnginfo``, gzipped: ``stealth_pngcomp``) or
of the RGB channels (``stealth_rgbinfo``/``stealth_rgbcomp``), column by column: x outer,
y inner. The bit stream is a 15-byte signature, a 32-bit big-endian payload length in bits,
then the payload. Pillow decodes the pixels; numpy picks the bits.

Only called for PNG/WebP files in which no text metadata was found, so the common case
never pays for decoding pixels.
"""
from __future__ import annotations

import gzip
import logging
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .safe_files import open_regular

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

# The key under which stealth text joins a file's tag dict for the parsers.
STEALTH_TAG = "Stealth:Parameters"

_SIGNATURE_BITS = 15 * 8
_LENGTH_BITS = 32
_ALPHA_SIGNATURES = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}
_RGB_SIGNATURES = {b"stealth_rgbinfo": False, b"stealth_rgbcomp": True}
# A payload longer than this is not a prompt but noise that happened to match.
_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class StealthText:
    signature: str
    text: str


# Decoding costs 4 bytes per RGBA pixel. Past an 8K upscale, a PNG without text metadata is
# far more likely a decompression bomb (a few hundred KB of zeros) than a stealth prompt.
_MAX_PIXELS = 8192 * 8192


def _bits_column_major(channel_lsb: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` bits of an (h, w[, c]) LSB array read x outer, y inner[, c inner]."""
    import numpy as np
    h = channel_lsb.shape[0]
    per_column = h * (channel_lsb.shape[2] if channel_lsb.ndim == 3 else 1)
    columns = min(channel_lsb.shape[1], -(-count // per_column))
    part = channel_lsb[:, :columns]
    part = np.swapaxes(part, 0, 1)  # (columns, h[, c])
    return part.reshape(-1)[:count]


def _decode(lsb_columns, total: int, per_column: int, signatures: dict) -> Optional[StealthText]:
    """``lsb_columns(n)``: the LSB array of the first n pixel columns. Only the columns the
    bits sit in are converted, so memory stays near the decoded image's own size."""
    import numpy as np
    if total < _SIGNATURE_BITS + _LENGTH_BITS:
        return None

    def bits(count: int) -> np.ndarray:
        return _bits_column_major(lsb_columns(-(-count // per_column)), count)

    head = np.packbits(bits(_SIGNATURE_BITS + _LENGTH_BITS)).tobytes()
    signature = head[:15]
    if signature not in signatures:
        return None
    length_bits = int.from_bytes(head[15:19], "big")
    if length_bits <= 0 or length_bits > min(total - _SIGNATURE_BITS - _LENGTH_BITS, _MAX_PAYLOAD_BYTES * 8):
        logger.debug("stealth signature %s with impossible length %d", signature, length_bits)
        return None
    payload = np.packbits(bits(_SIGNATURE_BITS + _LENGTH_BITS + length_bits)[_SIGNATURE_BITS + _LENGTH_BITS:]).tobytes()
    if signatures[signature]:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError, zlib.error) as exc:
            logger.debug("stealth payload does not decompress: %s", exc)
            return None
    return StealthText(signature.decode(), payload.decode("utf-8", errors="replace"))


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_signature_bits(path: str) -> Optional[dict[str, bytes]]:
    """The 15 bytes where a stealth signature would sit, read from the first rows only, for
    the usual PNG (8-bit RGB or RGBA, not interlaced, at least as tall as the alpha signature
    is long): {'alpha': …, 'rgb': …}. None when the file is anything else, so the full decode
    decides. Decoding a whole 1024×1024 PNG to find no signature cost ~8 ms per file."""
    rows = _SIGNATURE_BITS  # alpha: one bit per pixel of column 0; RGB needs a third of that
    with open_regular(path) as fh:
        if fh.read(8) != _PNG_MAGIC:
            return None
        length, kind = struct.unpack(">I4s", fh.read(8))
        if kind != b"IHDR" or length != 13:
            return None
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", fh.read(13))
        fh.read(4)  # CRC
        if depth != 8 or colour not in (2, 6) or interlace or height < rows or width == 0:
            return None
        bpp = 3 if colour == 2 else 4
        stride = 1 + width * bpp
        need = rows * stride
        inflate = zlib.decompressobj()
        raw = bytearray()
        while len(raw) < need:
            header = fh.read(8)
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                raw += inflate.decompress(fh.read(length), need - len(raw))
                fh.read(4)
            elif kind == b"IEND":
                return None
            else:
                fh.seek(length + 4, 1)
    # column 0 of each row: with no pixel to its left, every PNG filter predicts it from the
    # pixel above only (Sub: 0, Up/Paeth: above, Average: above // 2)
    above = [0] * bpp
    alpha_bits, rgb_bits = [], []
    for row in range(rows):
        start = row * stride
        kind = raw[start]
        pixel = []
        for c in range(bpp):
            value = raw[start + 1 + c]
            if kind in (2, 4):
                value += above[c]
            elif kind == 3:
                value += above[c] // 2
            pixel.append(value & 0xFF)
        above = pixel
        if bpp == 4:
            alpha_bits.append(pixel[3] & 1)
        rgb_bits.extend(v & 1 for v in pixel[:3])

    def packed(bits: list[int]) -> bytes:
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, _SIGNATURE_BITS, 8))

    found = {"rgb": packed(rgb_bits)}
    if bpp == 4:
        found["alpha"] = packed(alpha_bits)
    return found


def _png_without_stealth(path: str) -> bool:
    """True when the first rows of a usual PNG show no stealth signature (no need to decode it)."""
    try:
        heads = _png_signature_bits(path)
    except (OSError, zlib.error, struct.error):
        return False  # let the full decode judge
    if heads is None:
        return False
    return heads.get("alpha") not in _ALPHA_SIGNATURES and heads["rgb"] not in _RGB_SIGNATURES


def read_stealth_text(path: str) -> Optional[StealthText]:
    """The stealth text of an image, or None (also for unreadable, odd or oversized images)."""
    if _png_without_stealth(path):
        return None
    import numpy as np  # imported on first use: most runs never decode pixels
    from PIL import Image

    try:
        # a regular file, checked when opened: a FIFO or /dev/zero swapped in is never decoded
        with open_regular(path) as fh, Image.open(fh) as img:
            w, h = img.size
            if w * h > _MAX_PIXELS:
                logger.debug("not looking for stealth data in %s: %dx%d pixels", path, w, h)
                return None
            img.load()
            mode = img.mode
            has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)

            def columns(n: int):
                return img.crop((0, 0, min(w, n), h))

            if has_alpha:
                def alpha_lsb(n: int) -> np.ndarray:
                    part = columns(n)
                    part = part if mode in ("RGBA", "LA") else part.convert("RGBA")
                    return np.asarray(part.getchannel("A")) & 1

                found = _decode(alpha_lsb, w * h, h, _ALPHA_SIGNATURES)
                if found:
                    return found
            if mode in ("RGB", "RGBA"):
                def rgb_lsb(n: int) -> np.ndarray:
                    part = columns(n)
                    return np.asarray(part.convert("RGB") if mode != "RGB" else part) & 1

                return _decode(rgb_lsb, w * h * 3, h * 3, _RGB_SIGNATURES)
    except Exception as exc:  # noqa: BLE001 - a broken image simply has no stealth data
        logger.debug("no stealth data read from %s: %r", path, exc)
    return None


def embed_stealth_text(img, text: str, *, compress: bool = False, channel: str = "alpha"):
    """Write ``text`` into a Pillow image the way the stealth-pnginfo extension does (for
    tests and sample images). Returns a new image (RGBA for alpha, RGB for rgb)."""
    import numpy as np
    from PIL import Image

    data = text.encode("utf-8")
    if compress:
        data = gzip.compress(data)
    if channel == "alpha":
        signature = b"stealth_pngcomp" if compress else b"stealth_pnginfo"
        img = img.convert("RGBA")
    else:
        signature = b"stealth_rgbcomp" if compress else b"stealth_rgbinfo"
        img = img.convert("RGB")
    payload_bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    bits = np.concatenate([
        np.unpackbits(np.frombuffer(signature, dtype=np.uint8)),
        np.unpackbits(np.frombuffer(len(payload_bits).to_bytes(4, "big"), dtype=np.uint8)),
        payload_bits,
    ])
    arr = np.array(img)
    target = arr[:, :, 3:4] if channel == "alpha" else arr[:, :, :3]
    h, w, c = target.shape
    if bits.size > h * w * c:
        raise ValueError("image too small for the text")
    flat = np.swapaxes(target, 0, 1).reshape(-1).copy()  # x outer, y inner, c inner
    flat[:bits.size] = (flat[:bits.size] & 0xFE) | bits
    target[...] = np.swapaxes(flat.reshape(w, h, c), 0, 1)
    return Image.fromarray(arr, img.mode)
