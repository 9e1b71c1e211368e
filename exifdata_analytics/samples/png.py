"""PNG files with text chunks written exactly where the generators put them.

The chunk stream is assembled here by hand (Pillow only encodes the pixels), so tEXt / zTXt /
iTXt chunks can go before or after IDAT, in any order, repeated, or (as many tools wrongly do)
with raw UTF-8 inside tEXt.
"""
from __future__ import annotations

import io
import logging
import struct
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

from .pixels import PathLike, make_pixels

logger = logging.getLogger(__name__)

TextChunks = Union[Mapping[str, str], Sequence[tuple[str, str]]]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def _time_chunk(when: datetime) -> bytes:
    utc = when.astimezone(timezone.utc) if when.tzinfo else when
    return _chunk(b"tIME", struct.pack(">HBBBBB", utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second))


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
    modified: Optional[datetime] = None,
) -> Path:
    """Write a PNG with the given text chunks, in the given order (repeated keywords allowed).

    Chunk type per text: ``itxt=None`` (default) uses tEXt when the text is Latin-1 and iTXt
    (UTF-8) otherwise, as Pillow and A1111 do; ``itxt=True`` forces iTXt; ``itxt=False`` forces
    tEXt (ValueError for non-Latin-1 text). ``raw_utf8_in_text=True`` puts the UTF-8 bytes in
    a tEXt chunk regardless (ExifTool then shows mojibake). ``compress=True`` writes zTXt (or
    compressed iTXt). ``text_after_idat=True`` puts the text chunks between the last IDAT and
    IEND. ``modified`` writes a tIME chunk (the PNG spec's "time of the last image
    modification", in UTC; a naive datetime is taken as UTC) before IDAT, where the spec puts
    it. Returns the path written.
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
            if modified is not None:
                out.append(_time_chunk(modified))
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
