"""The coverage view: images per status, per generator (with field counts) and per failure reason."""
from __future__ import annotations

from pathlib import Path

from exifdata_analytics.coverage import failure_reason, parse_coverage
from exifdata_analytics.db import connect
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.samples import a1111_infotext, comfyui_graph, write_png


def _coverage(tmp_path: Path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    text = a1111_infotext("a cat", "ugly", {"Steps": 20, "Sampler": "Euler", "Seed": 1, "Size": "512x512",
                                            "Model": "m", "Version": "v1.10.1"})
    write_png(folder / "a1.png", [("parameters", text)])
    write_png(folder / "a2.png", [("parameters", text.replace("a cat", "a dog").replace("Model: m, ", ""))])
    pj, wj, _ = comfyui_graph("a fox", "")
    write_png(folder / "c.png", [("prompt", pj), ("workflow", wj)])
    write_png(folder / "gimp.png", [("Comment", "Created with GIMP")])
    write_png(folder / "gimp2.png", [("Comment", "edited again")])
    write_png(folder / "broken.png", [("prompt", pj[: len(pj) // 2])])
    write_png(folder / "plain.png", [])
    (folder / "zero.png").write_bytes(b"")
    db_path = tmp_path / "t.db"
    fill(FillOptions(root=str(folder), recursive=False, db_path=db_path, workers=1))
    con = connect(db_path, readonly=True)
    try:
        return parse_coverage(con)
    finally:
        con.close()


def test_counts_per_status_generator_and_reason(tmp_path):
    cov = _coverage(tmp_path)
    assert cov.total == 8 and cov.parsed == 3
    assert cov.statuses == (("ok", 3), ("no_metadata", 1), ("unparsed", 3), ("error", 1))
    by_gen = {g.generator: g for g in cov.generators}
    assert [g.generator for g in cov.generators] == ["A1111", "ComfyUI"]
    assert (by_gen["A1111"].images, by_gen["A1111"].with_prompt, by_gen["A1111"].with_model) == (2, 2, 1)
    assert (by_gen["ComfyUI"].with_negative_prompt, by_gen["ComfyUI"].with_size) == (0, 1)
    reasons = {(r.status, r.reason): r for r in cov.reasons}
    assert reasons[("unparsed", "no known generation format")].images == 2
    assert reasons[("unparsed", "no known generation format")].example.endswith("gimp.png")
    assert any(s == "unparsed" and "not valid JSON" in r for s, r in reasons)
    assert any(s == "error" and r.startswith("ExifTool") for s, r in reasons)
    assert cov.reasons[0].images == 2  # most frequent first
    assert cov.as_dict()["statuses"]["ok"] == 3


def test_empty_database(tmp_path):
    con = connect(tmp_path / "e.db")
    try:
        cov = parse_coverage(con)
    finally:
        con.close()
    assert (cov.total, cov.statuses, cov.generators, cov.reasons, cov.parsed) == (0, (), (), (), 0)


def test_failure_reason_keeps_the_stable_part():
    assert failure_reason(None) == "(no reason recorded)"
    assert failure_reason("no known generation format (PNG:Comment: 'x')") == "no known generation format"
    assert failure_reason("ComfyUI graph without a sampler node (PNG:Prompt); other") == \
        "ComfyUI graph without a sampler node"
    assert failure_reason("Error: File format error - /data/img/x.png") == "Error: File format error"
    assert failure_reason("cannot read file: [Errno 13] Permission denied: /data/x.png") == \
        "cannot read file: [Errno 13] Permission denied"
    assert failure_reason("ExifTool returned no data for this file") == "ExifTool returned no data for this file"
