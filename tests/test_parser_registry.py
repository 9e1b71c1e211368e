"""The registry itself: order, and skipping parsers whose tags a file does not have."""
from __future__ import annotations

from exifdata_analytics.parsers import REGISTRY, STATUS_NO_METADATA, STATUS_OK, parse_tags
from exifdata_analytics.parsers.base import GenerationParams, Parser
from exifdata_analytics.parsers.tags import IndexedTags, find_tag, iter_tags

INFOTEXT = "a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x768"


def _recording_parser(name: str, calls: list, tag_names=None, result=None) -> Parser:
    def parse(tags):
        calls.append(name)
        return result
    return Parser(name, parse, tag_names)


def test_a_parser_is_skipped_when_the_file_has_none_of_its_tags():
    calls: list = []
    registry = (_recording_parser("wants_dream", calls, frozenset({"Dream"})),
                _recording_parser("wants_anything", calls))
    assert parse_tags({"XMP-dc:Title": "x"}, registry).status == STATUS_NO_METADATA
    assert calls == ["wants_anything"]


def test_tag_names_match_in_any_case_and_copy():
    calls: list = []
    found = GenerationParams(generator="X")
    registry = (_recording_parser("x", calls, frozenset({"dReAm"}), found),)
    outcome = parse_tags({"PNG:Copy1:Dream": "a"}, registry)
    assert (outcome.status, outcome.parser, calls) == (STATUS_OK, "x", ["x"])


def test_every_registered_parser_names_its_tags_in_lower_case():
    for parser in REGISTRY:
        assert parser.tag_names is None or all(n == n.lower() for n in parser.tag_names), parser.name


def test_gating_keeps_the_first_matching_parser():
    # an A1111 file: the parsers before a1111 that can look at PNG:Parameters still decline it
    outcome = parse_tags({"PNG:Parameters": INFOTEXT})
    assert (outcome.status, outcome.parser, outcome.params.prompt) == (STATUS_OK, "a1111", "a cat")


def test_indexed_look_ups_agree_with_plain_dict_look_ups():
    raw = {"SourceFile": "/a.png", "PNG:Copy1:Prompt": "second", "PNG:Prompt": "first",
           "XMP-dc:Description": "d", "IFD0:ImageDescription": "i", "ExifTool:Error": "e"}
    indexed = IndexedTags(raw)
    for name, groups in (("prompt", None), ("PROMPT", ("png",)), ("Description", ("XMP-dc",)),
                         ("Description", ("IFD0",)), ("Error", ("ExifTool",)), ("missing", None)):
        assert find_tag(indexed, name, groups) == find_tag(raw, name, groups)
        assert list(iter_tags(indexed, name, groups)) == list(iter_tags(raw, name, groups))
    assert [v for _, v in iter_tags(indexed, "Prompt")] == ["first", "second"]
    indexed["PNG:Dream"] = "new"  # the index follows changes
    assert find_tag(indexed, "Dream") == "new"
