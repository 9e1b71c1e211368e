"""parameter_statistic_DB.py: database maintenance as subcommands and as a numbered menu.

Without a command a menu loops until quit; destructive actions ask first. Every action is
also a subcommand taking ``--db PATH``. The seed's functions (``database_stats`` …) are
offered at the bottom with the seed's signatures, for people who script against them.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sqlite3
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence

from .. import db as database
from .. import export as exporting
from .. import maintenance
from ..config import Settings, load_settings
from ..coverage import Coverage, parse_coverage
from ..errors import DatabaseError, ExifDataError
from ..legacy import LegacyImportSummary, import_legacy
from ..logs import current_log_path, setup_logging
from ..search import SCOPES, SORTS, SearchHit, SearchResult
from .common import (EXIT_FATAL, ProgressBar, EXIT_INTERRUPTED, EXIT_OK, EndOfInput, UsageError, ask, ask_yes_no,
                     install_sigterm_as_interrupt, run_cli, strip_quotes)

logger = logging.getLogger(__name__)

LOG_NAME = "process_logDB.txt"  # the original's log name
SEARCH_HELP = ('words and "phrases" in the prompt; AND, OR, NOT or -word; neg:WORD (negative prompt only), '
               "any:WORD (prompt or negative); word* (prefix); fields: model:, sampler:, scheduler:, vae:, "
               "generator:, folder:, lora:, status:, format:, steps>=30, cfg<7, seed:, size:512x768, "
               "since:YYYY-MM-DD, until:; field=VALUE for an exact match")


# -- formatting ----------------------------------------------------------------------------

def _n(value: Optional[int]) -> str:
    return "-" if value is None else f"{value:,}"


def human_bytes(n: Optional[int]) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def _clip(text: str, limit: int, left: bool = False) -> str:
    if limit <= 0:
        return ""
    if _width(text) <= limit:
        return text
    chars = list(reversed(text)) if left else list(text)
    out, used = [], 0
    for ch in chars:
        w = _width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    body = "".join(reversed(out)) if left else "".join(out)
    return "…" + body if left else body + "…"


# Control characters from the database (an image's prompt or name) are shown, not obeyed: an
# ESC sequence could retitle, clear or recolour the user's terminal. C0 -> control pictures (␛).
_CONTROL_PICTURES = {**{c: 0x2400 + c for c in range(0x20)}, 0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)}}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return " ".join(str(value).split()).translate(_CONTROL_PICTURES)  # line breaks would tear the table


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
                 max_widths: Optional[dict[int, int]] = None, clip_left: Sequence[int] = (),
                 total_width: Optional[int] = None, stretch: Optional[int] = None) -> str:
    """An aligned text table: numeric columns right-aligned, long cells clipped with '…'.
    ``stretch`` names the column that gets whatever width is left (clipped to fit)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [_width(h) for h in headers]
    max_widths = dict(max_widths or {})
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _width(c))
    for i, limit in max_widths.items():
        widths[i] = min(widths[i], max(limit, _width(headers[i])))
    if stretch is not None and total_width:
        others = sum(w for i, w in enumerate(widths) if i != stretch) + 2 * (len(widths) - 1)
        widths[stretch] = max(_width(headers[stretch]), min(widths[stretch], total_width - others))
    lines = []

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, v in enumerate(values):
            v = _clip(v, widths[i], left=i in clip_left)
            pad = " " * (widths[i] - _width(v))
            parts.append(pad + v if i in numeric else v + pad)
        return "  ".join(parts).rstrip()

    lines.append(line(list(headers)))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


def _terminal_width() -> int:
    return max(60, shutil.get_terminal_size((160, 24)).columns)


def _kv(pairs: Sequence[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in pairs) + 1
    return "\n".join(f"  {k + ':':<{width}} {v}" for k, v in pairs)


def _size(hit: SearchHit) -> str:
    return f"{hit.width}x{hit.height}" if hit.width and hit.height else ""


_HIT_HEADERS = ["Path", "Generator", "Model", "Sampler", "Steps", "CFG", "Seed", "Size", "Prompt"]
_HIT_LIMITS = {1: 14, 2: 26, 3: 16, 6: 20}


def format_hits(hits: Sequence[SearchHit], width: Optional[int] = None) -> str:
    """Paths with their key parameters; the path gives way (clipped on the left) so that
    the prompt keeps at least 40 columns."""
    width = width or _terminal_width()
    root = _common_folder([h.path for h in hits])
    rows = [(os.path.relpath(h.path, root) if root else h.path, h.generator, h.model, h.sampler, h.steps,
             h.cfg_scale, h.seed, _size(h), h.prompt) for h in hits]
    middle = 0
    for i in range(1, 8):
        w = max([_width(_HIT_HEADERS[i])] + [_width(_cell(r[i])) for r in rows])
        middle += min(w, _HIT_LIMITS.get(i, w)) + 2
    longest_path = max([4] + [_width(r[0]) for r in rows])
    path_width = min(longest_path, max(24, width - middle - 2 - 40))
    table = format_table(_HIT_HEADERS, rows, numeric=(4, 5, 6), max_widths={0: path_width, **_HIT_LIMITS},
                         clip_left=(0,), total_width=width, stretch=8)
    return (f"(paths under {root}{os.sep})\n" + table) if root else table


def _common_folder(paths: Sequence[str]) -> Optional[str]:
    """The folder all paths share, when showing paths relative to it saves room."""
    if len(paths) < 2:
        return None
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths])
    except ValueError:
        return None
    return root if len(root) > 1 else None


