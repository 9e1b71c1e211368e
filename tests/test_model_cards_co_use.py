"""Model cards and co-use on a planted database whose every card number is known, and in which
exactly three pairs are used together on purpose (a LoRA only ever used with one model, two
LoRAs always used together, two prompt tags always together): those must stand out, and
nothing else, although the other LoRAs and tags are drawn independently, LoRAs only by half of
the images and prompts only in some (which would raise every lift over all images alike).
"""
from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import db, reports
from exifdata_analytics.analysis import co_use as C
from exifdata_analytics.analysis.distributions import SMALL_SAMPLE
from exifdata_analytics.parsers.base import Resource
from test_analysis import record, run

RANDOM_TAGS = ("cat", "dog", "forest", "castle", "night", "rain")
GAMMA = "ガンマ_v1"  # a model name in Japanese: shown as written everywhere


def _model(i: int) -> str:
    return "alpha" if i < 100 else "beta" if i < 180 else GAMMA if i < 236 else "delta"


def planted_rows(seed: int = 13) -> list:
    """240 generated images (alpha 100, beta 80, GAMMA 56, delta 4), a copy of alpha's first
    image in a backup folder, and 150 photos without generation data.

    alpha: CFG 5,6,7,7,8 by i % 5 except i = 1 (CFG 150, cannot be a setting): Q1 6, median 7,
    Q3 7 of 99 values; steps 20/25/30 by i % 3; denoising on 5 images only (0.4, 0.5, 0.5, 0.6,
    0.7: rough); sampler 'DPM++ 2M Karras' for i % 5 < 3 (60), ComfyUI's 'euler_ancestral'
    otherwise (40, canonically 'Euler a'); size 1024x1024 for i % 4 == 0 (25), else 832x1216
    (75); VAE sdxl_vae for even i (50); generator ComfyUI for i % 10 == 0 (10), else A1111;
    made 2024-01-01 .. 2024-04-16, dated by mtime for i % 10 == 9 (10), else embedded.

    Planted co-use: LoRA alpha_style in alpha's i % 4 == 0 (25 images, weights 0.6 / 0.8);
    pair_p and pair_q together in i % 12 == 5 (20 images); tags 'red hat' and 'blue scarf'
    together in i % 10 == 3 (24 images). Independent: LoRAs detail and grain, each with
    probability 1/2, in the images of 'LoRA users' (probability 1/2); tags RANDOM_TAGS, each
    with probability 0.4."""
    r = random.Random(seed)
    rows = []
    for i in range(240):
        model = _model(i)
        resources = []
        if r.random() < 0.5:  # a LoRA user
            resources += [Resource("lora", name, None, 0.5, "prompt") for name in ("detail", "grain")
                          if r.random() < 0.5]
        if model == "alpha" and i % 4 == 0:
            resources.append(Resource("lora", "alpha_style", None, 0.6 if i % 8 == 0 else 0.8, "prompt"))
        if i % 12 == 5:
            resources += [Resource("lora", "pair_p", None, 1.0, "prompt"),
                          Resource("lora", "pair_q", None, None, "prompt")]
        tags = [t for t in RANDOM_TAGS if r.random() < 0.4] + [f"seed {i}"]
        if i % 10 == 3:
            tags += ["red hat", "blue scarf"]
        over = dict(sha256=f"{i:064x}", model=model, prompt=", ".join(tags), steps=25, cfg_scale=7.0, width=512,
                    height=768, sampler="Euler", created_at=f"2024-05-{1 + i % 28:02d}T12:00:00")
        if model == "alpha":
            over.update(cfg_scale=150.0 if i == 1 else float((5, 6, 7, 7, 8)[i % 5]), steps=20 + 5 * (i % 3),
                        denoising_strength=(0.4, 0.5, 0.5, 0.6, 0.7)[i // 20] if i % 20 == 7 else None,
                        sampler="DPM++ 2M Karras" if i % 5 < 3 else "euler_ancestral",
                        width=1024 if i % 4 == 0 else 832, height=1024 if i % 4 == 0 else 1216,
                        vae="sdxl_vae" if i % 2 == 0 else None, generator="ComfyUI" if i % 10 == 0 else "A1111",
                        created_at=f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}T12:00:00",
                        created_source="mtime" if i % 10 == 9 else "embedded")
        rows.append((record(f"/lib/{model}/{i}.png", **over), tuple(resources)))
    first, first_res = rows[0]
    rows.append((record("/backup/alpha/0.png", **{k: v for k, v in first.__dict__.items()
                                                  if k not in ("path", "folder", "file_name")}), first_res))
    rows += [(record(f"/photos/{i}.jpg", sha256=f"f{i:063x}", generator=None, format="JPEG", seed=None,
                     parse_status="no_metadata", parser=None), ()) for i in range(150)]
    return rows


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cards") / "planted.db"
    con = db.connect(path)
    db.write_batch(con, planted_rows())
    con.close()
    return path


