"""NovelAI: PNG chunks (v3 and v4 Comment JSON), WebP UserComment JSON, stealth alpha data."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers import STATUS_ERROR, STATUS_OK, parse_tags
from exifdata_analytics.samples import make_pixels, write_png, write_webp
from exifdata_analytics.stealth import embed_stealth_text
from tests.conftest import row_by_name

V3_COMMENT = {"steps": 28, "sampler": "k_euler_ancestral", "seed": 2253955223, "strength": 0.7, "noise": 0.0,
              "scale": 11.0, "uc": "lowres, bad anatomy", "width": 512, "height": 768}
V4_COMMENT = {"prompt": "2girls, park, テスト", "steps": 23, "height": 1216, "width": 832, "scale": 5.0,
              "uncond_scale": 0.0, "seed": 2156638429, "noise_schedule": "karras", "sampler": "k_dpmpp_2m",
              "v4_prompt": {"caption": {"base_caption": "2girls, park, テスト",
                                        "char_captions": [{"char_caption": "girl, red hair", "centers": [{"x": 0.3}]},
                                                          {"char_caption": "girl, blue hair", "centers": []}]},
                            "use_coords": True},
              "v4_negative_prompt": {"caption": {"base_caption": "blurry, lowres",
                                                 "char_captions": [{"char_caption": "hat"}]}},
              "uc": "blurry, lowres", "request_type": "PromptGenerateRequest", "signed_hash": "abc=="}


def nai_chunks(comment: dict, description: str, source: str = "NovelAI Diffusion V4.5 C02D4F98") -> dict:
    return {"Description": description, "Software": "NovelAI", "Source": source,
            "Generation time": "2.5e-05", "Comment": json.dumps(comment, ensure_ascii=False)}


def parsed(tags):
    outcome = parse_tags(tags)
    assert outcome.status == STATUS_OK, outcome
    return outcome.params


def test_v3_png_chunks():
    tags = {f"PNG:{k.replace(' ', '')}": v for k, v in
            nai_chunks(V3_COMMENT, "masterpiece, cat, space", "Stable Diffusion 1D44365E").items()}
    p = parsed(tags)
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.seed, p.sampler, p.cfg_scale, p.width, p.height,
            p.model, p.model_hash) == ("NovelAI", "masterpiece, cat, space", "lowres, bad anatomy", 28, 2253955223,
                                       "k_euler_ancestral", 11.0, 512, 768, "Stable Diffusion", "1D44365E")
    assert p.denoising_strength is None  # strength is a default in text-to-image requests
    assert p.params["noise"] == 0.0


def test_v4_character_prompts_go_to_params_and_scheduler_is_the_noise_schedule():
    tags = {f"PNG:{k.replace(' ', '')}": v for k, v in nai_chunks(V4_COMMENT, "2girls, park, テスト").items()}
    p = parsed(tags)
    assert (p.prompt, p.negative_prompt, p.scheduler, p.model, p.model_hash) == (
        "2girls, park, テスト", "blurry, lowres", "karras", "NovelAI Diffusion V4.5", "C02D4F98")
    assert p.params["Character prompts"] == ["girl, red hair", "girl, blue hair"]
    assert p.params["Character negative prompts"] == ["hat"]


def test_webp_user_comment_json_and_stealth_json():
    outer = nai_chunks(V4_COMMENT, "\x00\x00\x00\x002girls, park, テスト")
    for tag in ("ExifIFD:UserComment", "Stealth:Parameters"):
        p = parsed({tag: json.dumps(outer, ensure_ascii=False), "IFD0:Software": "NovelAI Diffusion V4.5 C02D4F98"})
        assert (p.generator, p.prompt, p.steps, p.model) == ("NovelAI", "2girls, park, テスト", 23,
                                                             "NovelAI Diffusion V4.5"), tag


def test_description_alone_still_gives_the_prompt():
    p = parsed({"PNG:Software": "NovelAI", "PNG:Description": "a fox", "PNG:Source": "NovelAI Diffusion V3 7BCCAA2C"})
    assert (p.prompt, p.steps, p.model_hash) == ("a fox", None, "7BCCAA2C")


def test_other_json_comments_are_not_novelai():
    outcome = parse_tags({"PNG:Comment": json.dumps({"steps": 20, "scale": 7})})
    assert outcome.params is None or outcome.params.generator != "NovelAI"


def test_png_webp_and_stealth_files_end_to_end(tmp_path: Path):
    folder = tmp_path / "nai"
    folder.mkdir()
    chunks = nai_chunks(V4_COMMENT, "2girls, park, テスト")
    write_png(folder / "chunks.png", list(chunks.items()))
    write_webp(folder / "exif.webp", user_comment=json.dumps(chunks, ensure_ascii=False),
               software="NovelAI Diffusion V4.5 C02D4F98")
    embed_stealth_text(make_pixels((96, 96), seed=4), json.dumps(chunks), compress=True).save(folder / "stealth.png")
    fill(FillOptions(root=str(folder), recursive=False, db_path=tmp_path / "t.db", workers=1))
    for name in ("chunks.png", "exif.webp", "stealth.png"):
        r = row_by_name(tmp_path / "t.db", name)
        assert (r["generator"], r["prompt"], r["negative_prompt"], r["seed"], r["width"]) == (
            "NovelAI", "2girls, park, テスト", "blurry, lowres", 2156638429, 832), (name, r["error"])


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_comments_never_crash_the_parser(data):
    comment = json.loads(json.dumps(V4_COMMENT))
    for doc in (comment, comment["v4_prompt"], comment["v4_prompt"]["caption"]):
        for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=3)):
            doc[key] = data.draw(_json)
    chunks = nai_chunks(comment, data.draw(st.text(max_size=20)), data.draw(st.text(max_size=30)))
    for tags in ({f"PNG:{k.replace(' ', '')}": v for k, v in chunks.items()},
                 {"ExifIFD:UserComment": json.dumps(chunks)},
                 {"Stealth:Parameters": json.dumps(dict(chunks, Comment=data.draw(_json)))}):
        outcome = parse_tags(tags)
        assert outcome.status != STATUS_ERROR, outcome.error
