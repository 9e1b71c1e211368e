"""Draw Things: XMP exif:UserComment JSON (and its A1111-like dc:description as a fallback)."""
from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags
from exifdata_analytics.samples import write_png
from tests.conftest import row_by_name

CONFIG = {"c": "a cat in a hat, テスト", "uc": "blurry", "seed": 1234, "steps": 20, "scale": 7, "strength": 1,
          "sampler": "DPM++ 2M Karras", "size": "512x768", "model": "sd_v1.5_f16.ckpt", "seed_mode": "Scale Alike",
          "lora": [{"file": "detail_tweaker_f16.ckpt", "weight": 0.6}]}
DESCRIPTION = ("a cat in a hat, テスト\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, "
               "Guidance Scale: 7.0, Seed: 1234, Size: 512x768, Model: sd_v1.5_f16.ckpt")


def xmp(config, description=DESCRIPTION) -> str:
    user_comment = "" if config is None else (
        f"<exif:UserComment><rdf:Alt><rdf:li xml:lang='x-default'>{escape(json.dumps(config, ensure_ascii=False))}"
        "</rdf:li></rdf:Alt></exif:UserComment>")
    return ("<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>"
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description rdf:about='' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:exif='http://ns.adobe.com/exif/1.0/' "
            "xmlns:xmp='http://ns.adobe.com/xap/1.0/'><dc:description><rdf:Alt><rdf:li xml:lang='x-default'>"
            f"{escape(description)}</rdf:li></rdf:Alt></dc:description>{user_comment}"
            "<xmp:CreatorTool>Draw Things</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>"
            "<?xpacket end='r'?>")


def test_xmp_json_and_description_fallback_end_to_end(tmp_path: Path):
    folder = tmp_path / "dt"
    folder.mkdir()
    write_png(folder / "json.png", [("XML:com.adobe.xmp", xmp(CONFIG))], itxt=True)
    write_png(folder / "text.png", [("XML:com.adobe.xmp", xmp(None))], itxt=True)
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    for name in ("json.png", "text.png"):
        r = row_by_name(tmp_path / "t.db", name)
        assert (r["generator"], r["prompt"], r["negative_prompt"], r["seed"], r["steps"], r["sampler"], r["width"],
                r["height"], r["model"]) == ("Draw Things", "a cat in a hat, テスト", "blurry", 1234, 20,
                                             "DPM++ 2M Karras", 512, 768, "sd_v1.5_f16.ckpt"), (name, r["error"])
    r = row_by_name(tmp_path / "t.db", "json.png")
    assert (r["cfg_scale"], r["denoising_strength"], json.loads(r["params_json"])["seed_mode"]) == (7.0, None,
                                                                                                    "Scale Alike")


def test_loras_and_img2img_strength():
    outcome = parse_tags({"XMP-exif:UserComment": json.dumps(dict(CONFIG, strength=0.4))})
    assert outcome.status == STATUS_OK
    p = outcome.params
    assert p.denoising_strength == 0.4
    assert [(r.name, r.weight) for r in p.resources] == [("detail_tweaker_f16", 0.6)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(CONFIG)),
                       st.none() | st.integers() | st.floats() | st.text(max_size=12)
                       | st.lists(st.dictionaries(st.sampled_from(["file", "weight"]), st.integers() | st.text()),
                                  max_size=2), max_size=10),
       st.text(max_size=80))
def test_property_random_values_never_crash_the_parser(values, description):
    tags = {"XMP-exif:UserComment": json.dumps(dict(CONFIG, **values)), "XMP-dc:Description": description,
            "XMP-xmp:CreatorTool": "Draw Things"}
    assert parse_tags(tags).status != STATUS_ERROR
    assert parse_tags({"XMP-dc:Description": description, "XMP-xmp:CreatorTool": "Draw Things"}).status != STATUS_ERROR