def _hit_dict(hit: SearchHit) -> dict:
    return dataclasses.asdict(hit)


def _to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(_to_jsonable(obj), ensure_ascii=False, indent=2))


# -- the actions (shared by subcommands and menu) ------------------------------------------

def show_stats(db_path: Path, as_json: bool = False) -> int:
    s = maintenance.database_stats(db_path)
    if as_json:
        _print_json(s)
        return EXIT_OK
    created = f"{(s.first_created or '')[:10]} … {(s.last_created or '')[:10]}" if s.first_created else "-"
    print(f"Database: {db_path}")
    print(_kv([
        ("images", _n(s.images)),
        ("with generation data", _n(s.with_generation_data)),
        ("without generation data", _n(s.without_generation_data)),
        ("not recognised (unparsed)", _n(s.unparsed)),
        ("errors", _n(s.errors)),
        ("folders", _n(s.folders)),
        ("distinct models", _n(s.distinct_models)),
        ("distinct samplers", _n(s.distinct_samplers)),
        ("distinct LoRAs", _n(s.distinct_loras)),
        ("size of the image files", human_bytes(s.total_file_bytes)),
        ("images created", created),
        ("last indexed", s.last_indexed or "-"),
    ]))
    for title, pairs in (("Generator", s.by_generator), ("Format", s.by_format),
                         ("Top model", s.top_models), ("Top sampler", s.top_samplers)):
        if pairs:
            print()
            print(format_table([title, "Images"], [(k, _n(v)) for k, v in pairs], numeric=(1,), max_widths={0: 60}))
    return EXIT_OK


def show_search(db_path: Path, query: str, limit: Optional[int], as_json: bool, sort: str = "path",
                scope: str = "prompt") -> int:
    result = maintenance.search_metadata(db_path, query, limit=limit, sort=sort, scope=scope)
    if as_json:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        _print_json({"query": result.query, "total": result.total, "limit": result.limit,
                     "notes": list(result.notes), "hits": [_hit_dict(h) for h in result.hits]})
        return EXIT_OK
    for note in result.notes:
        print(f"Note: {note}")
    print(_search_summary(result))
    if result.hits:
        print(format_hits(result.hits))
    return EXIT_OK


def _search_summary(result: SearchResult) -> str:
    shown = len(result.hits)
    what = f"'{result.query}'" if result.query.strip() else "(everything)"
    text = f"{_n(result.total)} image{'s' if result.total != 1 else ''} match {what}"
    if shown < result.total:
        text += f"; showing the first {_n(shown)} (--limit N for more)"
    return text + f" [{result.elapsed * 1000:.1f} ms]"


def show_sample(db_path: Path, n: int, as_json: bool = False) -> int:
    if n < 0:
        raise UsageError("the sample size must be 0 or more")
    hits = maintenance.metadata_sample(db_path, n)
    if as_json:
        _print_json([_hit_dict(h) for h in hits])
        return EXIT_OK
    total = maintenance.database_stats(db_path).images
    print(f"Random sample of {_n(len(hits))} of {_n(total)} images:")
    if hits:
        print(format_hits(hits))
    return EXIT_OK


