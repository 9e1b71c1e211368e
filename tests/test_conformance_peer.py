"""The peer corpus (80 real images from 20+ generators) scored by the shared conformance tool:
a fresh DB_filler run must match >= 97% of the expected fields, leave every negative control
without a prompt and crash on nothing. Skipped when ../shared is absent."""
from __future__ import annotations

import json
import shutil

import pytest

from exifdata_analytics.coverage import parse_coverage
from exifdata_analytics.db import connect
from exifdata_analytics.reparse import reparse
from tests.conftest import PEER_CORPUS, corpus_skips, fill_corpus, rows

MANIFEST = PEER_CORPUS / "expected.json"
pytestmark = corpus_skips(MANIFEST)


@pytest.fixture(scope="module")
def peer_db(tmp_path_factory):
    return fill_corpus(tmp_path_factory, PEER_CORPUS)


def test_every_file_is_indexed_and_none_crashes_a_parser(peer_db):
    db_path, summary = peer_db
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert summary.found == len(manifest) == 80
    for r in rows(db_path):
        assert "parser failed" not in (r["error"] or ""), (r["path"], r["error"])
        if r["parse_status"] == "error":  # only files ExifTool itself cannot read
            assert r["error"].startswith("ExifTool"), (r["path"], r["error"])


def test_at_least_97_percent_of_fields_match_and_negative_controls_have_no_prompt(peer_db, conformance, capsys):
    db_path, _ = peer_db
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    records = conformance.records_from_db(str(db_path), str(PEER_CORPUS))
    hit, total, pct = conformance.score(manifest, records, verbose=True)
    report = capsys.readouterr().out
    assert pct >= 97.0, report
    assert "negative-control" not in report, report
    controls = [e for e in manifest if e.get("negative_control") or (e.get("expected") or {}).get("status") == "empty"]
    assert len(controls) >= 12
    for entry in controls:
        assert not conformance.norm_text((records.get(entry["file"]) or {}).get("prompt")), entry["file"]


def test_reparse_reproduces_the_fill_and_coverage_counts_it(peer_db, tmp_path):
    db_path, _ = peer_db
    copy = tmp_path / "copy.db"
    shutil.copyfile(db_path, copy)
    before = {r["path"]: dict(r) for r in rows(copy)}
    result = reparse(copy)
    assert result.rows == 80
    for r in rows(copy):
        for col in ("generator", "prompt", "seed", "model", "width", "parse_status", "error", "params_json"):
            assert r[col] == before[r["path"]][col], (r["path"], col)
    con = connect(copy, readonly=True)
    try:
        cov = parse_coverage(con)
    finally:
        con.close()
    generators = {g.generator for g in cov.generators}
    assert {"ComfyUI", "InvokeAI", "NovelAI", "Fooocus", "RuinedFooocus", "SwarmUI", "Stability Matrix", "TensorArt",
            "HuggingFace Space", "Civitai", "A1111", "Forge", "SD.Next", "OpenAI", "Google"} <= generators
    assert dict(cov.statuses)["ok"] >= 65
    reasons = {r.reason for r in cov.reasons}
    # workflow-only images whose sampler settings come from custom reader nodes say so
    assert "ComfyUI sampler settings come from nodes that do not store their values" in reasons
