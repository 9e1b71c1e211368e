"""Generation stages: every sampler pass of an image, from real files through DB_filler.py, in
table ``stages``, the search language and the statistics; filled by the migration for
databases indexed before it, without reading a file again."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from exifdata_analytics import db
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.reparse import reparse
from exifdata_analytics.samples import a1111_infotext, write_png
from exifdata_analytics.search import search
from tests.conftest import PROJECT_DIR, rows
from tests.schema_support import as_schema_4


def _advanced(nid_model: str, start: int, end: int, latent: list, seed: int) -> dict:
    return {"class_type": "KSamplerAdvanced", "inputs": {
        "add_noise": "enable", "noise_seed": seed, "steps": 25, "cfg": 7.5, "sampler_name": "euler",
        "scheduler": "normal", "start_at_step": start, "end_at_step": end, "return_with_leftover_noise": "disable",
        "model": [nid_model, 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": latent}}


SDXL_REFINER = {  # base for steps 0-20, the refiner for 20-25 (ComfyUI's SDXL example)
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "12": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_refiner_1.0.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "10": _advanced("4", 0, 20, ["5", 0], 42),
    "11": _advanced("12", 20, 10000, ["10", 0], 42),
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["11", 0], "vae": ["12", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "sdxl", "images": ["8", 0]}},
}
HIRES = {  # a second KSampler over the upscaled latent, same model, denoise 0.5
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dreamshaper_8.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 7, "sampler_name": "dpmpp_2m",
                                               "scheduler": "karras", "denoise": 1, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "13": {"class_type": "LatentUpscaleBy", "inputs": {"upscale_method": "nearest-exact", "scale_by": 2,
                                                       "samples": ["3", 0]}},
    "14": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 12, "cfg": 7, "sampler_name": "uni_pc",
                                                "scheduler": "normal", "denoise": 0.5, "model": ["4", 0],
                                                "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["13", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["14", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "hires", "images": ["8", 0]}},
}


@pytest.fixture
def library(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "imgs"
    root.mkdir()
    write_png(root / "a1111_hires_refiner.png", {"parameters": a1111_infotext("a fox", "ugly", {
        "Steps": 30, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 6, "Seed": 7, "Size": "832x1216",
        "Model": "juggernautXL_v9", "Denoising strength": 0.45, "Hires upscale": 1.5, "Hires steps": 15,
        "Hires upscaler": "4x-UltraSharp", "Refiner": "sd_xl_refiner_1.0 [7440042bbd]", "Refiner switch at": 0.8,
        "Version": "v1.10.1"})})
    write_png(root / "a1111_plain.png", {"parameters": a1111_infotext("a cat", None, {
        "Steps": 20, "Sampler": "Euler a", "CFG scale": 7, "Seed": 3, "Size": "512x512", "Model": "dreamshaper_8",
        "Version": "v1.10.1"})})
    write_png(root / "comfy_refiner.png", {"prompt": json.dumps(SDXL_REFINER)})
    write_png(root / "comfy_hires.png", {"prompt": json.dumps(HIRES)})
    shutil.copy(root / "comfy_hires.png", root / "comfy_hires_copy.png")  # the same image twice
    db_path = tmp_path / "stages.db"
    fill(FillOptions(root=str(root), recursive=False, db_path=db_path, workers=1))
    return root, db_path


def _stages(db_path: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for r in rows(db_path, "SELECT i.file_name, s.stage, s.role, s.sampler, s.steps, s.denoise, s.model, s.start_step "
                           "FROM stages s JOIN images i ON i.id = s.image_id ORDER BY i.file_name, s.stage"):
        out.setdefault(r[0], []).append(tuple(r)[1:])
    return out


def test_every_pass_is_a_stage_and_one_pass_images_have_none(library):
    _, db_path = library
    stages = _stages(db_path)
    assert stages["a1111_hires_refiner.png"] == [
        (0, "first", "DPM++ 2M", 30, None, "juggernautXL_v9", None),
        (1, "refiner", "DPM++ 2M", 30, None, "sd_xl_refiner_1.0", 24),  # switched at 0.8 of 30 steps
        (2, "hires", "DPM++ 2M", 15, 0.45, "juggernautXL_v9", None)]
    assert stages["comfy_refiner.png"] == [
        (0, "first", "euler", 25, None, "sd_xl_base_1.0.safetensors", 0),
        (1, "refiner", "euler", 25, None, "sd_xl_refiner_1.0.safetensors", 20)]
    assert stages["comfy_hires.png"] == [
        (0, "first", "dpmpp_2m", 20, 1.0, "dreamshaper_8.safetensors", None),
        (1, "hires", "uni_pc", 12, 0.5, "dreamshaper_8.safetensors", None)]
    assert "a1111_plain.png" not in stages
    # the first-pass columns stay as they were
    (row,) = rows(db_path, "SELECT model, steps FROM images WHERE file_name = 'comfy_refiner.png'")
    assert tuple(row) == ("sd_xl_base_1.0.safetensors", 25)


def test_search_finds_images_by_any_stage(library):
    _, db_path = library
    con = db.connect(db_path, readonly=True)
    try:
        def total(q: str) -> int:
            return search(con, q).total
        assert total("stage:refiner") == 2 and total("stage:hires") == 3
        assert total("stage_model:refiner") == 2 and total("model:refiner") == 0  # not a first-pass model
        assert total("stage_sampler=uni_pc") == 2
        assert total("passes>=2") == 4 and total("passes:1") == 1 and total("passes:3") == 1
        assert total("NOT stage:refiner") == 3
    finally:
        con.close()


def test_the_statistics_count_pipelines_and_later_passes_once_per_image(library, tmp_path):
    _, db_path = library
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, str(PROJECT_DIR / "parameter_statistic.py"), "-y", "--db", str(db_path),
                           "--out", str(out), "--no-plots", "--json", "--workers", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = (out / "generation_stages.txt").read_text(encoding="utf-8")
    # the copy of comfy_hires.png counts once: 4 images, of which 3 in more than one pass
    assert text.startswith("Images made in more than one sampler pass: 3 of 4 (75.0%).")
    assert "first → refiner → hires       1" in text and "first → hires                 1" in text
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))["stages"]
    assert (data["images"], data["multi_pass"]) == (4, 3)
    refiner = next(p for p in data["later_passes"] if p["role"] == "refiner")
    # one name per thing: 'sd_xl_refiner_1.0 [7440042bbd]' (A1111) and the .safetensors file (ComfyUI)
    assert refiner["images"] == 2 and refiner["models"] == [["sd_xl_refiner_1.0", 2]]


def test_the_migration_fills_the_stages_of_an_older_database_without_reading_files(library):
    root, db_path = library
    before = _stages(db_path)
    con = sqlite3.connect(db_path)
    as_schema_4(con)
    con.execute("DROP TABLE stages")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    shutil.rmtree(root)  # nothing to read again
    db.connect(db_path).close()
    assert _stages(db_path) == before
    assert rows(db_path, "PRAGMA user_version")[0][0] == db.SCHEMA_VERSION


def test_reparse_rewrites_the_stages(library):
    _, db_path = library
    before = _stages(db_path)
    con = sqlite3.connect(db_path)
    con.execute("DELETE FROM stages")
    con.commit()
    con.close()
    reparse(db_path)
    assert _stages(db_path) == before


def test_a_file_that_loses_its_second_pass_loses_its_stages(library):
    root, db_path = library
    write_png(root / "comfy_hires.png", {"parameters": a1111_infotext("now one pass", None, {"Steps": 20, "Seed": 1})})
    fill(FillOptions(root=str(root), recursive=False, db_path=db_path, workers=1))
    assert "comfy_hires.png" not in _stages(db_path) and "comfy_hires_copy.png" in _stages(db_path)
