"""The official ComfyUI workflow templates (63 images carrying 41 templates, 16 of them with
subgraphs) scored by the shared conformance tool: a fresh DB_filler run must match >= 99.5% of
the expected fields, parse every file and crash on nothing. Skipped when ../shared is absent."""
from __future__ import annotations

import json

import pytest

from tests.conftest import TEMPLATES_CORPUS, corpus_skips, fill_corpus, rows

MANIFEST = TEMPLATES_CORPUS / "expected.json"
pytestmark = corpus_skips(MANIFEST)


@pytest.fixture(scope="module")
def templates_db(tmp_path_factory):
    return fill_corpus(tmp_path_factory, TEMPLATES_CORPUS)


def test_every_template_image_is_parsed_as_comfyui(templates_db):
    db_path, summary = templates_db
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert summary.found == len(manifest) == 63
    for r in rows(db_path):
        assert (r["parse_status"], r["generator"], r["error"]) == ("ok", "ComfyUI", None), r["path"]


def test_at_least_99_5_percent_of_fields_match(templates_db, conformance, capsys):
    db_path, _ = templates_db
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    records = conformance.records_from_db(str(db_path), str(TEMPLATES_CORPUS))
    hit, total, pct = conformance.score(manifest, records, verbose=True)
    report = capsys.readouterr().out
    assert total == 577
    assert pct >= 99.5, report
    subgraph_files = [e["file"] for e in manifest if "subgraph" in e["features"]]
    assert len(subgraph_files) == 16
    for name in subgraph_files:  # the templates that used to be stored unparsed
        assert f"MISS {name} " not in report, report