@pytest.fixture(scope="module")
def planted(planted_db) -> A.Analysis:
    return run(planted_db)


def card(analysis: A.Analysis, model: str):
    return next(c for c in analysis.model_cards if c.model == model)


# -- model cards --------------------------------------------------------------------------------

def test_a_card_per_model_most_used_first_with_shares_of_the_images_that_name_a_model(planted):
    cards = planted.model_cards
    assert [(c.model, c.images) for c in cards] == [("alpha", 100), ("beta", 80), (GAMMA, 56), ("delta", 4)]
    assert [c.share for c in cards] == pytest.approx([100 / 240, 80 / 240, 56 / 240, 4 / 240])  # the copy counts once


def test_the_card_of_alpha_holds_its_usual_settings(planted):
    c = card(planted, "alpha")
    assert (c.cfg_images, c.cfg_q1, c.cfg_median, c.cfg_q3) == (99, 6.0, 7.0, 7.0)  # CFG 150 left out
    assert (c.steps_images, c.steps_q1, c.steps_median, c.steps_q3) == (100, 20.0, 25.0, 30.0)
    assert (c.denoise_images, c.denoise_q1, c.denoise_median, c.denoise_q3) == (5, 0.5, 0.5, 0.6)
    assert c.small_sample == ("denoise",)
    assert [(u.sampler, u.schedule, u.images) for u in c.top_samplers] == [("DPM++ 2M", "Karras", 60),
                                                                           ("Euler a", None, 40)]
    assert [(u.size, u.aspect_ratio, u.images) for u in c.sizes] == [("832x1216", "13:19", 75),
                                                                     ("1024x1024", "1:1", 25)]
    assert [(u.name, u.images) for u in c.vaes] == [("sdxl_vae", 50)]
    assert [(u.name, u.images) for u in c.generators] == [("A1111", 90), ("ComfyUI", 10)]
    assert (c.first_used, c.last_used, c.dated) == ("2024-01-01", "2024-04-16", 100)
    assert c.date_sources == (("embedded", 90), ("mtime", 10))
    style = next(s for s in c.loras if s.name == "alpha_style")
    assert (style.images, style.mean_weight) == (25, pytest.approx((13 * 0.6 + 12 * 0.8) / 25))
    assert c.images_with_lora == len({i for i in range(100) if i % 4 == 0 or i % 12 == 5
                                      or any(r.kind == "lora" for r in planted_rows()[i][1])})


def test_a_model_with_few_images_says_its_quartiles_are_rough(planted):
    delta = card(planted, "delta")
    assert delta.images == 4 < SMALL_SAMPLE
    assert delta.small_sample == ("cfg", "steps") and delta.denoise_images == 0 and delta.denoise_median is None
    text = reports.format_model_cards(planted.model_cards)
    block = text.split("Model: delta\n", 1)[1]
    assert "CFG scale: 7 (Q1 7, Q3 7; 4 images, rough)" in block
    assert "Denoising strength: (no values)" in block


def test_model_cards_report_reads_as_the_numbers(planted):
    text = reports.format_model_cards(planted.model_cards)
    assert "of the 240 images that name a model" in text
    block = text.split("Model: alpha\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert block[:4] == ["Images: 100 (41.7%)", "Used: 2024-01-01 .. 2024-04-16 (dated by: embedded 90, mtime 10)",
                         "CFG scale: 7 (Q1 6, Q3 7; 99 images)", "Steps: 25 (Q1 20, Q3 30; 100 images)"]
    assert block[4] == "Denoising strength: 0.5 (Q1 0.5, Q3 0.6; 5 images, rough)"
    assert block[5] == "Samplers: DPM++ 2M / Karras 60 (60.0%), Euler a 40 (40.0%)"
    assert block[6] == "Sizes: 832x1216 13:19 75 (75.0%), 1024x1024 1:1 25 (25.0%)"
    assert "alpha_style 25 (25.0%, weight 0.70)" in block[8]
    assert f"Model: {GAMMA}" in text


def test_no_models_no_cards(tmp_path):
    path = tmp_path / "empty.db"
    db.connect(path).close()
    an = run(path)
    assert an.model_cards == ()
    assert "(no image names a model)" in reports.format_model_cards(an.model_cards)
    assert an.co_use.tags.pairs == () and an.co_use.lora_model.images == 0


# -- co-use -------------------------------------------------------------------------------------

def standing_out(table: C.PairTable) -> set[tuple[str, str]]:
    return {(p.a, p.b) for p in table.pairs if p.stands_out}


def test_only_the_planted_pairs_stand_out(planted):
    co = planted.co_use
    assert standing_out(co.lora_model) == {("alpha_style", "alpha")}
    assert standing_out(co.lora_lora) == {("pair_p", "pair_q")}
    assert standing_out(co.tags) == {("blue scarf", "red hat")}
    assert (co.lora_model.standing_out, co.lora_lora.standing_out, co.tags.standing_out) == (1, 1, 1)


