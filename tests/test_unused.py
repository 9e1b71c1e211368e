"""parameter_statistic_DB.py unused MODELS_DIR: model files matched to the images by name and by
every hash scheme images carry, the never-used ones listed; a renamed file found by its hash; the
hashes cached (a second run reads nothing); the models folder left exactly as it was."""
from __future__ import annotations

import hashlib
import json
import os
import random
import struct
from pathlib import Path

import pytest

from conftest import run_script
from exifdata_analytics.samples import a1111_infotext, write_png


def _safetensors(path: Path, seed: int, size: int = 0x120000) -> bytes:
    """A real safetensors layout: 8-byte header length, JSON header, tensor bytes."""
    header = json.dumps({"w": {"dtype": "F16", "shape": [size // 2], "data_offsets": [0, size]},
                         "__metadata__": {"ss_network_module": "networks.lora"}}).encode()
    data = random.Random(seed).randbytes(size)
    blob = struct.pack("<Q", len(header)) + header + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return blob


def _autov1(blob: bytes) -> str:
    return hashlib.sha256(blob[0x100000:0x110000]).hexdigest()[:8]


def _addnet(blob: bytes) -> str:
    n = struct.unpack("<Q", blob[:8])[0]
    return hashlib.sha256(blob[8 + n:]).hexdigest()


def _image(folder: Path, name: str, **settings) -> None:
    text = a1111_infotext("a cat", "", {"Steps": 20, "Sampler": "Euler a", "Seed": 1, "Size": "512x512", **settings})
    write_png(folder / name, [("parameters", text)])


def _tree(root: Path) -> dict[str, tuple]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def library(tmp_path):
    models = tmp_path / "models"
    dream = _safetensors(models / "Stable-diffusion" / "dreamshaper_8.safetensors", 1)
    renamed = _safetensors(models / "Stable-diffusion" / "my_favourite.safetensors", 2)  # images call it 'juggernaut'
    old = _safetensors(models / "Stable-diffusion" / "sd15_old.ckpt", 3)
    lora = _safetensors(models / "Lora" / "detail_tweaker.safetensors", 4)  # images call it 'add_detail'
    emb = _safetensors(models / "embeddings" / "neg_v2.pt", 5)  # images call it 'easynegative'
    _safetensors(models / "Lora" / "never_used.safetensors", 6)
    _safetensors(models / "VAE" / "spare_vae.safetensors", 7)
    (models / "Lora" / "notes.txt").write_text("not a model")
    images = tmp_path / "images"
    images.mkdir()
    _image(images, "by_name.png", Model="dreamshaper_8", **{"Model hash": "0000000000"})
    _image(images, "by_autov2.png", Model="juggernaut", **{"Model hash": hashlib.sha256(renamed).hexdigest()[:10]})
    _image(images, "by_autov1.png", Model="v1-5-old", **{"Model hash": _autov1(old)})
    _image(images, "by_lora_hash.png", Model="dreamshaper_8", **{"Lora hashes": f"add_detail: {_addnet(lora)[:12]}",
                                                                  "Model hash": "0000000000"})
    _image(images, "by_ti_hash.png", Model="x", **{"TI hashes": f"easynegative: {hashlib.sha256(emb).hexdigest()[:12]}",
                                                   "Model hash": "0000000000"})
    config = tmp_path / "config.ini"
    config.write_text(f"[Paths]\nlogging_dir = {tmp_path / 'logs'}\n", encoding="utf-8")
    db = tmp_path / "t.db"
    run = run_script("DB_filler.py", str(images), "-y", "--db", str(db), "--config", str(config), "--no-progress")
    assert run.returncode == 0, run.stderr
    return models, db, config, dream


def _unused(models, db, config, *extra):
    run = run_script("parameter_statistic_DB.py", "unused", str(models), "--db", str(db), "--config", str(config),
                     "--no-progress", *extra)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_files_are_matched_by_name_and_by_every_hash_scheme(library):
    models, db, config, _ = library
    before = _tree(models)
    report = json.loads(_unused(models, db, config, "--json"))
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert set(by_name) == {"dreamshaper_8.safetensors", "my_favourite.safetensors", "sd15_old.ckpt",
                            "detail_tweaker.safetensors", "neg_v2.pt", "never_used.safetensors", "spare_vae.safetensors"}
    assert by_name["dreamshaper_8.safetensors"]["images"] == 2  # by its name: by_name.png, by_lora_hash.png
    assert by_name["dreamshaper_8.safetensors"]["matched_by"] == ["name"]
    assert by_name["my_favourite.safetensors"]["images"] == 1  # a renamed file: AutoV2
    assert by_name["my_favourite.safetensors"]["matched_by"] == ["hash"]
    assert by_name["sd15_old.ckpt"]["images"] == 1  # AutoV1
    assert by_name["detail_tweaker.safetensors"]["images"] == 1  # the additional-networks hash
    assert by_name["neg_v2.pt"]["images"] == 1  # TI hashes
    assert (by_name["detail_tweaker.safetensors"]["kind"], by_name["neg_v2.pt"]["kind"]) == ("lora", "embedding")
    assert sorted(Path(p).name for p in report["unused"]) == ["never_used.safetensors", "spare_vae.safetensors"]
    assert by_name["never_used.safetensors"]["last_used"] is None and by_name["sd15_old.ckpt"]["last_used"]
    assert _tree(models) == before  # read-only on the models folder


def test_a_second_run_reads_no_file_again(library):
    models, db, config, dream = library
    first = _unused(models, db, config)
    assert "hashed 7 files" in first and "Never used" in first
    # same size and modification time, other bytes: a run that read the file would see it changed
    target = models / "Stable-diffusion" / "my_favourite.safetensors"
    st = target.stat()
    target.write_bytes(bytes(st.st_size))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = _unused(models, db, config)
    assert "hashed" not in second
    assert json.loads(_unused(models, db, config, "--json"))["unused"] == json.loads(
        _unused(models, db, config, "--json"))["unused"]
    assert "my_favourite" in second.split("Never used")[0]  # still matched, by its cached hash


def test_a_missing_models_folder_is_a_clear_error(library, tmp_path):
    _, db, config, _ = library
    run = run_script("parameter_statistic_DB.py", "unused", str(tmp_path / "nowhere"), "--db", str(db), "--config",
                     str(config))
    assert run.returncode == 1 and "models folder not found" in run.stderr
