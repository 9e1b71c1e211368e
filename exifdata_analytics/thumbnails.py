"""Thumbnails of indexed images (the report's examples, the browser's grid): made with Pillow on
first request and cached on disk by content, so a second visit reads a small file.

The cache key is the image's sha256 when the database has it (a moved or copied file keeps its
thumbnail), else a hash of path, size and mtime. Cached files are JPEG (every browser shows them,
and they are a few KB each); images with transparency are flattened onto white. The source is
read through ``safe_files.open_regular``: a FIFO or device swapped in for an image, or a file
over the size cap, is refused, and Pillow's decompression-bomb guard stays on. Nothing here
writes anywhere but the cache folder, and each cached file is written whole (``atomic_write``).

Videos (MP4, MOV, WebM, MKV) get a poster frame: their first picture, decoded with PyAV (FFmpeg's
libraries, a wheel from PyPI) when it is installed, else a ThumbnailError that says so. Only the
start of the file is read, so the size cap does not apply to them; frames larger than Pillow's
bomb limit are refused like images.
"""
from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .errors import ExifDataError
from .safe_files import atomic_write, open_regular
from .scan import is_video_name

logger = logging.getLogger(__name__)

SIZES = (96, 160, 320)  # long side in pixels: the report's examples, the grid, the image page
DEFAULT_SIZE = 160
JPEG_QUALITY = 82
MAX_SOURCE_BYTES = 512 * 1024 * 1024  # larger files are not decoded for a thumbnail
POSTER_PACKETS = 500  # packets read at most looking for a video's first frame
# Formats Pillow can decode that generators write; a video has no frame Pillow can read
IMAGE_FORMATS = frozenset({"PNG", "JPEG", "JPG", "WEBP", "GIF", "BMP", "TIFF", "AVIF", "HEIC", "HEIF", "JXL"})


class ThumbnailError(ExifDataError):
    """No thumbnail can be made of this file (say why; the caller shows a placeholder)."""


@dataclass(frozen=True)
class Source:
    """What the database knows of an image: enough to find and key its thumbnail."""

    path: str
    sha256: Optional[str] = None
    size_bytes: Optional[int] = None
    mtime_ns: Optional[int] = None


def cache_key(source: Source, size: int) -> str:
    """The thumbnail's file name in the cache: content hash when known, else path+size+mtime."""
    if source.sha256:
        base = source.sha256.lower()
    else:
        base = hashlib.sha256(f"{source.path}\0{source.size_bytes}\0{source.mtime_ns}".encode("utf-8",
                                                                                             "surrogatepass")).hexdigest()
    return f"{base[:2]}/{base}-{size}.jpg"


def _checked_size(size: int) -> int:
    if size not in SIZES:
        raise ValueError(f"thumbnail size {size} is not one of {SIZES}")
    return size


def thumbnail_path(source: Source, cache_dir: Path, size: int = DEFAULT_SIZE) -> Path:
    """The cached thumbnail of ``source``, made first when missing. ThumbnailError when the
    file cannot be read as an image."""
    size = _checked_size(size)
    target = Path(cache_dir) / cache_key(source, size)
    if target.is_file():
        return target
    data = render(source.path, size)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, "wb") as fh:
        fh.write(data)
    return target


def thumbnail_bytes(source: Source, cache_dir: Optional[Path], size: int = DEFAULT_SIZE) -> bytes:
    """The JPEG bytes of the thumbnail; cached in ``cache_dir`` when one is given."""
    if cache_dir is None:
        return render(source.path, _checked_size(size))
    return thumbnail_path(source, cache_dir, size).read_bytes()


def render(path: str, size: int) -> bytes:
    """A JPEG of the image at ``path`` (a video's first frame) whose long side is at most ``size`` pixels."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with open_regular(path) as fh:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                if is_video_name(path):
                    flat = _fitted(poster_frame(fh, path), size)
                else:
                    if fh.seek(0, io.SEEK_END) > MAX_SOURCE_BYTES:
                        raise ThumbnailError(f"{path}: larger than {MAX_SOURCE_BYTES // 2**20} MB, no thumbnail")
                    fh.seek(0)
                    with Image.open(fh) as im:
                        if im.format and im.format.upper() not in IMAGE_FORMATS:
                            raise ThumbnailError(f"{path}: {im.format} is not an image format for thumbnails")
                        im.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
                        im.seek(0)  # the first frame of an animation
                        flat = _fitted(ImageOps.exif_transpose(im), size)
    except ThumbnailError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError, EOFError, SyntaxError) as exc:
        raise ThumbnailError(f"{path}: no thumbnail ({type(exc).__name__}: {exc})"[:300]) from None
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def poster_frame(fh, path: str):
    """The first picture of the video open in ``fh``, as a Pillow image (PyAV decodes it)."""
    from PIL import Image

    try:
        import av
    except ImportError:
        raise ThumbnailError(f"{path}: a video; its poster frame needs PyAV (pip install av)") from None
    try:
        with av.open(fh, mode="r") as container:
            if not container.streams.video:
                raise ThumbnailError(f"{path}: no video track")
            stream = container.streams.video[0]
            pixels = (stream.codec_context.width or 0) * (stream.codec_context.height or 0)
            if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:
                raise ThumbnailError(f"{path}: a {pixels:,}-pixel frame is over the decompression-bomb limit")
            for count, packet in enumerate(container.demux(stream)):
                if count >= POSTER_PACKETS:
                    break
                for frame in packet.decode():
                    return frame.to_image()
    except av.error.FFmpegError as exc:
        raise ThumbnailError(f"{path}: no poster frame ({exc})"[:300]) from None
    raise ThumbnailError(f"{path}: no frame in its first {POSTER_PACKETS} packets")


def _fitted(im, size: int):
    """``im`` shrunk to a long side of at most ``size`` pixels, on white where it was transparent."""
    from PIL import Image

    im.thumbnail((size, size), Image.Resampling.LANCZOS)
    return _flattened(im)


def _flattened(im):
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im.convert("RGB")