def show_integrity(db_path: Path, check_files: bool = True, quick: bool = False, as_json: bool = False,
                   progress: bool = True) -> int:
    bar = ProgressBar(progress and check_files and not as_json, "Checking files")
    try:
        r = maintenance.check_database_integrity(db_path, check_files=check_files, quick=quick, progress=bar)
    finally:
        bar.close()
    if as_json:
        _print_json(dataclasses.asdict(r) | {"database_ok": r.database_ok})
        return EXIT_OK if r.database_ok else EXIT_FATAL
    fts = {True: "ok", None: r.fts_message or "not checked", False: f"DAMAGED ({r.fts_message})"}[r.fts_ok]
    pairs = [
        ("SQLite " + ("quick check" if quick else "integrity check"), "; ".join(r.integrity[:5])),
        ("foreign keys", "ok" if not r.foreign_key_violations else f"{_n(r.foreign_key_violations)} violations"),
        ("search index", fts),
        ("rows", _n(r.rows)),
    ]
    if check_files:
        pairs += [("files missing", _n(r.missing_files)), ("files changed since indexed", _n(r.changed_files))]
    print(f"Integrity of {db_path}:")
    print(_kv(pairs))
    for title, examples, total in (("Missing", r.missing_examples, r.missing_files),
                                   ("Changed", r.changed_examples, r.changed_files)):
        if examples:
            print(f"{title} (first {len(examples)} of {_n(total)}):")
            for p in examples:
                print(f"  {p}")
    if not r.database_ok:
        print("Database integrity check FAILED: restore a backup, or rebuild the database with DB_filler.py.")
        return EXIT_FATAL
    print("Database integrity check passed.")
    if r.missing_files:
        print("Rows of missing files can be removed with: parameter_statistic_DB.py prune")
    if r.changed_files:
        print("Changed files are re-read by running DB_filler.py on their folder again.")
    return EXIT_OK


def do_backup(db_path: Path, backup_dir: Path) -> int:
    r = maintenance.backup_database(db_path, backup_dir)
    print(f"Database backup created at {r.backup_path}")
    print(f"  {human_bytes(r.size_bytes)}, {_n(r.images)} images, verified (integrity {r.integrity}), "
          f"{r.elapsed:.1f} s")
    return EXIT_OK


def show_size(db_path: Path, as_json: bool = False) -> int:
    s = maintenance.database_size(db_path)
    if as_json:
        _print_json(dataclasses.asdict(s) | {"total_bytes": s.total_bytes})
        return EXIT_OK
    print(f"Database: {db_path}")
    print(_kv([
        ("database file", human_bytes(s.file_bytes)),
        ("write-ahead log", human_bytes(s.wal_bytes)),
        ("total on disk", human_bytes(s.total_bytes)),
        ("free space inside", f"{human_bytes(s.reclaimable_bytes)} (optimize gives it back)"),
    ]))
    if s.tables:
        print()
        print(format_table(["Table or index", "Size"], [(n, human_bytes(b)) for n, b in s.tables], numeric=(1,)))
    return EXIT_OK


def show_last_modified(db_path: Path) -> int:
    r = maintenance.last_modified(db_path)
    print(f"Database last modified: {r.modified.strftime('%a %b %d %H:%M:%S %Y')} "
          f"({r.modified.isoformat(timespec='seconds')})")
    print(f"Last image indexed:     {r.last_indexed or '-'}")
    print(f"Newest image created:   {r.newest_image or '-'}")
    return EXIT_OK


def do_optimize(db_path: Path) -> int:
    print("Optimizing (search index, statistics, VACUUM)…", flush=True)
    r = maintenance.optimize_database(db_path)
    print(f"Database optimization completed: {human_bytes(r.bytes_before)} -> {human_bytes(r.bytes_after)} "
          f"in {r.elapsed:.1f} s")
    return EXIT_OK


def do_clear(db_path: Path, yes: bool) -> int:
    n = maintenance.database_stats(db_path).images
    if not yes and not ask_yes_no(f"Delete all {_n(n)} images from {db_path}? This cannot be undone. (yes/no):"):
        print("Nothing deleted.")
        return EXIT_OK
    r = maintenance.clear_database(db_path)
    print(f"Database cleared: {_n(r.images)} images and {_n(r.resources)} resources removed.")
    print("Run 'optimize' to shrink the file.")
    return EXIT_OK


def do_prune(db_path: Path, yes: bool, dry_run: bool, under: Optional[str], progress: bool = True) -> int:
    bar = ProgressBar(progress, "Checking files")
    try:
        found = maintenance.prune_database(db_path, dry_run=True, under=under, progress=bar)
    finally:
        bar.close()
    if not found.missing:
        print(f"All {_n(found.checked)} files of the database still exist; nothing to prune.")
        return EXIT_OK
    print(f"{_n(len(found.missing))} of {_n(found.checked)} rows point to files that no longer exist, e.g.:")
    for p in found.missing[:5]:
        print(f"  {p}")
    if found.folders_gone:
        print(f"Warning: {_n(len(found.folders_gone))} of their folders are gone entirely "
              f"(e.g. {found.folders_gone[0]}); if a drive is not mounted, mount it first.")
    if dry_run:
        print("Dry run: nothing was removed.")
        return EXIT_OK
    if not yes and not ask_yes_no(f"Remove these {_n(len(found.missing))} rows? (yes/no):"):
        print("Nothing removed.")
        return EXIT_OK
    removed = maintenance.remove_missing(db_path, found.missing)
    print(f"Removed {_n(removed)} rows of missing files.")
    return EXIT_OK


