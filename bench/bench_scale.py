#!/usr/bin/env python3
"""Every command at 100,000 / 1,000,000 / 3,000,000 rows: time and peak memory of all processes.

Builds once (cached in bench/out/scale_<rows>.db; ``--rebuild`` to redo) a database with the
realistic mix of ``bench_statistic.py`` (A1111/Forge rows with weighted prompts, LoRAs,
embeddings, 5% mirrored copies, camera photos, files without generation data) in which about a
third of the generated images are ComfyUI ones: their raw ExifTool JSON holds the API prompt
graph and the UI workflow, as ComfyUI writes them (a few workflow shapes reused by thousands of
images, each with its own seed and prompt), so the database size per image is realistic.

Measured, as medians of ``--runs`` runs (each command a fresh process under /usr/bin/time -v):
``parameter_statistic.py`` (default, ``--html``; peak = main + helper process), ``search``
(in-process latency, p50/p95 over ``--repeat`` rounds, of word, phrase, field and CJK
queries; and ``search --all --paths`` streamed through the CLI), ``export`` (CSV, JSONL,
Parquet of every row), ``stats``, ``integrity``, ``duplicates``; ``DB_filler.py`` over a folder of
as many tiny files on disk, all unchanged since the database recorded them (a warm re-scan: a
copy of the database whose rows are those files, built once in bench/out/rescan_<rows>/), and
``DB_filler.py --reparse`` (every stored row parsed again, no ExifTool) on a copy of the
database. Then the database size per image and its biggest parts (SQLite's dbstat and the raw
JSON's keys).

    .venv/bin/python bench/bench_scale.py --rows 100000
    .venv/bin/python bench/bench_scale.py --rows 1000000 --runs 1 --skip html
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "bench"))

from bench_statistic import build_db, make_row, timed_run  # noqa: E402
from exifdata_analytics import db  # noqa: E402
from exifdata_analytics.samples import write_png  # noqa: E402
from exifdata_analytics.scan import normalize_path  # noqa: E402

OUT = PROJECT_DIR / "bench" / "out"
COMFY_SHARE = 0.35  # of the generated images
WORD_QUERIES = ["masterpiece", "knight", "dragon castle", "cat", "witch -hat", "samurai OR ninja"]
PHRASE_QUERIES = ["\"best quality\"", "\"blue eyes\"", "\"oil painting\""]
FIELD_QUERIES = ["model:pony", "sampler:\"Euler a\"", "steps>=30", "cfg<6", "lora:add_detail", "size:832x1216",
                 "generator:ComfyUI"]
CJK_QUERIES = ["猫", "龍の城"]


def comfy_graph(r: random.Random, shape: int, prompt: str, negative: str, seed: int, steps: int, cfg: float,
                model: str, width: int, height: int) -> tuple[dict, dict]:
    """An API prompt graph and its UI workflow: shape ``shape`` of a few (extra LoRA loaders,
    upscale passes, preview nodes), the image's own values in the widgets."""
    nodes = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": f"{model}.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": steps, "cfg": cfg, "sampler_name": "euler",
                                                   "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    for n in range(shape):  # bigger workflows: LoRA loaders and an upscale pass per step of shape
        nodes[str(20 + n)] = {"class_type": "LoraLoader", "inputs": {"lora_name": f"style_{n}.safetensors",
                                                                     "strength_model": 0.8, "strength_clip": 0.8,
                                                                     "model": ["4", 0], "clip": ["4", 1]}}
        nodes[str(40 + n)] = {"class_type": "LatentUpscaleBy", "inputs": {"upscale_method": "nearest-exact",
                                                                          "scale_by": 1.5, "samples": ["3", 0]}}
    ui_nodes = []
    for i, (key, node) in enumerate(nodes.items()):
        widgets = [v for v in node["inputs"].values() if not isinstance(v, list)]
        ui_nodes.append({"id": int(key), "type": node["class_type"], "pos": [100 + 300 * (i % 5), 100 + 200 * (i // 5)],
                         "size": [315, 98 + 26 * len(widgets)], "flags": {}, "order": i, "mode": 0,
                         "inputs": [{"name": k, "type": "MODEL", "link": 10 * i + j}
                                    for j, (k, v) in enumerate(node["inputs"].items()) if isinstance(v, list)],
                         "outputs": [{"name": "OUT", "type": "LATENT", "links": [10 * i + 1], "slot_index": 0}],
                         "properties": {"Node name for S&R": node["class_type"]}, "widgets_values": widgets})
    workflow = {"last_node_id": max(int(k) for k in nodes), "last_link_id": 10 * len(nodes), "nodes": ui_nodes,
                "links": [[10 * i + 1, i, 0, i + 1, 0, "LATENT"] for i in range(len(nodes))], "groups": [],
                "config": {}, "extra": {"ds": {"scale": 0.83, "offset": [r.randint(-900, 900), r.randint(-500, 500)]}},
                "version": 0.4}
    return nodes, workflow


def scale_row(i: int, r: random.Random, tail: list[str], copy_of):
    rec, res = make_row(i, r, tail, copy_of)
    if copy_of is not None or rec.parse_status != "ok" or r.random() >= COMFY_SHARE:
        return rec, res
    graph, workflow = comfy_graph(r, r.choice([0, 1, 1, 2, 3, 5]), rec.prompt, rec.negative_prompt, rec.seed,
                                  int(rec.steps), rec.cfg_scale, rec.model, rec.width, rec.height)
    raw = {"SourceFile": rec.path, "File:FileType": "PNG", "PNG:Prompt": json.dumps(graph),
           "PNG:Workflow": json.dumps(workflow)}
    params = {"Steps": rec.steps, "Sampler": "euler", "Model": rec.model, "Schedule type": "normal"}
    return db.ImageRecord(**{**rec.__dict__, "generator": "ComfyUI", "parser": "comfyui", "sampler": "euler",
                             "scheduler": "normal", "raw_json": json.dumps(raw), "params_json": json.dumps(params)}), res


def run_cli(args: list[str]) -> dict:
    """One CLI run under /usr/bin/time -v: wall seconds and peak RSS (MB) of that process."""
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, *args], capture_output=True, text=True,
                          cwd=PROJECT_DIR)
    if proc.returncode not in (0, 1):  # 1: a search without hits, integrity findings
        sys.exit(f"{args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    hours, minutes, seconds = wall.groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    return {"wall": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), "peak": rss}


def median_of(runs: int, measure) -> dict:
    results = [measure() for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def search_latency(path: Path, repeat: int) -> None:
    from exifdata_analytics.analysis.selection import open_database
    from exifdata_analytics.search import search

    con = open_database(str(path))
    for name, queries in (("word", WORD_QUERIES), ("phrase", PHRASE_QUERIES), ("field", FIELD_QUERIES),
                          ("CJK", CJK_QUERIES)):
        first, again = [], []
        for round_ in range(repeat + 1):
            for q in queries:
                started = time.perf_counter()
                search(con, q, limit=50)
                (first if round_ == 0 else again).append((time.perf_counter() - started) * 1000)
        again.sort()
        p95 = again[min(len(again) - 1, int(0.95 * len(again)))]
        print(f"  search, {name:6s} ({len(queries)} queries): first round max {max(first):7.1f} ms; "
              f"repeated p50 {statistics.median(again):6.1f} ms, p95 {p95:6.1f} ms", flush=True)
    con.close()


def size_report(path: Path, rows: int) -> None:
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    size = path.stat().st_size
    print(f"  database: {size / 1e6:,.0f} MB, {size / rows:,.0f} bytes per image")
    parts = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8").fetchall()
    print("  biggest parts: " + ", ".join(f"{n} {s / size:.0%}" for n, s in parts))
    raw, graphs, params = con.execute(
        "SELECT TOTAL(length(raw_json)), TOTAL(length(json_extract(raw_json, '$.\"PNG:Prompt\"')) "
        "+ IFNULL(length(json_extract(raw_json, '$.\"PNG:Workflow\"')), 0)), TOTAL(length(params_json)) "
        "FROM images").fetchone()
    print(f"  raw_json {raw / rows:,.0f} bytes per image, of which ComfyUI prompt graphs and workflows "
          f"{graphs / rows:,.0f}; params_json {params / rows:,.0f}", flush=True)
    con.close()


FILES_PER_FOLDER = 1000
RESCAN_MTIME_NS = 1_700_000_000_000_000_000


def rescan_library(path: Path, rows: int) -> tuple[Path, Path]:
    """(folder, database): ``rows`` tiny PNG files on disk, and a copy of database ``path`` whose
    rows are those files as DB_filler recorded them (path, folder, name, size, mtime), so a re-scan
    finds every file unchanged. Built once, kept in bench/out/rescan_<rows>/."""
    home = OUT / f"rescan_{rows}"
    folder, copy = home / "files", home / "rescan.db"
    done = home / "built"
    if done.exists():
        return folder, copy
    shutil.rmtree(home, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    sample = write_png(home / "sample.png", [], size=(8, 8)).read_bytes()
    root = normalize_path(str(folder))
    con = db.connect(path, readonly=True)
    ids = [i for (i,) in con.execute("SELECT id FROM images ORDER BY id")]
    con.close()
    for n, image_id in enumerate(ids):
        sub = os.path.join(root, f"{n // FILES_PER_FOLDER:04d}")
        if n % FILES_PER_FOLDER == 0:
            os.mkdir(sub)
        name = os.path.join(sub, f"{image_id:08d}.png")
        with open(name, "wb") as fh:
            fh.write(sample)
        os.utime(name, ns=(RESCAN_MTIME_NS, RESCAN_MTIME_NS))
    print(f"  wrote {len(ids):,} files in {time.perf_counter() - started:.0f} s", flush=True)
    shutil.copyfile(path, copy)
    con = db.connect(copy)
    with db.transaction(con):
        con.execute("CREATE TEMP TABLE placed (id INTEGER PRIMARY KEY, n INTEGER)")
        con.executemany("INSERT INTO placed VALUES (?, ?)", ((image_id, n) for n, image_id in enumerate(ids)))
        con.execute("UPDATE images SET folder = printf('%s/%04d', ?1, (SELECT n FROM placed p WHERE p.id = images.id) "
                    f"/ {FILES_PER_FOLDER}), file_name = printf('%08d.png', id), size_bytes = ?2, mtime_ns = ?3",
                    (root, len(sample), RESCAN_MTIME_NS))
        con.execute("UPDATE images SET path = folder || '/' || file_name")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    done.touch()
    print(f"  built the re-scan library in {time.perf_counter() - started:.0f} s", flush=True)
    return folder, copy


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000], help="database sizes (default 100000)")
    p.add_argument("--runs", type=int, default=3, help="runs of each command (default 3; medians)")
    p.add_argument("--repeat", type=int, default=5, help="rounds over the search queries (default 5)")
    p.add_argument("--rebuild", action="store_true", help="build the databases again")
    p.add_argument("--skip", nargs="*", default=[],
                   choices=["statistic", "html", "search", "export", "maintenance", "rescan", "reparse"],
                   help="parts not to measure")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for rows in args.rows:
        path = OUT / f"scale_{rows}.db"
        if args.rebuild or not path.exists():
            build_db(path, rows, make=scale_row)
        print(f"{rows:,} rows ({path})", flush=True)
        size_report(path, rows)
        report_dir = OUT / f"scale_report_{rows}"
        if "statistic" not in args.skip:
            m = median_of(args.runs, lambda: timed_run(path, report_dir, []))
            print(f"  parameter_statistic.py: {m['wall']:.1f} s, peak {m['main'] + m['helper']:,.0f} MB "
                  f"(main {m['main']:,.0f} + helper {m['helper']:,.0f})", flush=True)
        if "html" not in args.skip:
            m = median_of(args.runs, lambda: timed_run(path, report_dir, ["--html"]))
            print(f"  parameter_statistic.py --html: {m['wall']:.1f} s, peak {m['main'] + m['helper']:,.0f} MB "
                  f"(main {m['main']:,.0f} + helper {m['helper']:,.0f})", flush=True)
        if "search" not in args.skip:
            search_latency(path, args.repeat)
            m = median_of(args.runs, lambda: run_cli(["parameter_statistic_DB.py", "--db", str(path), "--no-progress",
                                                      "search", "castle", "--all", "--paths"]))
            print(f"  search castle --all --paths (CLI, streamed): {m['wall']:.1f} s, peak {m['peak']:,.0f} MB",
                  flush=True)
        if "export" not in args.skip:
            for suffix in ("csv", "jsonl", "parquet"):
                target = OUT / f"scale_export_{rows}.{suffix}"
                m = median_of(args.runs, lambda: run_cli(["parameter_statistic_DB.py", "--db", str(path),
                                                          "--no-progress", "export", "--force", str(target)]))
                print(f"  export {suffix}: {m['wall']:.1f} s, peak {m['peak']:,.0f} MB, "
                      f"{target.stat().st_size / 1e6:,.0f} MB written", flush=True)
                target.unlink()
        if "maintenance" not in args.skip:
            for command in (["stats"], ["integrity"], ["duplicates"]):
                m = median_of(args.runs, lambda: run_cli(["parameter_statistic_DB.py", "--db", str(path),
                                                          "--no-progress", *command]))
                print(f"  {command[0]}: {m['wall']:.1f} s, peak {m['peak']:,.0f} MB", flush=True)
        if "rescan" not in args.skip:
            folder, copy = rescan_library(path, rows)
            m = median_of(args.runs, lambda: run_cli(["DB_filler.py", str(folder), "-r", "-y", "--db", str(copy),
                                                      "--no-progress"]))
            print(f"  DB_filler.py warm re-scan of {rows:,} unchanged files: {m['wall']:.1f} s, "
                  f"peak {m['peak']:,.0f} MB", flush=True)
        if "reparse" not in args.skip:
            copy = OUT / f"scale_reparse_{rows}.db"
            walls, peaks = [], []
            for _ in range(args.runs):
                shutil.copyfile(path, copy)
                m = run_cli(["DB_filler.py", "--reparse", "-y", "--db", str(copy), "--no-progress"])
                walls.append(m["wall"])
                peaks.append(m["peak"])
            copy.unlink()
            print(f"  DB_filler.py --reparse of {rows:,} rows: {statistics.median(walls):.1f} s, "
                  f"peak {statistics.median(peaks):,.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
