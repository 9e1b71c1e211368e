"""Stealth pnginfo: generation data in the pixels' low bits, read with Pillow when ExifTool finds none."""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from PIL import Image

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.reparse import reparse
from exifdata_analytics.samples import a1111_infotext, make_pixels, write_png
from exifdata_analytics.stealth import embed_stealth_text, read_stealth_text
from tests.conftest import PEER_CORPUS, row_by_name

INFOTEXT = a1111_infotext("a lighthouse at dusk, 灯台", "blurry", {
    "Steps": 28, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 6, "Seed": 123456789,
    "Size": "512x640", "Model": "dreamshaper_8"})


@pytest.mark.parametrize("channel", ["alpha", "rgb"])
@pytest.mark.parametrize("compress", [False, True])
def test_embedded_text_is_read_back_in_every_variant(tmp_path, channel, compress):
    img = embed_stealth_text(make_pixels((48, 40), seed=3), INFOTEXT, compress=compress, channel=channel)
    path = tmp_path / "s.png"
    img.save(path)
    found = read_stealth_text(str(path))
    assert found is not None and found.text == INFOTEXT
    assert found.signature.startswith("stealth_png" if channel == "alpha" else "stealth_rgb")
    assert found.signature.endswith("comp" if compress else "info")


def test_ordinary_images_have_no_stealth_text(tmp_path):
    noisy = np.random.default_rng(1).integers(0, 256, size=(64, 64, 4), dtype=np.uint8)
    Image.fromarray(noisy, "RGBA").save(tmp_path / "noise.png")
    Image.new("RGB", (10, 10)).save(tmp_path / "tiny.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    for name in ("noise.png", "tiny.png", "broken.png"):
        assert read_stealth_text(str(tmp_path / name)) is None


def test_a_length_past_the_image_end_is_rejected(tmp_path):
    img = embed_stealth_text(make_pixels((40, 40), seed=1), "x" * 10)
    arr = np.array(img)
    # overwrite the 32 length bits (pixels 120..151 in column order) with all ones
    flat = np.swapaxes(arr[:, :, 3], 0, 1).reshape(-1).copy()
    flat[120:152] |= 1
    arr[:, :, 3] = np.swapaxes(flat.reshape(40, 40), 0, 1)
    Image.fromarray(arr, "RGBA").save(tmp_path / "bad.png")
    assert read_stealth_text(str(tmp_path / "bad.png")) is None


def test_filler_reads_stealth_only_when_no_text_metadata_and_reparse_keeps_it(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    embed_stealth_text(make_pixels((64, 64), seed=2), INFOTEXT, compress=True).save(folder / "stealth.png")
    # a file with both: the text chunk wins and no pixels are decoded for it
    write_png(folder / "text.png", {"parameters": "from the chunk\nSteps: 3, Sampler: Euler, CFG scale: 7"},
              mode="RGBA")
    dbp = tmp_path / "t.db"
    fill(FillOptions(root=str(folder), recursive=False, db_path=dbp))
    r = row_by_name(dbp, "stealth.png")
    assert (r["parse_status"], r["prompt"], r["steps"], r["scheduler"], r["seed"]) == (
        "ok", "a lighthouse at dusk, 灯台", 28, "Karras", 123456789)
    assert "Stealth:Parameters" in r["extra_json"] and "Stealth" not in r["raw_json"]
    assert row_by_name(dbp, "text.png")["extra_json"] is None
    assert row_by_name(dbp, "text.png")["prompt"] == "from the chunk"
    reparse(dbp)
    assert row_by_name(dbp, "stealth.png")["prompt"] == "a lighthouse at dusk, 灯台"


def test_the_peer_corpus_stealth_image(tmp_path):
    path = PEER_CORPUS / "sd-parsers/tests/resources/parsers/AUTOMATIC1111/automatic1111_stealth.png"
    if not path.exists():
        pytest.skip("../shared corpus not present")
    found = read_stealth_text(str(path))
    assert found is not None and found.text.startswith("a circle\nNegative prompt: a square\n")


# -- the quick look at a PNG's first rows -----------------------------------------------------

def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _write_png_with_filters(path, pixels: np.ndarray, filters) -> None:
    """A PNG whose row r uses PNG filter ``filters[r % len(filters)]`` (0 None … 4 Paeth)."""
    import struct
    h, w, c = pixels.shape
    data = bytearray()
    prev = np.zeros(w * c, dtype=np.int64)
    for r in range(h):
        row = pixels[r].reshape(-1).astype(np.int64)
        kind = filters[r % len(filters)]
        out = []
        for i, x in enumerate(row):
            a = row[i - c] if i >= c else 0
            b = prev[i]
            cc = prev[i - c] if i >= c else 0
            pred = (0, a, b, (a + b) // 2, _paeth(a, b, cc))[kind]
            out.append((x - pred) & 0xFF)
        data.append(kind)
        data += bytes(out)
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if c == 3 else 6, 0, 0, 0)
    idat = zlib.compress(bytes(data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + b"".join(chunk(b"IDAT", idat[i:i + 997]) for i in range(0, len(idat), 997))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4)])
def test_the_first_rows_are_decoded_as_pillow_decodes_them(tmp_path, channels, filters):
    from exifdata_analytics.stealth import _png_signature_bits
    pixels = np.random.default_rng(len(filters) * 10 + channels).integers(0, 256, size=(160, 5, channels),
                                                                         dtype=np.uint8)
    path = tmp_path / "f.png"
    _write_png_with_filters(path, pixels, filters)
    decoded = np.asarray(Image.open(path))
    assert (decoded == pixels).all()  # the hand-made PNG is valid
    heads = _png_signature_bits(str(path))
    column = decoded[:, 0, :]
    assert heads["rgb"] == np.packbits(column[:40, :3].reshape(-1) & 1).tobytes()
    if channels == 4:
        assert heads["alpha"] == np.packbits(column[:120, 3] & 1).tobytes()
    else:
        assert "alpha" not in heads


@pytest.mark.parametrize("channel", ["alpha", "rgb"])
@pytest.mark.parametrize("compress", [False, True])
def test_stealth_text_in_tall_images_passes_the_quick_look(tmp_path, channel, compress):
    img = embed_stealth_text(make_pixels((24, 200), seed=5), INFOTEXT, compress=compress, channel=channel)
    img.save(tmp_path / "tall.png")
    found = read_stealth_text(str(tmp_path / "tall.png"))
    assert found is not None and found.text == INFOTEXT


def test_the_quick_look_clears_ordinary_pngs_and_leaves_the_rest_to_the_full_decode(tmp_path):
    from exifdata_analytics.stealth import _png_without_stealth
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, size=(300, 200, 4), dtype=np.uint8), "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rng.integers(0, 256, size=(300, 200, 3), dtype=np.uint8), "RGB").save(tmp_path / "rgb.png")
    png = bytearray((tmp_path / "rgb.png").read_bytes())  # Pillow writes no Adam7: flag it by hand
    png[28] = 1  # IHDR's interlace byte
    png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
    (tmp_path / "interlaced.png").write_bytes(bytes(png))
    Image.new("P", (200, 300)).save(tmp_path / "palette.png")
    Image.new("RGBA", (200, 100)).save(tmp_path / "short.png")
    Image.new("RGB", (200, 300)).save(tmp_path / "photo.jpg")
    assert _png_without_stealth(str(tmp_path / "rgba.png")) and _png_without_stealth(str(tmp_path / "rgb.png"))
    for name in ("interlaced.png", "palette.png", "short.png", "photo.jpg"):
        assert not _png_without_stealth(str(tmp_path / name)), name
        assert read_stealth_text(str(tmp_path / name)) is None