def show_duplicates(db_path: Path, as_json: bool = False, limit: Optional[int] = None) -> int:
    r = maintenance.find_duplicates(db_path)
    if as_json:
        _print_json({"groups": r.groups, "extra_copies": r.extra_copies, "wasted_bytes": r.wasted_bytes})
        return EXIT_OK
    if not r.groups:
        print("No duplicates: every indexed file's content (sha256) is unique.")
        return EXIT_OK
    print(f"{_n(len(r.groups))} sets of identical files: {_n(r.extra_copies)} extra copies, "
          f"{human_bytes(r.wasted_bytes)} that could be freed")
    groups = r.groups if limit is None else r.groups[:limit]
    for g in groups:
        print(f"\nsha256 {g.sha256[:16]}…  {len(g.paths)} copies of {human_bytes(g.size_bytes)}")
        for p in g.paths:
            print(f"  {p}")
    if len(groups) < len(r.groups):
        print(f"\n… and {_n(len(r.groups) - len(groups))} more sets (--limit N, or --json for all)")
    return EXIT_OK


def show_coverage(db_path: Path, as_json: bool = False) -> int:
    con = maintenance.open_database(db_path)
    try:
        cov = parse_coverage(con)
    finally:
        con.close()
    if as_json:
        _print_json(cov.as_dict())
    else:
        print(format_coverage(cov, db_path))
    return EXIT_OK


def format_coverage(cov: Coverage, db_path: Path) -> str:
    """Coverage as tables: statuses, fields found per generator, failure reasons."""
    lines = [f"Parse coverage of {db_path} ({_n(cov.total)} images)", ""]
    lines.append(format_table(["Status", "Images", "Share"],
                              [(s, _n(n), f"{100 * n / cov.total:.1f}%" if cov.total else "-")
                               for s, n in cov.statuses], numeric=(1, 2)))
    if cov.generators:
        lines.append("")
        lines.append(format_table(
            ["Generator", "Images", "Prompt", "Negative", "Seed", "Steps", "Sampler", "CFG", "Size", "Model"],
            [(g.generator, _n(g.images), _n(g.with_prompt), _n(g.with_negative_prompt), _n(g.with_seed),
              _n(g.with_steps), _n(g.with_sampler), _n(g.with_cfg_scale), _n(g.with_size), _n(g.with_model))
             for g in cov.generators], numeric=tuple(range(1, 10))))
    if cov.reasons:
        lines.append("")
        lines.append(format_table(["Status", "Reason", "Images", "Example"],
                                  [(r.status, r.reason, _n(r.images), r.example or "") for r in cov.reasons],
                                  numeric=(2,), max_widths={1: 70, 3: 60}, clip_left=(3,)))
    return "\n".join(lines)


def do_export(db_path: Path, out: str, query: str, *, force: bool, scope: str, sort: str, raw: bool,
              progress: bool = True) -> int:
    con = maintenance.open_database(db_path)
    bar = ProgressBar(progress, "Exporting", unit="image")
    try:
        r = exporting.export_file(con, out, query, scope=scope, sort=sort, include_raw=raw, overwrite=force,
                                  progress=bar)
    finally:
        bar.close()
        con.close()
    for note in r.notes:
        print(f"Note: {note}")
    print(f"Exported {_n(r.rows)} images to {r.path} ({r.format.upper()}) in {r.elapsed:.1f} s")
    return EXIT_OK


def do_sidecars(db_path: Path, query: str, *, out_dir: Optional[str], force: bool, dry_run: bool,
                include_all: bool, scope: str, progress: bool = True) -> int:
    con = maintenance.open_database(db_path)
    bar = ProgressBar(progress, "Sidecars", unit="image")
    try:
        r = exporting.export_sidecars(con, query, scope=scope, out_dir=out_dir, force=force, dry_run=dry_run,
                                      include_all=include_all, progress=bar)
    finally:
        bar.close()
        con.close()
    print(format_sidecars(r))
    return EXIT_OK if not r.failed else EXIT_FATAL


def format_sidecars(r: exporting.SidecarResult) -> str:
    where = f"under {r.out_dir}" if r.out_dir else "beside the images"
    verb = "would be written" if r.dry_run else "written"
    lines = [f"Sidecar files (<image name>.json) {where}:", _kv([
        ("images selected", _n(r.selected)),
        (verb, _n(r.written)),
        ("already there (kept; --force replaces)", _n(r.skipped_existing)),
        ("image file missing (skipped)", _n(r.skipped_missing_image)),
        ("failed", _n(r.failed)),
    ])]
    if r.examples:
        lines.append("e.g. " + r.examples[0])
    if r.first_error:
        lines.append(f"First error: {r.first_error}")
    if r.dry_run:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines)


