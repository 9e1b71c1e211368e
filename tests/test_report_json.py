"""report.json: every section of a run as data, generated from the Analysis dataclasses, with the
documented contract (head keys, one key per section, the model_cards[] and label_analysis
shapes), valid UTF-8 JSON even for NaN and seeds past 2**53; and --json end to end through the
real scripts, from real PNG files indexed by DB_filler.py with ExifTool."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from conftest import run_script
from exifdata_analytics import analysis as A
from exifdata_analytics import reports
from exifdata_analytics.samples import a1111_infotext, write_png
from test_analysis import build_small_db, run

CARD_CONTRACT = {"model", "images", "share", "first_used", "last_used", "cfg_median", "cfg_q1", "cfg_q3",
                 "steps_median", "steps_q1", "steps_q3", "denoise_median", "denoise_q1", "denoise_q3",
                 "top_samplers", "sizes", "vaes", "loras", "generators"}
HEAD = {"schema_version", "generated", "database", "filters", "images", "selection", "options"}


# A stand-in of the labels part's result, in the contract's shape: the serializer must give
# exactly these keys for any dataclass of this shape.
@dataclass(frozen=True)
class Finding:
    label: str
    field: str
    value: str
    images: int
    rate: float
    rate_without: float
    ci95: tuple[float, float]
    significant: bool


@dataclass(frozen=True)
class Importance:
    field: str
    importance: float


@dataclass(frozen=True)
class LabelModel:
    auc: Optional[float]
    importances: tuple[Importance, ...]


@dataclass(frozen=True)
class LabelAnalysis:
    findings: tuple[Finding, ...]
    model: Optional[LabelModel]


STAND_IN = LabelAnalysis(
    findings=(Finding("keep", "LoRA", "alpha_style", 120, 0.41, 0.13, (0.33, 0.5), True),
              Finding("keep", "Sampler", "Euler a", 300, 0.2, float("nan"), (np.float64(0.1), 0.3), np.bool_(False))),
    model=LabelModel(np.float64(0.81), (Importance("LoRA", 0.12), Importance("Sampler", np.float32(0.0)))))


@pytest.fixture(scope="module")
def small_analysis(tmp_path_factory) -> A.Analysis:
    path = build_small_db(tmp_path_factory.mktemp("json") / "small.db")
    return run(path, keywords=("cat",), compare=("folder=/lib/a", "folder=/lib/b"))


def test_the_label_analysis_contract_keys_come_out_exactly():
    data = json.loads(json.dumps(reports.to_data(STAND_IN), allow_nan=False))
    assert set(data) == {"findings", "model"}
    assert [set(f) for f in data["findings"]] == [{"label", "field", "value", "images", "rate", "rate_without",
                                                   "ci95", "significant"}] * 2
    assert data["findings"][0] == {"label": "keep", "field": "LoRA", "value": "alpha_style", "images": 120,
                                   "rate": 0.41, "rate_without": 0.13, "ci95": [0.33, 0.5], "significant": True}
    assert data["findings"][1]["rate_without"] is None and data["findings"][1]["significant"] is False
    assert data["model"]["auc"] == pytest.approx(0.81)
    assert data["model"]["importances"] == [{"field": "LoRA", "importance": 0.12},
                                            {"field": "Sampler", "importance": 0.0}]


def test_the_label_analysis_section_appears_under_its_field_name(small_analysis):
    data = json.loads(reports.format_json(dataclasses.replace(small_analysis, label_analysis=STAND_IN)))
    assert data["label_analysis"]["model"]["importances"][0] == {"field": "LoRA", "importance": 0.12}
    assert set(data["label_analysis"]["findings"][0]) >= {"label", "field", "value", "images", "rate",
                                                          "rate_without", "ci95", "significant"}


def test_values_become_json_safe():
    big = 2 ** 64 - 1  # a ComfyUI seed
    data = reports.to_data({"seed": big, "small": 2 ** 53, "neg": -(2 ** 53 + 1), "nan": float("nan"),
                            "inf": np.float32("inf"), "np": np.int64(7), "arr": np.array([1.5, np.nan]),
                            "set": {"b", "a"}, "path": Path("/x/y"), "when": datetime(2024, 1, 2, 3, 4, 5),
                            1: ("t", (2, 3))})
    assert data == {"seed": str(big), "small": 2 ** 53, "neg": str(-(2 ** 53 + 1)), "nan": None, "inf": None,
                    "np": 7, "arr": [1.5, None], "set": ["a", "b"], "path": "/x/y", "when": "2024-01-02T03:04:05",
                    "1": ["t", [2, 3]]}
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_every_section_of_the_analysis_is_in_the_report(small_analysis):
    data = json.loads(reports.format_json(small_analysis, generated=datetime(2024, 6, 1, 12, 0, 0)))
    sections = {f.name for f in dataclasses.fields(A.Analysis)} - {
        "db_path", "options", "total_rows", "matching_rows", "images", "duplicates_dropped", "with_prompt"}
    assert set(data) == HEAD | sections
    assert data["schema_version"] == reports.SCHEMA_VERSION == 1
    assert data["generated"] == "2024-06-01T12:00:00"
    assert data["images"] == 7 and data["selection"] == {"rows": 8, "matching_rows": 8, "duplicates_dropped": 1,
                                                        "dedupe": True, "with_prompt": 5}
    assert data["filters"]["description"] == "none (whole database)" and data["filters"]["folders"] == []
    assert data["options"]["keywords"] == ["cat"] and "filters" not in data["options"]
    assert data["parameters"][0]["name"] == "Sampler"
    assert data["parameters"][0]["items"] == [["Euler a", 2], ["DPM++ 2M", 1], ["Euler", 1]]
    assert data["parameters"][0]["total"] == 4  # read-only properties come along
    assert data["comparison"]["label_a"] == "folder=/lib/a"


def test_model_cards_carry_the_contract_fields(small_analysis):
    data = json.loads(reports.format_json(small_analysis))
    cards = data["model_cards"]
    assert [c["model"] for c in cards] == ["dreamshaper_8", "sdxl_base"]
    assert all(CARD_CONTRACT <= set(c) for c in cards)
    first = cards[0]
    assert (first["images"], first["cfg_median"], first["steps_median"], first["denoise_median"]) == (3, 7.25, 25.0,
                                                                                                      None)
    assert first["top_samplers"] == [{"sampler": "Euler a", "schedule": None, "images": 2}]
    assert first["loras"] == [{"name": "add_detail", "images": 1, "mean_weight": 0.8}]
    assert first["small_sample"] == ["cfg", "steps"]
    co = data["co_use"]
    assert set(co) == {"min_item_images", "min_pair_images", "level", "lora_model", "lora_lora", "tags"}
    assert co["tags"]["images"] == 5 and co["tags"]["pairs"] == []


def test_report_json_is_written_whole_as_utf8(small_analysis, tmp_path):
    path = reports.write_json_report(small_analysis, tmp_path / "out")
    assert path.name == reports.JSON_REPORT and not list(path.parent.glob("*.tmp"))
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert "hatsune miku (vocaloid)" in text
    assert json.loads(text)["images"] == 7


# -- end to end ---------------------------------------------------------------------------------

def _library(folder: Path) -> Path:
    """12 real PNGs as A1111 writes them: 'alpha' in 8 (its LoRA 'alpha_style' in 6 of them),
    'beta' in 4; a Japanese prompt tag; a ComfyUI-size seed."""
    folder.mkdir()
    for i in range(12):
        model = "alpha" if i < 8 else "beta"
        lora = " <lora:alpha_style:0.7>" if i < 6 else ""
        settings = {"Steps": 20 + i, "Sampler": "DPM++ 2M Karras" if i % 2 else "Euler a", "CFG scale": 7,
                    "Seed": 2 ** 64 - 1 - i, "Size": "512x768", "Model": model}
        write_png(folder / f"{i:02d}.png", [("parameters", a1111_infotext(f"a cat, 猫, castle{lora}", "blurry",
                                                                          settings))], seed=i)
    return folder


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("json_e2e")
    db_file = tmp / "lib.db"
    done = run_script("DB_filler.py", str(_library(tmp / "images")), "-r", "-y", "--no-progress", "--db", str(db_file))
    assert done.returncode == 0, done.stderr
    return db_file


def test_json_flag_end_to_end_through_the_real_scripts(indexed, tmp_path):
    out = tmp_path / "out"
    done = run_script("parameter_statistic.py", "-y", "--db", str(indexed), "--out", str(out), "--json",
                      "--no-plots", "--workers", "2")  # tag pairs then come from the helper process
    assert done.returncode == 0, done.stderr
    assert f"JSON report: {out / 'report.json'}" in done.stdout
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert HEAD <= set(data) and {"model_cards", "co_use", "parameters", "distributions"} <= set(data)
    assert data["database"] == str(indexed) and data["images"] == 12
    cards = {c["model"]: c for c in data["model_cards"]}
    assert set(cards) == {"alpha", "beta"}
    alpha = cards["alpha"]
    assert CARD_CONTRACT <= set(alpha)
    assert (alpha["images"], alpha["cfg_median"], alpha["steps_median"]) == (8, 7.0, 23.5)
    assert sorted((s["sampler"], s["schedule"], s["images"]) for s in alpha["top_samplers"]) == [
        ("DPM++ 2M", "Karras", 4), ("Euler a", None, 4)]
    assert alpha["loras"] == [{"name": "alpha_style", "images": 6, "mean_weight": pytest.approx(0.7)}]
    assert alpha["sizes"][0]["size"] == "512x768" and alpha["sizes"][0]["aspect_ratio"] == "2:3"
    # the LoRA is used only with alpha: always together, at 100% (too few images to stand out)
    pair = data["co_use"]["lora_model"]["pairs"][0]
    assert (pair["a"], pair["b"], pair["both"], pair["confidence_ab"], pair["always"]) == ("alpha_style", "alpha",
                                                                                           6, 1.0, True)
    tags = data["co_use"]["tags"]
    # three tags in every prompt: always together, yet no more often than chance (lift 1): none stands out
    assert {(p["a"], p["b"]) for p in tags["always"]} == {("a cat", "castle"), ("a cat", "猫"), ("castle", "猫")}
    assert all(p["lift"] == 1.0 and not p["stands_out"] for p in tags["pairs"])
    assert "猫" in (out / "report.json").read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert not any(isinstance(v, float) and math.isnan(v) for v in alpha.values())


def test_without_json_flag_no_report_json(indexed, tmp_path):
    out = tmp_path / "out"
    done = run_script("parameter_statistic.py", "-y", "--db", str(indexed), "--out", str(out), "--no-plots",
                      "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert not (out / "report.json").exists() and (out / "model_cards.txt").exists()
    assert (out / "co_usage.txt").exists()
