#!/usr/bin/env python3
"""Throughput of DB_filler.py against ExifTool itself, measured in the same run.

For each repetition (interleaved, so machine noise hits every contender alike):
  ref-1     `exiftool -j -G1 -r DIR`                         (one process, the first reference)
  ref-par   N parallel `exiftool -j -G1 -@ LIST_i`, files split evenly (N = max_workers)
  ref-same  the same with DB_filler's own ExifTool arguments (exiftool.EXIFTOOL_ARGS): the
            ExifTool work inside a DB_filler run, so cold/ref-same is the cost of everything else
  cold      `DB_filler.py DIR -r -y --db NEW --no-progress`  (new database)
  warm      the same command again on the unchanged folder   (must start no ExifTool)
Prints files/s (wall clock), CPU seconds (process + children) and peak RSS of each, the medians,
and the same-run ratios cold/ref-par, cold/ref-same and cold/ref-1; appends a section to bench/RESULTS.md.

  python bench/bench_filler.py --n 5000 --subdirs 8 --runs 3
"""
from __future__ import annotations

import argparse
import configparser
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from exifdata_analytics.exiftool import EXIFTOOL_ARGS  # noqa: E402
MAKE_CORPUS = PROJECT.parent / "shared" / "bench" / "make_corpus.py"


def run_measured(cmd: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Wall time, CPU time (incl. waited-for children) and peak RSS of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def run_parallel_exiftool(files: list[str], workers: int, tmp: Path, args: tuple[str, ...] = ("-j", "-G1")) -> dict:
    chunks = [files[i::workers] for i in range(workers)]
    lists = []
    for i, chunk in enumerate(chunks):
        p = tmp / f"list{i}.txt"
        p.write_text("\n".join(chunk) + "\n", encoding="utf-8")
        lists.append(p)
    started = time.perf_counter()
    procs = [subprocess.Popen(["exiftool", *args, "-@", str(p)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for p in lists]
    cpu = 0.0
    rss = 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return {"wall": time.perf_counter() - started, "cpu": cpu, "rss_mb": rss}


def default_workers() -> int:
    cp = configparser.ConfigParser(inline_comment_prefixes=("#",))
    cp.read(PROJECT / "config.ini")
    return int(cp.get("Processing", "max_workers", fallback="2"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--subdirs", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", type=Path, help="corpus folder (made with make_corpus.py when missing)")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                    help="extra DB_filler.py arguments (e.g. --workers 3 --batch-size 200)")
    ap.add_argument("--results", type=Path, default=PROJECT / "bench" / "RESULTS.md")
    a = ap.parse_args()
    if shutil.which("exiftool") is None:
        raise SystemExit("exiftool is not on PATH")
    workers = default_workers()
    for i, arg in enumerate(a.extra):
        if arg == "--workers":
            workers = int(a.extra[i + 1])
    tmp = Path(tempfile.mkdtemp(prefix="bench-filler-"))
    corpus = a.corpus or tmp / "corpus"
    if not corpus.exists():
        if not MAKE_CORPUS.exists():
            raise SystemExit(f"no corpus and no generator at {MAKE_CORPUS}")
        print(f"making a {a.n}-image corpus in {corpus} …", file=sys.stderr)
        subprocess.run([sys.executable, str(MAKE_CORPUS), "--n", str(a.n), "--subdirs", str(a.subdirs),
                        "--out", str(corpus), "--quiet"], check=True)
    files = sorted(str(p) for p in corpus.rglob("*") if p.is_file())
    n = len(files)
    filler = [sys.executable, str(PROJECT / "DB_filler.py"), str(corpus), "-r", "-y", "--no-progress", *a.extra]
    results: dict[str, list[dict]] = {"ref-1": [], "ref-par": [], "ref-same": [], "cold": [], "warm": []}
    for rep in range(a.runs):
        results["ref-1"].append(run_measured(["exiftool", "-j", "-G1", "-r", str(corpus)]))
        results["ref-par"].append(run_parallel_exiftool(files, workers, tmp))
        results["ref-same"].append(run_parallel_exiftool(files, workers, tmp, EXIFTOOL_ARGS))
        db = tmp / f"bench{rep}.db"
        results["cold"].append(run_measured(filler + ["--db", str(db)]))
        results["warm"].append(run_measured(filler + ["--db", str(db)]))
        line = "  ".join(f"{k} {n / v[-1]['wall']:7.1f}/s" for k, v in results.items())
        print(f"run {rep + 1}: {line}", file=sys.stderr)

    def med(key, field):
        return statistics.median(r[field] for r in results[key])

    def ratio(ref):
        return statistics.median(results[ref][i]["wall"] / results["cold"][i]["wall"] for i in range(a.runs))

    ratio_par, ratio_same, ratio_one = ratio("ref-par"), ratio("ref-same"), ratio("ref-1")
    cpu_ratio = statistics.median(results["cold"][i]["cpu"] / results["ref-1"][i]["cpu"] for i in range(a.runs))
    rows = []
    for key, label in (("ref-1", "exiftool -j -G1 -r (1 process)"),
                       ("ref-par", f"{workers} parallel exiftool -j -G1"),
                       ("ref-same", f"{workers} parallel exiftool {' '.join(EXIFTOOL_ARGS)}"),
                       ("cold", "DB_filler.py, new DB"), ("warm", "DB_filler.py, unchanged folder")):
        rows.append(f"| {label} | {n / med(key, 'wall'):,.0f} | {med(key, 'wall'):.2f} | {med(key, 'cpu'):.2f} "
                    f"| {med(key, 'rss_mb'):.0f} |")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        f"## {stamp}: {n:,} files, {a.runs} runs, workers={workers} {' '.join(a.extra)}".rstrip(),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"ExifTool {subprocess.run(['exiftool', '-ver'], capture_output=True, text=True).stdout.strip()}. "
        f"Medians of {a.runs} interleaved runs.",
        "",
        "| what | files/s | wall s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Same-run ratios (median): cold / parallel reference = {ratio_par:.2f}; "
        f"cold / parallel exiftool with DB_filler's arguments = {ratio_same:.2f}; "
        f"cold / single exiftool = {ratio_one:.2f}; CPU of cold / CPU of single exiftool = {cpu_ratio:.2f}.",
        "",
    ])
    print(report)
    if not a.results.exists():
        a.results.write_text("# DB_filler throughput (bench/bench_filler.py)\n\n", encoding="utf-8")
    with open(a.results, "a", encoding="utf-8") as fh:
        fh.write(report + "\n")
    shutil.rmtree(tmp, ignore_errors=True)  # the corpus too, unless it was passed in with --corpus
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