def do_import_legacy(db_path: Path, legacy: str, settings: Settings, *, force: bool, text_only: bool,
                     workers: Optional[int], batch_size: Optional[int], progress: bool = True) -> int:
    bar = ProgressBar(progress, "Importing")
    try:
        s = import_legacy(strip_quotes(legacy), db_path, workers=workers or settings.max_workers,
                          batch_size=batch_size or settings.batch_size, force=force, reextract=not text_only,
                          progress=bar)
    finally:
        bar.close()
    print(format_legacy(s, legacy, db_path))
    return EXIT_OK


def format_legacy(s: LegacyImportSummary, legacy: str, db_path: Path) -> str:
    pairs = [
        ("rows in the legacy database", _n(s.legacy_rows)),
        ("re-read from the files (ExifTool)", _n(s.reextracted)),
        ("files gone: parsed from stored text", _n(s.from_text)),
        ("already in the database (kept)", _n(s.already_present)),
        ("with generation data", _n(s.with_generation_data)),
        ("without generation data", _n(s.without_generation_data)),
        ("not recognised (unparsed)", _n(s.unparsed)),
        ("errors", _n(s.errors)),
    ]
    if s.vanished:
        pairs.append(("vanished during the import", _n(s.vanished)))
    lines = [f"Imported {legacy} into {db_path}:", _kv(pairs)]
    if s.generators:
        lines.append("  generators: " + ", ".join(f"{g} {_n(c)}" for g, c in s.generators))
    lines.append(f"  elapsed: {s.elapsed:.1f} s")
    return "\n".join(lines)


# -- argument parsing ----------------------------------------------------------------------

