"""Themes (prompt_topics.txt): planted themes in a real database are found, each with its own
images, words, tags and model; the number is chosen by the data or asked for; too few prompts
give no themes, and say so."""
from __future__ import annotations

import random

import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import db, reports
from test_analysis import record, run

THEMES = {
    "castle": ("dreamshaper_8", ["castle", "knight", "armor", "sword", "banner", "tower", "dragon", "shield"]),
    "beach": ("sd_xl_base_1.0", ["beach", "ocean", "sunset", "waves", "palm", "sand", "seagull", "surf"]),
    "cyber": ("ponyDiffusionV6XL", ["cyberpunk", "neon", "city", "rain", "hologram", "robot", "alley", "chrome"]),
}
COMMON = ["masterpiece", "best quality", "detailed"]


@pytest.fixture(scope="module")
def themed_db(tmp_path_factory):
    rng = random.Random(3)
    rows = []
    for i in range(360):
        theme = list(THEMES)[i % 3]
        model, words = THEMES[theme]
        prompt = ", ".join(COMMON + rng.sample(words, 5))
        rows.append((record(f"/t/{theme}/{i}.png", sha256=f"{i:064d}", prompt=prompt, model=model,
                            created_at=f"2024-0{1 + (i // 3) % 3}-10T12:00:00"), ()))
    path = tmp_path_factory.mktemp("topics") / "t.db"
    con = db.connect(path)
    db.write_batch(con, rows)
    con.close()
    return path


def test_planted_themes_are_found_with_their_images_words_and_models(themed_db):
    an = run(themed_db)
    assert len(an.topics.themes) == 3 and "chosen by the data" in an.topics.chosen_by
    context = {c.number: c for c in an.topic_context}
    for theme in an.topics.themes:
        planted = {p.split("/")[2] for p in _paths(themed_db, theme.image_ids)}
        assert len(planted) == 1, planted  # every image of a theme is of one planted theme
        name = planted.pop()
        model, words = THEMES[name]
        assert set(theme.words[:5]) <= set(words)  # its words are the theme's, not 'masterpiece'
        assert theme.images == 120 and context[theme.number].top_models[0] == (model, 120)
        assert [m for m, _ in context[theme.number].months] == ["2024-01", "2024-02", "2024-03"]
    text = reports.text_reports(an)["prompt_topics.txt"]
    assert text.startswith("Themes in the prompts: 3 themes in 360 prompts (chosen by the data")
    assert "top models: dreamshaper_8 (120)" in text


def test_the_number_of_themes_can_be_asked_for_or_turned_off(themed_db):
    assert len(run(themed_db, topics=2).topics.themes) == 2
    off = run(themed_db, topics=0)
    assert off.topics.themes == () and "prompt_topics.txt" in reports.text_reports(off)
    assert run(themed_db).topics == run(themed_db).topics  # seeded: the same every run


def test_too_few_prompts_give_no_themes_and_say_why(tmp_path):
    path = tmp_path / "few.db"
    con = db.connect(path)
    db.write_batch(con, [(record(f"/f/{i}.png", prompt="a cat, castle"), ()) for i in range(10)])
    con.close()
    an = run(path)
    assert an.topics.themes == ()
    assert "too few prompts" in reports.text_reports(an)["prompt_topics.txt"]


def _paths(path, ids):
    con = A.open_database(path)
    try:
        wanted = set(ids)
        return [p for i, p in con.execute("SELECT id, path FROM images") if i in wanted]
    finally:
        con.close()


def test_prompts_of_random_words_have_no_themes_to_claim(tmp_path):
    rng = random.Random(5)
    pool = [w for _, words in THEMES.values() for w in words]
    path = tmp_path / "noise.db"
    con = db.connect(path)
    db.write_batch(con, [(record(f"/n/{i}.png", sha256=f"{i:064d}", prompt=", ".join(COMMON + rng.sample(pool, 5))), ())
                         for i in range(360)])
    con.close()
    an = run(path)
    assert an.topics.themes == () and "no clear themes" in an.topics.chosen_by
