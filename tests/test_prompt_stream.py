"""The prompt statistics in chunks: whatever the chunk size, the words, TF-IDF (to the last
bit), tags, keyword hits, tag pairs, themes and tag matrix are those of one chunk holding every
prompt; the texts read in chunks are those read at once, duplicates and embeddings handled."""
from __future__ import annotations

import random

import numpy as np
import pytest

from exifdata_analytics import analysis as A
from exifdata_analytics import db
from exifdata_analytics.analysis.prompt_stream import iter_cleaned
from exifdata_analytics.analysis.prompt_statistics import streamed_prompt_statistics
from exifdata_analytics.analysis.selection import iter_texts
from exifdata_analytics.parsers.base import Resource
from test_analysis import record

WORDS = ["castle", "knight", "beach", "ocean", "neon", "city", "rain", "cat", "dog", "forest", "the", "and",
         "long hair", "blue eyes", "oil painting", "(masterpiece:1.2)", "best_quality", "猫", "2024"]


@pytest.fixture(scope="module")
def prompt_db(tmp_path_factory):
    rng = random.Random(11)
    rows = []
    for i in range(420):
        prompt = ", ".join(rng.sample(WORDS, rng.randint(1, 7))) + (", badhand" if i % 5 == 0 else "")
        if i % 37 == 0:
            prompt = "   "  # blank: no prompt
        sha = f"{i % 400:064d}"  # 20 copies of earlier images: counted once
        resources = (Resource("embedding", "badhand", None, None, "TI hashes"),) if i % 5 == 0 else ()
        rows.append((record(f"/p/{i}.png", sha256=sha, prompt=prompt, model="m"), resources))
    path = tmp_path_factory.mktemp("stream") / "p.db"
    con = db.connect(path)
    db.write_batch(con, rows)
    con.close()
    return path


def _chunks(cleaned, size):
    ids, texts = cleaned.index.tolist(), cleaned.tolist()
    return [(ids[i:i + size], texts[i:i + size]) for i in range(0, len(texts), size)]


@pytest.mark.parametrize("size", [1, 7, 64])
def test_any_chunk_size_gives_the_whole_matrix_numbers(prompt_db, size):
    con = A.open_database(prompt_db)
    cleaned = A.cleaned_texts(con, "prompt")
    con.close()
    keywords = ("castle", "long hair", "猫", "nothing here")
    whole = streamed_prompt_statistics(_chunks(cleaned, len(cleaned)), keywords, 100, None, True)
    parts = streamed_prompt_statistics(_chunks(cleaned, size), keywords, 100, None, True)
    assert whole.words.items and whole.tfidf and whole.tags.items
    assert parts.words == whole.words and parts.tags == whole.tags
    assert parts.tfidf == whole.tfidf  # the same floating-point sums, not merely close ones
    assert parts.keyword_hits == whole.keyword_hits and dict(whole.keyword_hits)["castle"]
    assert parts.tag_pairs == whole.tag_pairs and whole.tag_pairs.pairs
    assert parts.topics.chosen_by == whole.topics.chosen_by and whole.topics.prompts > 300
    assert [t.words for t in parts.topics.themes] == [t.words for t in whole.topics.themes]
    assert [t.image_ids for t in parts.topics.themes] == [t.image_ids for t in whole.topics.themes]
    a, b = parts.image_tags, whole.image_tags
    assert (a.index == b.index).all() and list(a.tags) == list(b.tags) and (a.matrix != b.matrix).nnz == 0


def test_texts_read_in_chunks_are_the_texts_read_at_once(prompt_db):
    con = A.open_database(prompt_db)
    at_once = A.load_texts(con, "prompt")
    chunked = [chunk for chunk in iter_texts(con, "prompt", rows=9)]
    cleaned = [text for _, texts in iter_cleaned(con, "prompt") for text in texts]
    con.close()
    assert len(chunked) > 40 and all(len(ids) <= 9 for ids, _, _ in chunked)
    ids = [i for chunk_ids, _, _ in chunked for i in chunk_ids]
    assert ids == at_once.index.tolist() == sorted(ids)
    assert len(ids) == 400 - len(range(0, 400, 37))  # one copy per content, blank prompts left out
    names = {i: n for chunk_ids, _, chunk_names in chunked for i, n in zip(chunk_ids, chunk_names)}
    assert names[6] == ("badhand",) and names[2] == ()  # image 6 is the sixth file, i == 5
    assert not any("badhand" in text for text in cleaned)  # embeddings are resources, not words


def test_no_prompts_give_empty_statistics():
    stats = streamed_prompt_statistics([], ("cat",))
    assert stats.words.items == () and stats.tfidf == () and stats.tags.items == ()
    assert stats.keyword_hits == (("cat", ()),) and "too few prompts" in stats.topics.chosen_by
    assert np.asarray(stats.tag_pairs.pairs).size == 0
