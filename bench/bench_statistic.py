#!/usr/bin/env python3
"""Scale benchmark of parameter_statistic.py: a full default run on a 100,000-image database.

Synthetic rows are written straight into our schema (exifdata_analytics.db.write_batch): no
images, no ExifTool, so building the database takes seconds rather than hours. The rows look
like a real A1111/Forge collection: weighted prompts with BREAK, <lora:…> calls and a long
tail of rare tags, negative prompts with embeddings, LoRA/embedding resources, dates over two
years, 5% mirrored copies (same sha256), camera photos and files without generation data.

Each run is timed with /usr/bin/time -v (wall clock, CPU, and the peak RSS it reports: that
of the largest single process); the script's own log line adds the peaks of its main and
helper processes, whose sum is printed too. Medians of the runs are printed last. The target
(set when the statistics were built): under 15 s and 600 MB.

    .venv/bin/python bench/bench_statistic.py                 # 100,000 rows, 3 runs
    .venv/bin/python bench/bench_statistic.py --rows 20000 --runs 1 --html
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from exifdata_analytics import db  # noqa: E402
from exifdata_analytics.parsers.base import Resource  # noqa: E402

QUALITY = ["masterpiece", "best quality", "high quality", "ultra detailed", "absurdres", "8k", "photorealistic",
           "raw photo", "sharp focus", "score_9", "score_8_up", "very aesthetic", "film grain", "hdr"]
SUBJECTS = ["1girl", "1boy", "woman", "old man", "knight", "samurai", "witch", "elf", "robot", "astronaut",
            "pirate", "dragon", "cat", "dog", "fox", "owl", "mermaid", "vampire", "ninja", "detective"]
DESCRIPTORS = ["long hair", "short hair", "silver hair", "blue eyes", "freckles", "smile", "looking at viewer",
               "full body", "upper body", "portrait", "dynamic pose", "holding sword", "armor", "cloak", "kimono",
               "glasses", "scarf", "wings", "hood", "flowers in hair", "hatsune miku \\(vocaloid\\)"]
SETTINGS = ["castle", "forest", "cyberpunk city", "beach", "mountains", "snowy village", "library", "cafe",
            "temple", "ruins", "underwater", "cathedral", "rooftop", "harbor", "lighthouse", "space station"]
STYLES = ["oil painting", "watercolor", "digital painting", "concept art", "anime style", "cinematic",
          "studio ghibli", "art nouveau", "dark fantasy", "by greg rutkowski", "trending on artstation",
          "35mm photograph", "kodak portra 400", "ukiyo-e", "synthwave", "steampunk"]
LIGHTING = ["volumetric lighting", "dramatic lighting", "soft lighting", "rim light", "golden hour", "moonlight",
            "neon lights", "god rays", "bokeh", "depth of field", "fog", "cinematic lighting"]
NEGATIVE = ["worst quality", "low quality", "lowres", "bad anatomy", "bad hands", "extra fingers", "deformed",
            "blurry", "jpeg artifacts", "watermark", "signature", "text", "cropped", "poorly drawn face",
            "monochrome", "ugly", "extra limbs", "long neck", "score_4", "score_5"]
EMBEDDINGS = ["easynegative", "badhandv4", "ng_deepnegative_v1_75t", "EasyNegativeV2", "verybadimagenegative_v1.3"]
LORAS = ["add_detail", "epiNoiseoffset_v2", "more_details", "LowRA", "detailed_eye", "pixel-art-xl",
         "ghibli_style_offset", "film_grain_v1", "hands_repair_v5", "cyberpunk_2077_v2", "neon_palette"]
MODELS = ["dreamshaper_8", "realisticVisionV51_v51VAE", "sd_xl_base_1.0", "juggernautXL_v9Rundiffusionphoto2",
          "revAnimated_v122EOL", "majicmixRealistic_v7", "animagineXLV31_v31",
          "ponyDiffusionV6XL_v6StartWithThisOne", "epicrealism_naturalSinRC1VAE", "v1-5-pruned-emaonly"]
SAMPLERS = [("Euler a", None), ("Euler", None), ("DPM++ 2M Karras", None), ("DPM++ 2M", "Karras"),
            ("DPM++ SDE", "Karras"), ("DPM++ 2M SDE", "Exponential"), ("DDIM", None), ("UniPC", None)]
SIZES = [(512, 512), (512, 768), (768, 512), (1024, 1024), (832, 1216)]
VAES = ["vae-ft-mse-840000-ema-pruned", "sdxl_vae", "kl-f8-anime2", None]
CAMERAS = [("Canon", "Canon EOS R5", "RF24-105mm F4 L IS USM"), ("NIKON CORPORATION", "NIKON D850", "50.0 mm f/1.8"),
           ("SONY", "ILCE-7M3", "FE 85mm F1.8"), ("Apple", "iPhone 13 Pro", "iPhone 13 Pro back camera")]
SYLLABLES = ["ka", "ri", "mo", "zen", "tal", "ver", "quo", "lin", "dra", "phe", "nos", "ul", "ix", "bor", "sa"]


def rare_tags(r: random.Random, n: int) -> list[str]:
    """A long tail of rare tags (artists, characters, objects) as in real collections."""
    return ["".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 4))) + r.choice(["", " style", " art", "_v2"])
            for _ in range(n)]


def weighted_term(r: random.Random, term: str) -> str:
    x = r.random()
    if x < 0.12:
        return f"({term}:{r.choice([1.1, 1.2, 1.3, 0.8])})"
    if x < 0.18:
        return f"(({term}))"
    if x < 0.21:
        return f"[{term}]"
    return term


def make_row(i: int, r: random.Random, tail: list[str], copy_of: dict | None):
    folder = f"/bench/images/{2023 + i % 2}-{1 + i % 12:02d}"
    if copy_of is not None:  # a mirrored backup: same content, another folder
        rec, res = copy_of["rec"], copy_of["res"]
        path = f"/bench/backup/{i:06d}" + rec.path
        return db.ImageRecord(**{**rec.__dict__, "path": path, "folder": path.rsplit("/", 1)[0]}), res
    kind = r.random()
    day = 1 + (i * 7919) % 700
    created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1672531200 + day * 86400 + r.randint(0, 86399)))
    base = dict(path=f"{folder}/{i:06d}-{r.randint(0, 2**31)}.png", file_name=f"{i:06d}.png", folder=folder,
                size_bytes=r.randint(200_000, 2_000_000), mtime_ns=1_700_000_000_000_000_000 + i,
                sha256=f"{i:064x}", format="PNG", image_width=512, image_height=768, generator=None,
                prompt=None, negative_prompt=None, steps=None, seed=None, sampler=None, scheduler=None,
                cfg_scale=None, denoising_strength=None, width=None, height=None, model=None, model_hash=None,
                vae=None, clip_skip=None, params_json=None, raw_json=None, extra_json=None, created_at=created,
                parse_status="no_metadata", error=None, parser=None, indexed_at="2024-06-01T00:00:00+00:00")
    if kind < 0.04:  # camera photo
        make, model, lens = r.choice(CAMERAS)
        raw = {"SourceFile": base["path"], "File:FileType": "JPEG", "IFD0:Make": make, "IFD0:Model": model,
               "ExifIFD:LensModel": lens, "ExifIFD:ISO": r.choice([100, 200, 400, 800, 3200]),
               "ExifIFD:FNumber": r.choice([1.8, 2.8, 4.0, 5.6]),
               "ExifIFD:ExposureTime": r.choice(["1/60", "1/125", "1/250", "1/1000"]),
               "ExifIFD:FocalLength": r.choice(["24.0 mm", "50.0 mm", "85.0 mm"])}
        return db.ImageRecord(**{**base, "format": "JPEG", "raw_json": json.dumps(raw)}), ()
    if kind < 0.08:  # no or unrecognised metadata
        status = "no_metadata" if kind < 0.06 else "unparsed"
        return db.ImageRecord(**{**base, "parse_status": status, "raw_json": json.dumps({"File:FileType": "PNG"})}), ()
    terms = (r.sample(QUALITY, 3) + r.sample(SUBJECTS, 1) + r.sample(DESCRIPTORS, 3) + r.sample(SETTINGS, 1)
             + r.sample(STYLES, 2) + r.sample(LIGHTING, 2) + [r.choice(tail) for _ in range(r.randint(0, 3))])
    prompt = ", ".join(weighted_term(r, t) for t in terms)
    if r.random() < 0.3:
        prompt = prompt.replace(", ", ",\nBREAK\n", 1)
    resources = []
    for lora in r.sample(LORAS, r.choice([0, 0, 1, 1, 2])):
        weight = r.choice([0.5, 0.6, 0.7, 0.8, 1.0])
        prompt += f", <lora:{lora}:{weight}>"
        resources.append(Resource("lora", lora, hashlib.sha256(lora.encode()).hexdigest()[:12], weight, "prompt, Lora hashes"))
    negative_terms = r.sample(NEGATIVE, 6)
    for emb in r.sample(EMBEDDINGS, r.choice([0, 1, 2])):
        negative_terms.append(emb)
        resources.append(Resource("embedding", emb, None, None, "TI hashes"))
    negative = ", ".join(weighted_term(r, t) for t in negative_terms)
    sampler, scheduler = r.choice(SAMPLERS)
    width, height = r.choice(SIZES)
    model = r.choice(MODELS)
    settings = (f"Steps: {r.randint(20, 40)}, Sampler: {sampler}, CFG scale: {r.choice([5, 6, 7, 7.5, 8])}, "
                f"Seed: {r.randint(0, 2**32)}, Size: {width}x{height}, Model: {model}")
    params = {"Steps": 30, "Sampler": sampler, "Model": model}
    raw = {"SourceFile": base["path"], "File:FileType": "PNG", "PNG:Parameters": f"{prompt}\nNegative prompt: "
           f"{negative}\n{settings}"}
    rec = db.ImageRecord(**{
        **base, "generator": r.choice(["A1111", "A1111", "Forge"]), "prompt": prompt, "negative_prompt": negative,
        "steps": r.randint(20, 40), "seed": r.randint(0, 2**32), "sampler": sampler, "scheduler": scheduler,
        "cfg_scale": r.choice([5.0, 6.0, 7.0, 7.5, 8.0]),
        "denoising_strength": r.choice([None, None, 0.35, 0.5, 0.7]), "width": width, "height": height,
        "model": model, "model_hash": hashlib.sha256(model.encode()).hexdigest()[:10], "vae": r.choice(VAES),
        "params_json": json.dumps(params), "raw_json": json.dumps(raw), "parse_status": "ok", "parser": "a1111"})
    return rec, tuple(resources)


def build_db(path: Path, rows: int, seed: int = 4, make=None) -> None:
    """``rows`` rows made by ``make`` (default ``make_row``), 5% of them copies of recent ones."""
    make = make or make_row
    r = random.Random(seed)
    tail = rare_tags(r, 5000)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    con = db.connect(path)
    started = time.perf_counter()
    batch, recent = [], []
    for i in range(rows):
        copy_of = recent[r.randrange(len(recent))] if recent and r.random() < 0.05 else None
        rec, res = make(i, r, tail, copy_of)
        if copy_of is None:
            recent.append({"rec": rec, "res": res})
            recent = recent[-2000:]
        batch.append((rec, res))
        if len(batch) == 2000:
            db.write_batch(con, batch)
            batch = []
    db.write_batch(con, batch)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(f"built {path} with {rows:,} rows in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)")


def timed_run(db_path: Path, out_dir: Path, extra: list[str]) -> dict:
    """One run under /usr/bin/time -v: wall clock, CPU, the peak RSS time reports (the largest
    single process) and, from the script's own log line, the main and helper processes' peaks."""
    cmd = ["/usr/bin/time", "-v", sys.executable, str(PROJECT_DIR / "parameter_statistic.py"), "-y", "-v",
           "--db", str(db_path), "--out", str(out_dir), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = wall.groups()
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    own = re.search(r"peak memory (\d+) MB(?: \(helper process (\d+) MB\))?", proc.stderr)
    main_mb, helper_mb = (int(own.group(1)), int(own.group(2) or 0)) if own else (rss, 0)
    return {"wall": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), "cpu": cpu, "rss": rss,
            "main": main_mb, "helper": helper_mb}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--db", type=Path, help="database (default bench/out/statistic_<rows>.db)")
    p.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "out" / "statistic_report")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rebuild", action="store_true", help="rebuild the database even if it exists")
    p.add_argument("--html", action="store_true", help="also time the HTML report")
    p.add_argument("--workers", type=int, help="pass --workers N to parameter_statistic.py (default: its own)")
    args = p.parse_args()
    db_path = args.db or PROJECT_DIR / "bench" / "out" / f"statistic_{args.rows}.db"
    if args.rebuild or not db_path.exists():
        build_db(db_path, args.rows)
    extra = ["--html"] if args.html else []
    extra += ["--workers", str(args.workers)] if args.workers else []
    with open("/proc/loadavg", encoding="ascii") as fh:
        print(f"load average before: {fh.read().split()[0]} (the machine is shared: compare medians)")
    results = []
    for i in range(args.runs):
        r = timed_run(db_path, args.out, extra)
        results.append(r)
        print(f"run {i + 1}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, peak RSS {r['rss']:.0f} MB "
              f"(main {r['main']} MB + helper {r['helper']} MB = {r['main'] + r['helper']} MB)")
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"median of {len(results)}: {med['wall']:.2f} s wall, {med['cpu']:.2f} s CPU, peak RSS {med['rss']:.0f} MB, "
          f"main + helper {med['main'] + med['helper']:.0f} MB ({args.rows:,} rows; target < 15 s and < 600 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
