"""One name per thing, end to end: a folder of real images from A1111 (before and after 1.9),
ComfyUI, InvokeAI and NovelAI that spell one sampler, one schedule, one model and one LoRA in
their own ways goes through the real DB_filler.py and parameter_statistic.py; every report
counts the things, --raw-names the spellings, and the stored canonical columns say the same."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import rows, run_script
from exifdata_analytics.samples import a1111_infotext, comfyui_graph, write_png

HASH = "879db523c3"  # dreamshaper_8's short hash (A1111 'Model hash')


def _a1111(folder: Path, name: str, sampler: str, schedule: str | None = None, model: str = "dreamshaper_8",
           model_hash: str = HASH, lora: str = "add_detail") -> None:
    settings = {"Steps": 20, "Sampler": sampler, **({"Schedule type": schedule} if schedule else {}),
                "CFG scale": 7, "Seed": 1, "Size": "512x512", "Model hash": model_hash, "Model": model,
                "Lora hashes": f"{lora}: 0123456789ab", "Version": "v1.10.1" if schedule else "v1.7.0"}
    write_png(folder / name, [("parameters", a1111_infotext(f"a cat, <lora:{lora}:0.6>", "blurry", settings))])


def _invokeai(folder: Path, name: str, scheduler: str) -> None:
    meta = {"generation_mode": "txt2img", "positive_prompt": "a cat", "negative_prompt": "", "width": 512,
            "height": 512, "seed": 5, "cfg_scale": 7.0, "steps": 20, "scheduler": scheduler,
            "model": {"key": "k", "hash": "blake3:00", "name": "dreamshaper_8", "base": "sd-1", "type": "main"},
            "loras": [{"model": {"key": "a1", "name": "add_detail", "base": "sd-1"}, "weight": 0.5}],
            "app_version": "4.2.0"}
    write_png(folder / name, [("invokeai_metadata", json.dumps(meta))])


def _novelai(folder: Path, name: str, sampler: str) -> None:
    comment = {"steps": 28, "sampler": sampler, "seed": 7, "scale": 5.0, "uc": "lowres", "width": 512, "height": 768}
    write_png(folder / name, [("Description", "a cat"), ("Software", "NovelAI"),
                              ("Source", "NovelAI Diffusion V3 4BDE2A90"), ("Comment", json.dumps(comment))])


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spellings")
    folder = root / "images"
    folder.mkdir()
    # DPM++ 2M + Karras, five ways
    _a1111(folder, "a1111_old.png", "DPM++ 2M Karras")
    _a1111(folder, "a1111_new.png", "DPM++ 2M", "Karras")
    _a1111(folder, "a1111_renamed.png", "DPM++ 2M Karras", model="dreamshaper8_renamed")  # same hash
    _invokeai(folder, "invoke.png", "dpmpp_2m_k")
    prompt, workflow, _ = comfyui_graph("a cat", "blurry", model="SD1.5/dreamshaper_8.safetensors",
                                        sampler_name="dpmpp_2m", scheduler="karras",
                                        loras=[("SD1.5\\add_detail.safetensors", 0.8)])
    write_png(folder / "comfy_dpm.png", [("prompt", prompt), ("workflow", workflow)])
    # Euler a, four ways
    _a1111(folder, "a1111_euler.png", "Euler a")
    prompt, workflow, _ = comfyui_graph("a dog", model="other_model.safetensors", sampler_name="euler_ancestral")
    write_png(folder / "comfy_euler.png", [("prompt", prompt), ("workflow", workflow)])
    _invokeai(folder, "invoke_euler.png", "euler_a")
    _novelai(folder, "nai.png", "k_euler_ancestral")
    _a1111(folder, "unknown.png", "  Fancy Sampler 9000 ", model="other_model", model_hash="0123abcdef")  # not in the tables
    db = root / "lib.db"
    config = root / "config.ini"
    config.write_text(f"[Paths]\nlogging_dir = {root / 'logs'}\n", encoding="utf-8")
    run = run_script("DB_filler.py", str(folder), "-y", "--db", str(db), "--config", str(config), "--no-progress")
    assert run.returncode == 0, run.stderr
    return db, config


def _counts(text: str, block: str) -> dict[str, int]:
    """'Analysis for Sampler:' block of parameter_counts.txt -> {value: count}."""
    lines = text.split(f"Analysis for {block}:\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return {line.rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1]) for line in lines}


def _statistics(library, tmp_path, *extra) -> Path:
    db, config = library
    out = tmp_path / "out"
    run = run_script("parameter_statistic.py", "-y", "--db", str(db), "--out", str(out), "--no-plots",
                     "--keywords", "cat", "--config", str(config), "--workers", "1", *extra)
    assert run.returncode == 0, run.stderr
    return out


def test_every_report_counts_one_line_per_sampler_schedule_model_and_lora(library, tmp_path):
    out = _statistics(library, tmp_path)
    counts = (out / "parameter_counts.txt").read_text(encoding="utf-8")
    assert _counts(counts, "Sampler") == {"DPM++ 2M": 5, "Euler a": 4, "Fancy Sampler 9000": 1}  # unknown: trimmed
    assert _counts(counts, "Scheduler") == {"Karras": 5, "Normal": 1}  # Normal: ComfyUI's euler_ancestral + normal
    # one model under its most used spelling: folders, extension and a renamed copy (same hash) merged
    models = _counts(counts, "Model")
    assert models == {"dreamshaper_8": 7, "other_model": 2, "NovelAI Diffusion V3": 1}
    assert "dreamshaper8_renamed" not in models
    lora = (out / "lora_usage.txt").read_text(encoding="utf-8")
    assert "add_detail: 8 images, mean weight 0.60\n" in lora and "SD1.5" not in lora  # A1111, InvokeAI, ComfyUI
    keyword = (out / "keyword_analysis.txt").read_text(encoding="utf-8")
    # 'cat' is in every prompt but comfy_euler's ('a dog'): DPM++ 2M 5 ways, Euler a 3 ways, each one entry
    assert keyword == ("Keyword: cat\nCount: 9\nTop Models: dreamshaper_8 (7), NovelAI Diffusion V3 (1), other_model (1)\n"
                       "Top Samplers: DPM++ 2M (5), Euler a (3), Fancy Sampler 9000 (1)\n")
    combinations = (out / "combinations.txt").read_text(encoding="utf-8")
    assert "dreamshaper_8 + DPM++ 2M: 5\n" in combinations


def test_raw_names_count_the_spellings(library, tmp_path):
    counts = (_statistics(library, tmp_path, "--raw-names") / "parameter_counts.txt").read_text(encoding="utf-8")
    samplers = _counts(counts, "Sampler")
    assert samplers["DPM++ 2M Karras"] == 2 and samplers["dpmpp_2m_k"] == 1 and samplers["k_euler_ancestral"] == 1
    assert "dreamshaper8_renamed" in _counts(counts, "Model")


def test_the_canonical_columns_are_stored_beside_the_written_ones(library):
    db, _ = library
    stored = {r["file_name"]: (r["sampler"], r["scheduler"], r["canonical_sampler"], r["canonical_scheduler"],
                               r["model"], r["canonical_model"]) for r in rows(db)}
    assert stored["a1111_old.png"] == ("DPM++ 2M Karras", None, "DPM++ 2M", "Karras", "dreamshaper_8", "dreamshaper_8")
    assert stored["invoke.png"][2:4] == ("DPM++ 2M", "Karras")
    assert stored["a1111_renamed.png"][4:] == ("dreamshaper8_renamed", "dreamshaper_8")
    assert stored["comfy_dpm.png"][4:] == ("SD1.5/dreamshaper_8.safetensors", "dreamshaper_8")
    assert stored["nai.png"][2] == "Euler a"
    con = sqlite3.connect(db)
    try:
        loras = set(con.execute("SELECT name, canonical_name FROM resources WHERE kind = 'lora'"))
        spellings = dict(con.execute("SELECT spelling, canonical FROM spellings WHERE kind = 'checkpoint'"))
    finally:
        con.close()
    assert {c for _, c in loras} == {"add_detail"}
    assert spellings["dreamshaper8_renamed"] == spellings["SD1.5/dreamshaper_8.safetensors"] == "dreamshaper_8"


def test_search_finds_every_spelling(library):
    db, config = library
    for query, expected in (('sampler:"Euler a"', 4), ("sampler:dpmpp_2m_k", 5), ("model:dreamshaper_8", 7),
                            ("model=other_model.safetensors", 2),
                            ("lora=add_detail", 8)):
        run = run_script("parameter_statistic_DB.py", "search", query, "--json", "--db", str(db), "--config",
                         str(config))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["total"] == expected, query


def test_a_spelling_the_tables_do_not_know_is_kept_and_listed_in_coverage(library, tmp_path):
    db, config = library
    cov = run_script("parameter_statistic_DB.py", "coverage", "--json", "--db", str(db), "--config", str(config))
    assert cov.returncode == 0, cov.stderr
    assert json.loads(cov.stdout)["unknown_spellings"] == [
        {"field": "sampler", "spelling": "Fancy Sampler 9000", "images": 1}]
    report = (_statistics(library, tmp_path) / "coverage.txt").read_text(encoding="utf-8")
    assert "spellings the names tables do not know" in report and "Fancy Sampler 9000" in report


def test_database_stats_count_things_not_spellings(library):
    db, config = library
    run = run_script("parameter_statistic_DB.py", "stats", "--json", "--db", str(db), "--config", str(config))
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert (stats["distinct_samplers"], stats["distinct_models"], stats["distinct_loras"]) == (3, 3, 1)
    assert stats["top_samplers"][:2] == [["DPM++ 2M", 5], ["Euler a", 4]]