def test_a_lora_only_used_with_one_model_is_always_together_with_it(planted):
    table = planted.co_use.lora_model
    top = table.pairs[0]
    assert (top.a, top.b, top.both, top.a_images) == ("alpha_style", "alpha", 25, 25)
    assert top.confidence_ab == 1.0 and top.always
    assert top.lift == pytest.approx(25 * table.images / (25 * top.b_images))
    assert 1 < top.lift_low < top.lift
    assert (top.a, top.b) in {(p.a, p.b) for p in table.always}
    # n: the images with a LoRA and a model (no photos, no images without a LoRA)
    assert table.images == sum(1 for rec, res in planted_rows()[:240] if res)


def test_independent_pairs_are_ranked_but_do_not_stand_out(planted):
    co = planted.co_use
    detail_grain = next(p for p in co.lora_lora.pairs if {p.a, p.b} == {"detail", "grain"})
    assert not detail_grain.stands_out and detail_grain.lift_low < 1
    for p in co.lora_model.pairs:
        if p.a in ("detail", "grain"):
            assert not p.stands_out, p
    random_pairs = [p for p in co.tags.pairs if p.a in RANDOM_TAGS and p.b in RANDOM_TAGS]
    assert len(random_pairs) == 15 and not any(p.stands_out for p in random_pairs)
    # with n = every image (the 150 photos too), the same counts would have made them stand out
    photos_too = co.tags.images + 150
    assert min(p.both * photos_too / (p.a_images * p.b_images) for p in random_pairs) > 1


def test_the_support_rule_and_the_family_of_the_bound(planted):
    co = planted.co_use
    assert (co.min_item_images, co.min_pair_images) == (C.MIN_ITEM_IMAGES, C.MIN_PAIR_IMAGES)
    tags = co.tags
    # the six random tags, red hat and blue scarf are in >= 5 images; the 'seed i' tags in one each
    assert tags.items_a == 8 and tags.candidates == 8 * 7 // 2
    assert all(p.both >= C.MIN_PAIR_IMAGES and min(p.a_images, p.b_images) >= C.MIN_ITEM_IMAGES for p in tags.pairs)
    assert tags.images == 240  # every generated image has a tag; photos have no prompt
    delta = [p for p in co.lora_model.pairs if p.b == "delta"]
    assert delta == []  # 4 images: below the item support


def test_wilson_lower_bound_and_bonferroni():
    z = C.bonferroni_z(1)
    assert z == pytest.approx(1.6448536, rel=1e-6)
    assert C.bonferroni_z(100) == pytest.approx(3.2905267, rel=1e-6)  # the 99.95% quantile: 1 - 0.05 / 100
    # all successes: n / (n + z^2)
    assert C.wilson_lower(np.array([25.0]), np.array([25.0]), z)[0] == pytest.approx(25 / (25 + z * z))
    # a textbook value: 8 of 10 at z 1.96 -> 0.4902
    assert C.wilson_lower(np.array([8.0]), np.array([10.0]), 1.959964)[0] == pytest.approx(0.4902, abs=1e-4)


def test_tag_pairs_travel_from_the_helper_process(planted_db):
    con = A.open_database(planted_db)
    try:
        stats = A.prompt_statistics(A.cleaned_texts(con, "prompt"))
    finally:
        con.close()
    again = pickle.loads(pickle.dumps(stats))
    assert again.tag_pairs == stats.tag_pairs and len(pickle.dumps(stats.tag_pairs)) < 20_000
    assert "red hat" in stats.tag_pairs.names_a and len(stats.tag_pairs.names_a) <= C.TOP_TAGS


def test_co_use_report_shows_counts_lift_and_always_together(planted):
    text = reports.format_co_use(planted.co_use)
    lora_model = text.split("Analysis for LoRA + Model", 1)[1].split("Analysis for LoRA + LoRA", 1)[0]
    first = lora_model.splitlines()[2].split()
    assert first[:5] == ["alpha_style", "alpha", "25", "25", str(planted.co_use.lora_model.pairs[0].b_images)]
    assert first[7] == "100.0%" and first[-1] == "*"
    always = lora_model.split("Always together", 1)[1]
    assert "alpha_style" in always
    assert "1 stands out" in lora_model
    tags = text.split("Analysis for Tag + Tag", 1)[1]
    assert tags.splitlines()[2].split()[:6] == ["blue", "scarf", "red", "hat", "24", "24"]


def test_html_report_has_the_model_cards_and_co_use_sections(planted, tmp_path):
    html = reports.format_html(planted, {})
    assert 'id="model-cards"' in html and 'id="co-use"' in html
    assert '<td>alpha</td><td class=n data-v="100">100</td><td class=n data-v="41.7">41.7%</td>' in html
    assert f"<td>{GAMMA}</td>" in html
    assert "7 (6–7)" in html and "0.5 (0.5–0.6), rough" in html
    assert "<td>alpha_style</td><td>alpha</td>" in html
