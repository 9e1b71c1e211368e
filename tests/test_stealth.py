"""Stealth pnginfo: generation data in the pixels' low bits, read with Pillow when ExifTool finds none."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from exifdata_analytics.filler import FillOptions, fill, reparse
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