def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="database file (default: [Database] db_name of config.ini)")
    parser.add_argument("--config", metavar="PATH", default=default, help="config file (default: config.ini)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS if suppress else False, help="more detail in the log")
    parser.add_argument("--no-progress", action="store_true",
                        default=argparse.SUPPRESS if suppress else False, help="no progress bars")


def _query_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in", dest="scope", choices=SCOPES, default="prompt",
                   help="where plain words are searched (default: prompt)")
    p.add_argument("--sort", choices=SORTS, default="path", help="order of the results (default: path)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="parameter_statistic_DB.py",
        description="Maintain and search the image metadata database. Without a command: a numbered menu.",
        epilog="Search language: " + SEARCH_HELP,
    )
    _common(p, suppress=False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help_text: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text, description=help_text)
        _common(sp, suppress=True)
        return sp

    sp = cmd("stats", "statistics: images, generators, models, samplers, date range")
    sp.add_argument("--json", action="store_true", help="print JSON")
    cmd("optimize", "merge the search index, refresh statistics, VACUUM")
    sp = cmd("sample", "a random sample of images with their key parameters")
    sp.add_argument("n", nargs="?", type=int, default=5, metavar="N", help="how many (default 5)")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp = cmd("integrity", "integrity and foreign-key checks, search index, and that every file still exists")
    sp.add_argument("--quick", action="store_true", help="PRAGMA quick_check instead of the full check")
    sp.add_argument("--no-files", action="store_true", help="do not look at the image files")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp = cmd("backup", "verified, timestamped copy (SQLite online backup; safe while DB_filler.py writes)")
    sp.add_argument("dir", metavar="DIR", help="folder for the backup (created if needed)")
    sp = cmd("size", "size of the database file and of its tables")
    sp.add_argument("--json", action="store_true", help="print JSON")
    cmd("last-modified", "when the database was last changed")
    sp = cmd("clear", "delete every image row (asks first unless --yes)")
    sp.add_argument("-y", "--yes", action="store_true", help="do not ask")
    sp = cmd("search", "search prompts and parameters; " + SEARCH_HELP)
    sp.add_argument("query", nargs="*", metavar="QUERY", help="the search (quote it for the shell)")
    sp.add_argument("--limit", type=int, default=50, metavar="N", help="rows to show (default 50; 0: count only)")
    sp.add_argument("--all", action="store_true", help="show every match")
    sp.add_argument("--json", action="store_true", help="print JSON")
    _query_options(sp)
    sp = cmd("export", "write the images a search selects to FILE (.csv, .json or .jsonl)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("query", nargs="*", metavar="QUERY", help="search selecting the images (default: all)")
    sp.add_argument("--force", action="store_true", help="overwrite FILE")
    sp.add_argument("--raw", action="store_true", help="include ExifTool's raw JSON of each file")
    _query_options(sp)
    sp = cmd("export-sidecars", "write <image>.json beside each image (or under --out DIR)")
    sp.add_argument("query", nargs="*", metavar="QUERY", help="search selecting the images (default: all)")
    sp.add_argument("--out", metavar="DIR", help="write the sidecars under DIR, mirroring the folders")
    sp.add_argument("--force", action="store_true", help="replace existing sidecars")
    sp.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")
    sp.add_argument("--all", action="store_true", help="also images without generation data")
    _query_options(sp)
    sp = cmd("prune", "remove rows whose file no longer exists (asks first unless --yes)")
    sp.add_argument("-y", "--yes", action="store_true", help="do not ask")
    sp.add_argument("--dry-run", action="store_true", help="only list them")
    sp.add_argument("--under", metavar="DIR", help="only files under DIR")
    sp = cmd("duplicates", "identical files (same sha256) at several paths")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.add_argument("--limit", type=int, default=20, metavar="N", help="sets to list (default 20)")
    sp = cmd("coverage", "images per generator and per parse status / reason")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp = cmd("import-legacy", "import a database of the original ExifData Analytics (table file_metadata)")
    sp.add_argument("legacy", metavar="OLD.db")
    sp.add_argument("--force", action="store_true", help="replace rows our database already has")
    sp.add_argument("--text-only", action="store_true",
                    help="parse the stored text even when the file exists (no ExifTool)")
    sp.add_argument("--workers", type=int, metavar="N", help="ExifTool processes (default: config.ini)")
    sp.add_argument("--batch-size", type=int, metavar="N", help="files per batch (default: config.ini)")
    return p


_QUERY_COMMANDS = ("search", "export", "export-sidecars")


def _subparser(parser: argparse.ArgumentParser, name: str) -> Optional[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def split_query_argv(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[list[str], Optional[list[str]]]:
    """For search/export, words such as '-hat' belong to the query, not to argparse: keep the
    command's own options for argparse and hand every other word, in order, to the query."""
    argv = list(argv)
    idx = next((i for i, a in enumerate(argv) if a in _QUERY_COMMANDS), None)
    if idx is None:
        return argv, None
    sp = _subparser(parser, argv[idx])
    options = sp._option_string_actions if sp is not None else {}
    head, rest = argv[:idx + 1], argv[idx + 1:]
    keep, words = [], []
    needs_file = argv[idx] == "export"
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--":
            words.extend(rest[i + 1:])
            break
        name = a.split("=", 1)[0]
        action = options.get(name) if a.startswith("-") else None
        if action is not None and a not in ("-", "--"):
            keep.append(a)
            if action.nargs != 0 and "=" not in a and i + 1 < len(rest):
                keep.append(rest[i + 1])
                i += 1
        elif needs_file:
            keep.append(a)
            needs_file = False
        else:
            words.append(a)
        i += 1
    return head + keep, words


# -- subcommand dispatch -------------------------------------------------------------------

def _db_path(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(strip_quotes(args.db)).expanduser() if getattr(args, "db", None) else settings.db_path


def _run_command(args: argparse.Namespace, settings: Settings) -> int:
    db = _db_path(args, settings)
    progress = not getattr(args, "no_progress", False)
    c = args.command
    if c == "stats":
        return show_stats(db, args.json)
    if c == "optimize":
        return do_optimize(db)
    if c == "sample":
        return show_sample(db, args.n, args.json)
    if c == "integrity":
        return show_integrity(db, check_files=not args.no_files, quick=args.quick, as_json=args.json,
                              progress=progress)
    if c == "backup":
        return do_backup(db, Path(strip_quotes(args.dir)).expanduser())
    if c == "size":
        return show_size(db, args.json)
    if c == "last-modified":
        return show_last_modified(db)
    if c == "clear":
        return do_clear(db, args.yes)
    if c == "search":
        if args.limit is not None and args.limit < 0:
            raise UsageError("--limit must be 0 or more")
        return show_search(db, args.query_text, None if args.all else args.limit, args.json, args.sort, args.scope)
    if c == "export":
        return do_export(db, strip_quotes(args.file), args.query_text, force=args.force, scope=args.scope,
                         sort=args.sort, raw=args.raw, progress=progress)
    if c == "export-sidecars":
        return do_sidecars(db, args.query_text, out_dir=args.out, force=args.force, dry_run=args.dry_run,
                           include_all=args.all, scope=args.scope, progress=progress)
    if c == "prune":
        return do_prune(db, args.yes, args.dry_run, args.under, progress=progress)
    if c == "duplicates":
        return show_duplicates(db, args.json, args.limit)
    if c == "coverage":
        return show_coverage(db, args.json)
    if c == "import-legacy":
        for name in ("workers", "batch_size"):
            if getattr(args, name) is not None and getattr(args, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        return do_import_legacy(db, args.legacy, settings, force=args.force, text_only=args.text_only,
                                workers=args.workers, batch_size=args.batch_size, progress=progress)
    raise UsageError(f"unknown command {c!r}")  # pragma: no cover - argparse rejects it first


# -- the menu ------------------------------------------------------------------------------

MENU = (
    ("1", "Statistics"),
    ("2", "Search"),
    ("3", "Sample of images"),
    ("4", "Check integrity"),
    ("5", "Back up"),
    ("6", "Size"),
    ("7", "Last modified"),
    ("8", "Optimize"),
    ("9", "Export to CSV / JSON / JSONL"),
    ("10", "Write sidecar files (<image>.json)"),
    ("11", "Duplicates"),
    ("12", "Coverage by generator"),
    ("13", "Remove rows of missing files (prune)"),
    ("14", "Import a database of the original ExifData Analytics"),
    ("15", "Clear the database"),
    ("0", "Quit"),
)


def _menu_text(db: Path) -> str:
    try:
        count = f"{_n(maintenance.database_stats(db).images)} images" if db.exists() else \
            "not found yet: run DB_filler.py, or import a legacy database"
    except ExifDataError as exc:
        count = f"cannot be read: {exc}"
    lines = ["", "ExifData Analytics - database tools", f"Database: {db} ({count})"]
    lines += [f"  {key:>2}  {label}" for key, label in MENU]
    return "\n".join(lines)


def _ask_default(question: str, default: str) -> str:
    answer = strip_quotes(ask(f"{question} [{default}]:"))
    return answer or default


def _menu_action(choice: str, db: Path, settings: Settings) -> None:
    if choice == "1":
        show_stats(db)
    elif choice == "2":
        query = ask('Search (e.g. cat -dog "red hair" steps>=30 model:sdxl; Enter to go back):')
        if query:
            show_search(db, query, limit=20, as_json=False)
    elif choice == "3":
        raw = _ask_default("How many images?", "5")
        if not raw.isdigit():
            print("Please enter a whole number.")
            return
        show_sample(db, int(raw))
    elif choice == "4":
        show_integrity(db)
    elif choice == "5":
        target = _ask_default("Folder for the backup", str(db.parent / "backups"))
        do_backup(db, Path(target).expanduser())
    elif choice == "6":
        show_size(db)
    elif choice == "7":
        show_last_modified(db)
    elif choice == "8":
        do_optimize(db)
    elif choice == "9":
        out = strip_quotes(ask("Export to which file (.csv, .json or .jsonl)?"))
        if not out:
            return
        exporting.format_for(out)
        query = ask("Search selecting the images (Enter: all images):")
        force = False
        if Path(out).expanduser().exists():
            force = ask_yes_no(f"{out} exists. Overwrite it? (yes/no):")
            if not force:
                print("Nothing written.")
                return
        do_export(db, out, query, force=force, scope="prompt", sort="path", raw=False)
    elif choice == "10":
        query = ask("Search selecting the images (Enter: all with generation data):")
        out_dir = strip_quotes(ask("Folder for the sidecars (Enter: beside each image):")) or None
        con = maintenance.open_database(db)
        try:
            dry = exporting.export_sidecars(con, query, out_dir=out_dir, dry_run=True)
        finally:
            con.close()
        print(format_sidecars(dry))
        if dry.written and ask_yes_no(f"Write these {_n(dry.written)} sidecar files? (yes/no):"):
            do_sidecars(db, query, out_dir=out_dir, force=False, dry_run=False, include_all=False, scope="prompt")
    elif choice == "11":
        show_duplicates(db, limit=10)
    elif choice == "12":
        show_coverage(db)
    elif choice == "13":
        do_prune(db, yes=False, dry_run=False, under=None)
    elif choice == "14":
        legacy = strip_quotes(ask("Path of the original's database file:"))
        if legacy:
            do_import_legacy(db, legacy, settings, force=False, text_only=False, workers=None, batch_size=None)
    elif choice == "15":
        do_clear(db, yes=False)


def run_menu(db: Path, settings: Settings) -> int:
    keys = {k for k, _ in MENU}
    print(_menu_text(db))
    while True:
        try:
            choice = ask(f"Choose 0-{len(MENU) - 1} (Enter shows the menu):").lower()
        except EndOfInput:
            print("\nEnd of input: bye.")
            return EXIT_OK
        except KeyboardInterrupt:
            print("\nInterrupted: bye.")
            return EXIT_INTERRUPTED
        if choice in ("0", "q", "quit", "exit"):
            print("Bye.")
            return EXIT_OK
        if choice == "":
            print(_menu_text(db))
            continue
        if choice not in keys:
            print(f"'{choice}' is not on the menu: enter a number from 0 to {len(MENU) - 1}.")
            continue
        try:
            _menu_action(choice, db, settings)
            print()
        except EndOfInput:
            print("\nEnd of input: bye.")
            return EXIT_OK
        except KeyboardInterrupt:
            print("\nCancelled.")
        except (UsageError, ExifDataError) as exc:
            logger.info("menu action %s: %s", choice, exc)
            print(f"error: {exc}")
        except sqlite3.Error as exc:  # locked, read-only, disk full…: one clear line, the menu goes on
            logger.warning("menu action %s: %s", choice, exc)
            print(f"error: {database.explain_sqlite_error(db, exc)}")
        except Exception as exc:  # noqa: BLE001 - one failed action must not end the session
            logger.exception("menu action %s failed", choice)
            print(f"error: unexpected {type(exc).__name__}: {exc} (details in {current_log_path() or LOG_NAME})")


# -- main ----------------------------------------------------------------------------------

def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    argv2, words = split_query_argv(parser, raw)
    args = parser.parse_args(argv2)
    if words is not None:
        args.query_text = " ".join((args.query or []) + words) if hasattr(args, "query") else " ".join(words)
    install_sigterm_as_interrupt()

    def body() -> int:
        settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
        setup_logging(settings.logging_dir, LOG_NAME, getattr(args, "verbose", False))
        logger.info("parameter_statistic_DB.py %s", " ".join(raw))
        if not args.command:
            return run_menu(_db_path(args, settings), settings)
        try:
            return _run_command(args, settings)
        except sqlite3.Error as exc:  # a write refused (read-only file, disk full): one clear line
            raise DatabaseError(database.explain_sqlite_error(_db_path(args, settings), exc)) from None

    return run_cli(body, log_hint="LOG_files/" + LOG_NAME)


# -- the seed's functions ------------------------------------------------------------------
# ``import parameter_statistic_DB`` keeps working: the seed's names, the database of
# config.ini unless ``db_path`` is given, results as the seed returned them where that is
# cheap (bool-like integrity, (file_name, path) pairs from search, {model: [paths]}).

def _seed_db(db_path: Optional[os.PathLike | str]) -> Path:
    return Path(db_path) if db_path is not None else load_settings().db_path


def database_stats(db_path: Optional[os.PathLike | str] = None) -> maintenance.DatabaseStats:
    return maintenance.database_stats(_seed_db(db_path))


def optimize_database(db_path: Optional[os.PathLike | str] = None) -> maintenance.OptimizeResult:
    return maintenance.optimize_database(_seed_db(db_path))


def metadata_sample(n: int = 5, db_path: Optional[os.PathLike | str] = None) -> tuple[SearchHit, ...]:
    return maintenance.metadata_sample(_seed_db(db_path), n)


def check_database_integrity(db_path: Optional[os.PathLike | str] = None,
                             check_files: bool = True) -> maintenance.IntegrityReport:
    return maintenance.check_database_integrity(_seed_db(db_path), check_files=check_files)


def backup_database(backup_dir: os.PathLike | str, db_path: Optional[os.PathLike | str] = None
                    ) -> maintenance.BackupResult:
    return maintenance.backup_database(_seed_db(db_path), backup_dir)


def database_size(db_path: Optional[os.PathLike | str] = None) -> maintenance.DatabaseSize:
    return maintenance.database_size(_seed_db(db_path))


def last_modified(db_path: Optional[os.PathLike | str] = None) -> maintenance.LastModified:
    return maintenance.last_modified(_seed_db(db_path))


def clear_database(db_path: Optional[os.PathLike | str] = None) -> maintenance.ClearResult:
    return maintenance.clear_database(_seed_db(db_path))


def search_metadata(keyword: str, db_path: Optional[os.PathLike | str] = None,
                    limit: Optional[int] = None) -> list[tuple[str, str]]:
    result = maintenance.search_metadata(_seed_db(db_path), keyword, limit=limit, scope="any")
    return [(h.file_name, h.path) for h in result.hits]


def list_models_in_directory(directory: os.PathLike | str, db_path: Optional[os.PathLike | str] = None
                             ) -> dict[str, list[str]]:
    return {u.model: list(u.paths) for u in maintenance.list_models_in_directory(_seed_db(db_path), directory)}


SEED_FUNCTIONS = ("database_stats", "optimize_database", "metadata_sample", "check_database_integrity",
                  "backup_database", "database_size", "last_modified", "clear_database", "search_metadata",
                  "list_models_in_directory")
