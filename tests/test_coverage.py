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


def _graph_with(text_source: dict, seed_source: dict | None = None) -> dict:
    """A KSampler graph whose positive text comes from ``text_source`` (node 20) and, when
    given, whose seed comes from ``seed_source`` (node 40)."""
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "20": text_source,
        "30": {"class_type": "StringReplace", "inputs": {"string": ["20", 0], "find": "a", "replace": "b"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": ["30", 0], "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "bad", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": ["40", 0] if seed_source else 5, "steps": 20, "cfg": 7, "sampler_name": "euler",
            "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["8", 0]}},
    }
    if seed_source:
        graph["40"] = seed_source
    return graph


def _coverage_and_command(db_path: Path):
    """parse_coverage of the database, and what ``parameter_statistic_DB.py coverage`` prints."""
    import subprocess
    import sys

    from tests.conftest import PROJECT_DIR

    con = connect(db_path, readonly=True)
    try:
        cov = parse_coverage(con)
    finally:
        con.close()
    done = subprocess.run([sys.executable, str(PROJECT_DIR / "parameter_statistic_DB.py"), "coverage", "--db",
                           str(db_path)], capture_output=True, text=True, timeout=120)
    return cov, done


def test_comfyui_nodes_that_could_not_be_read_are_listed_by_images(tmp_path):
    import json

    from tests.conftest import rows

    folder = tmp_path / "imgs"
    folder.mkdir()
    llm = {"class_type": "OllamaGenerate", "inputs": {"model": "llama3", "prompt": "make a prompt about owls"}}
    odd_seed = {"class_type": "SeedMaker3000", "inputs": {"mode": "random", "salt": "x"}}
    plain = {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a castle"}}
    for name, graph in (("llm1.png", _graph_with(llm)), ("llm2.png", _graph_with(llm, odd_seed)),
                        ("plain.png", _graph_with(plain))):
        write_png(folder / name, [("prompt", json.dumps(graph))])
    db_path = tmp_path / "u.db"
    fill(FillOptions(root=str(folder), recursive=False, db_path=db_path, workers=1))
    by_name = {Path(r["path"]).name: r for r in rows(db_path)}
    # a language model's text is unknowable: no prompt, not its instruction
    assert by_name["llm1.png"]["prompt"] is None and by_name["llm2.png"]["seed"] is None
    assert by_name["plain.png"]["prompt"] == "b cbstle"  # StringReplace of a readable text still works
    cov, done = _coverage_and_command(db_path)
    assert [(u.node_class, u.images) for u in cov.unread] == [("OllamaGenerate", 2), ("SeedMaker3000", 1)]
    # the coverage command shows them, and its JSON has them
    assert done.returncode == 0, done.stderr
    assert "ComfyUI nodes whose values could not be read" in done.stdout
    assert "OllamaGenerate" in done.stdout and "SeedMaker3000" in done.stdout
    assert cov.as_dict()["unread_comfyui_nodes"][0] == {"node_class": "OllamaGenerate", "images": 2}


def test_a_save_node_s_text_that_disagrees_with_the_graph_is_recorded_and_counted(tmp_path):
    """Some savers write seed 0 or another prompt in their A1111 text: the graph's values are
    kept, the fields that differ are recorded, and coverage counts the files; a text that only
    spells the same values differently ('Euler a' for euler_ancestral, no folder) is no disagreement."""
    import json

    from tests.conftest import rows

    folder = tmp_path / "imgs"
    folder.mkdir()
    settings = {"Steps": 30, "Sampler": "Euler a", "CFG scale": 6, "Seed": 77, "Size": "512x768",
                "Model": "dreamshaper_8"}
    for name, text_prompt, text_seed in (("same.png", "a red fox", 77), ("zero.png", "a red fox", 0),
                                         ("other.png", "a blue whale", 0)):
        api, workflow, _ = comfyui_graph("a red fox", "blurry", model="SD15/dreamshaper_8.safetensors", seed=77,
                                         steps=30, cfg=6.0, sampler_name="euler_ancestral", width=512, height=768)
        text = a1111_infotext(text_prompt, "blurry", {**settings, "Seed": text_seed})
        write_png(folder / name, [("prompt", api), ("workflow", workflow), ("parameters", text)])
    db_path = tmp_path / "d.db"
    fill(FillOptions(root=str(folder), recursive=False, db_path=db_path, workers=1))
    by_name = {Path(r["path"]).name: r for r in rows(db_path)}
    for name in ("same.png", "zero.png", "other.png"):
        assert (by_name[name]["seed"], by_name[name]["prompt"]) == (77, "a red fox")  # the graph wins
    differs = {name: json.loads(r["params_json"]).get("Saver text differs") for name, r in by_name.items()}
    assert differs == {"same.png": None, "zero.png": ["seed"], "other.png": ["prompt", "seed"]}
    cov, done = _coverage_and_command(db_path)
    assert [(d.field, d.images) for d in cov.disagreements] == [("seed", 2), ("prompt", 1)]
    assert cov.as_dict()["saver_text_disagreements"][0] == {"field": "seed", "images": 2}
    assert done.returncode == 0 and "text disagrees with the graph" in done.stdout, done.stderr


def test_seeds_near_2_64_that_differ_are_a_disagreement():
    from exifdata_analytics.parsers.base import GenerationParams
    from exifdata_analytics.parsers.comfyui.params import disagreeing_fields

    graph = GenerationParams(generator="ComfyUI", seed=2**64 - 1, steps=20, cfg_scale=7.0)
    assert disagreeing_fields(graph, GenerationParams(generator="A1111", seed=2**64 - 2, steps=20, cfg_scale=7.0)) \
        == ["seed"]
    assert disagreeing_fields(graph, GenerationParams(generator="A1111", seed=str(2**64 - 1), steps="20",
                                                      cfg_scale=7.0000000001)) == []
