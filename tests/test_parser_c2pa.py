"""C2PA-only images: the generator is recorded, there is no prompt."""
from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.exiftool import ExifToolPool
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_NO_METADATA, STATUS_OK, parse_tags
from tests.conftest import PEER_CORPUS

AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# ExifTool 12.57's tags for ChatGPT's and Gemini's manifests (values as in its JSON output)
OPENAI = {"JUMBF:JUMDLabel": "c2pa", "CBOR:ActionsAction": '["c2pa.created", "c2pa.converted"]',
          "CBOR:ActionsSoftwareAgentName": "gpt-image", "CBOR:ActionsSoftwareAgentVersion": "2.0",
          "CBOR:ActionsDigitalSourceType": AI, "CBOR:Claim_Generator_InfoName": "OpenAI Media Service API"}
GOOGLE = {"JUMBF:JUMDLabel": "c2pa", "CBOR:Claim_Generator_InfoName": "Google C2PA Core Generator Library",
          "CBOR:ActionsDescription": '["Created by Google Generative AI.", "Applied imperceptible SynthID watermark."]',
          "CBOR:ActionsDigitalSourceType": json.dumps([AI, AI]),
          "CBOR:Copy1:ActionsDigitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/composite"}


def test_openai_and_google_manifests_record_the_generator_and_no_prompt():
    for tags, generator, model in ((OPENAI, "OpenAI", "gpt-image 2.0"), (GOOGLE, "Google", None)):
        outcome = parse_tags(tags)
        assert outcome.status == STATUS_OK and outcome.parser == "c2pa"
        p = outcome.params
        assert (p.generator, p.model, p.prompt, p.steps) == (generator, model, None, None)
        assert p.params["provenance"] == "C2PA" and AI in p.params["digital_source_type"]


def test_a_camera_manifest_is_not_an_ai_generator():
    camera = dict(OPENAI, **{"CBOR:ActionsDigitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                             "CBOR:Claim_Generator_InfoName": "Pixel Camera"})
    assert parse_tags(camera).status == STATUS_NO_METADATA


def test_unknown_vendor_is_named_by_its_claim_generator_and_iptc_type_needs_a_tool_name():
    tags = {"CBOR:Claim_Generator_InfoName": "Acme Imagine c2pa-rs/0.32", "CBOR:ActionsDigitalSourceType": AI}
    assert parse_tags(tags).params.generator == "Acme Imagine"
    assert parse_tags({"XMP-iptcExt:DigitalSourceType": AI}).status == STATUS_NO_METADATA
    p = parse_tags({"XMP-iptcExt:DigitalSourceType": AI, "XMP-xmp:CreatorTool": "Adobe Firefly"}).params
    assert (p.generator, p.params["provenance"]) == ("Adobe Firefly", "IPTC DigitalSourceType")


def test_peer_corpus_c2pa_images_through_exiftool():
    folder = PEER_CORPUS / "sd-metadata" / "samples" / "c2pa" / "png"
    if not folder.is_dir() or shutil.which("exiftool") is None:
        pytest.skip("../shared corpus or exiftool absent")
    files = sorted(str(p) for p in folder.glob("*.png"))
    with ExifToolPool(workers=1) as pool:
        results = pool.read(files)
    generators = {ft.path.rsplit("/", 1)[-1]: parse_tags(ft.tags).params.generator for ft in results}
    assert generators == {"chatgpt-image2.png": "OpenAI", "gemini_3.1pro.png": "Google",
                          "gemini_unknown.png": "Google"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(OPENAI) + sorted(GOOGLE) + ["XMP-xmp:CreatorTool"]),
                       st.none() | st.integers() | st.text(max_size=30) | st.lists(st.text(max_size=8), max_size=3),
                       max_size=8))
def test_property_random_manifest_tags_never_crash_the_parser(values):
    tags = dict(OPENAI, **values)
    outcome = parse_tags(tags)
    assert outcome.status != STATUS_ERROR, outcome.error
