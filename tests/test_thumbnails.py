"""thumbnails: real images written with their metadata, Pillow reading them back; the cache keyed
by content (a copy shares its thumbnail), written once; hostile sources refused with a reason."""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from exifdata_analytics.config import load_settings
from exifdata_analytics.safe_files import sha256_of_file
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from exifdata_analytics.thumbnails import SIZES, Source, ThumbnailError, cache_key, render, thumbnail_bytes, thumbnail_path


def _source(path: Path) -> Source:
    st = path.stat()
    return Source(str(path), sha256_of_file(path), st.st_size, st.st_mtime_ns)


def _opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_a_png_with_its_recipe_becomes_a_jpeg_within_the_size(tmp_path):
    png = write_png(tmp_path / "wide.png", {"parameters": a1111_infotext("a cat", "", {"Steps": 20})},
                    size=(640, 320), seed=3)
    for size in SIZES:
        im = _opened(render(str(png), size))
        assert im.format == "JPEG" and max(im.size) == size and im.size == (size, size // 2)


def test_transparency_is_flattened_onto_white(tmp_path):
    path = tmp_path / "clear.png"
    Image.new("RGBA", (100, 50), (255, 0, 0, 0)).save(path)
    im = _opened(render(str(path), 96))
    assert im.mode == "RGB" and all(v > 245 for v in im.getpixel((10, 10)))


def test_a_jpeg_is_decoded_at_a_reduced_scale_and_keeps_its_aspect(tmp_path):
    jpg = write_jpeg(tmp_path / "photo.jpg", camera=("Canon", "EOS R5", "2024:05:01 12:00:00"), size=(1200, 800))
    im = _opened(render(str(jpg), 160))
    assert im.size == (160, 107)


def test_the_cache_is_keyed_by_content_and_written_once(tmp_path):
    png = write_png(tmp_path / "a.png", {"parameters": "a cat\nSteps: 20"}, size=(200, 200), seed=1)
    copy = tmp_path / "sub" / "copy.png"
    copy.parent.mkdir()
    shutil.copy2(png, copy)
    cache = tmp_path / "cache"
    first = thumbnail_path(_source(png), cache, 160)
    stamp = first.stat().st_mtime_ns, first.stat().st_ino
    again = thumbnail_path(_source(copy), cache, 160)  # same sha256: the same cached file
    assert again == first and (again.stat().st_mtime_ns, again.stat().st_ino) == stamp
    assert sorted(p.name for p in cache.rglob("*.jpg")) == [first.name]
    assert thumbnail_bytes(_source(copy), cache, 160) == first.read_bytes()
    # without a content hash the key is path, size and mtime: another file, another key
    bare = Source(str(png), None, png.stat().st_size, png.stat().st_mtime_ns)
    assert cache_key(bare, 160) != cache_key(Source(str(copy), None, bare.size_bytes, 1), 160)
    assert len(list(tmp_path.rglob("*.partial*"))) == 0 and not any("tmp" in p.name for p in cache.rglob("*"))


def test_unknown_size_is_refused(tmp_path):
    png = write_png(tmp_path / "a.png", size=(10, 10))
    with pytest.raises(ValueError, match="not one of"):
        thumbnail_path(_source(png), tmp_path / "cache", 150)


def test_files_that_are_not_images_get_a_reason(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture", encoding="utf-8")
    with pytest.raises(ThumbnailError, match="no thumbnail"):
        render(str(text), 96)
    with pytest.raises(ThumbnailError):
        render(str(tmp_path / "missing.png"), 96)
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)  # a FIFO swapped in for an image would block a plain open forever
    with pytest.raises(ThumbnailError, match="regular file"):
        render(str(fifo), 96)


def test_a_decompression_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(bomb)  # 144 megapixels in a few KB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ThumbnailError, match="DecompressionBomb"):
        render(str(bomb), 96)


def test_the_cache_folder_comes_from_config_ini(tmp_path):
    config = tmp_path / "config.ini"
    config.write_text("[Paths]\nthumbnail_dir = thumbs # the cache\n", encoding="utf-8")
    assert load_settings(config).thumbnail_dir == tmp_path / "thumbs"
    config.write_text("[Paths]\nlogging_dir = logs\n", encoding="utf-8")
    assert load_settings(config).thumbnail_dir == tmp_path / "thumbnails"
