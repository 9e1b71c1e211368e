#!/usr/bin/env python3
"""Speed and memory of the local browser (``parameter_statistic_DB.py serve``) on a 100,000-image
database. Targets: /api/search p95 < 100 ms for word and field queries, the dashboard
< 1 s once cached, a grid page with 60 cached thumbnails < 300 ms; at 1,000,000 rows the same pages
< 3x those; the server under 300 MB at 100,000.

The database is bench_statistic.py's (synthetic rows shaped like an A1111/Forge library, no
files). 60 rows are pointed at real PNGs written under bench/out/, so that one grid page has
real thumbnails to make and then to read from the cache. The server runs as its own process,
as users run it; its memory is read from /proc. Latencies are measured from this process
over HTTP (one connection per request, as a browser's first visit; 6 at once for the grid).

    .venv/bin/python bench/bench_serve.py                  # 100,000 rows
    .venv/bin/python bench/bench_serve.py --rows 1000000 --repeat 3
"""
from __future__ import annotations

import argparse
import http.client
import json
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "bench"))

from bench_statistic import build_db  # noqa: E402

from exifdata_analytics.samples import a1111_infotext, write_png  # noqa: E402

WORD_QUERIES = ["masterpiece", "knight", "dragon castle", "cat", "\"best quality\"", "witch -hat", "samurai",
                "mermaid OR vampire", "film grain", "astronaut"]
FIELD_QUERIES = ["model:pony", "sampler:\"Euler a\"", "steps>=30", "cfg<5", "lora:add_detail", "size:832x1216",
                 "generator:ComfyUI", "since:2024-06-01", "knight model:xl steps:20..30", "scheduler:karras"]
GRID = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return time.perf_counter() - started, response.status, body
    finally:
        conn.close()


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def _memory(pid: int) -> str:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return f"VmRSS {fields['VmRSS'].strip()}, VmHWM {fields['VmHWM'].strip()}"


def _real_files(db_path: Path, folder: Path) -> None:
    """Point the first GRID rows (by id) at real PNGs in ``folder``, so one grid page has thumbnails."""
    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db_path)
    ids = [r[0] for r in con.execute("SELECT id FROM images ORDER BY id LIMIT ?", (GRID,))]
    for n, image_id in enumerate(ids):
        path = folder / f"{n:03d}.png"
        if not path.exists():
            write_png(path, {"parameters": a1111_infotext(f"bench grid {n}", None, {"Steps": 20, "Seed": n})},
                      size=(832, 1216))
        con.execute("UPDATE images SET path = ?, folder = ?, file_name = ?, sha256 = NULL WHERE id = ?",
                    (str(path), str(folder), path.name, image_id))
    con.commit()
    con.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5, help="rounds over every query (default 5)")
    args = p.parse_args()
    out = PROJECT_DIR / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / f"serve_{args.rows}.db"
    if not db_path.exists():
        started = time.perf_counter()
        build_db(db_path, args.rows)
        print(f"built {db_path} with {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    files = out / "serve_files"
    _real_files(db_path, files)
    thumbs = out / f"serve_thumbs_{args.rows}"
    config = out / "serve_config.ini"
    config.write_text(f"[Paths]\nlogging_dir = {out / 'serve_logs'}\nthumbnail_dir = {thumbs}\n", encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([sys.executable, str(PROJECT_DIR / "parameter_statistic_DB.py"), "serve", "--db",
                               str(db_path), "--port", str(port), "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        print(server.stdout.readline().strip())
        print(f"server at start: {_memory(server.pid)}")
        for name, queries in (("word", WORD_QUERIES), ("field", FIELD_QUERIES)):
            first, again = [], []
            for round_ in range(args.repeat):
                for q in queries:
                    elapsed, status, body = _get(port, f"/api/search?q={quote(q)}&limit=50")
                    assert status == 200, (q, body[:200])
                    (first if round_ == 0 else again).append(elapsed)
            print(f"/api/search, {name} queries: first round {_ms(first)}; repeated ({len(again)} requests) "
                  f"{_ms(again)}")
        elapsed, status, body = _get(port, "/")
        assert status == 200, body[:300]
        print(f"dashboard, first (computes the analysis): {elapsed:.2f} s, {len(body) / 1024:.0f} KB")
        cached = [_get(port, "/")[0] for _ in range(10)]
        print(f"dashboard, cached: {_ms(cached)}")
        grid_query = quote(f"folder:{files}")
        elapsed, status, body = _get(port, f"/search?q={grid_query}")
        assert status == 200 and body.count(b'class="tile"') == GRID, body[:300]
        print(f"search page (grid of {GRID} and facets), first: {elapsed * 1000:.0f} ms")
        ids = [h["id"] for h in json.loads(_get(port, f"/api/search?q={grid_query}&limit={GRID}")[2])["hits"]]
        made = []
        for image_id in ids:
            t, status, _ = _get(port, f"/thumb/{image_id}")
            assert status == 200
            made.append(t)
        print(f"thumbnails made on first view (832x1216 PNG -> 160 px JPEG): {_ms(made)}")
        for workers in (1, 6):
            pages = []
            with ThreadPoolExecutor(workers) as pool:
                for _ in range(args.repeat * 2):
                    started = time.perf_counter()
                    _get(port, f"/search?q={grid_query}")
                    list(pool.map(lambda i: _get(port, f"/thumb/{i}"), ids))
                    pages.append(time.perf_counter() - started)
            print(f"grid page + {GRID} cached thumbnails, {workers} connection(s) at once: {_ms(pages)}")
        print(f"server at end: {_memory(server.pid)}")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
