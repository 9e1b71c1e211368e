"""parameter_statistic_DB.py's actions: each asks the library, prints the result (or JSON) and
returns the exit code. The subcommands and the menu call the same actions."""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Optional

from .. import export as exporting
from .. import inventory, maintenance
from ..config import Settings
from ..coverage import parse_coverage
from ..datasette_metadata import database_name, metadata_for
from ..errors import DatabaseError, InputError
from ..legacy import import_legacy
from ..safe_files import atomic_write
from ..scan import empty_root_message
from ..search import SearchHit, SearchResult, compile_query, count
from ..search.run import iter_hits
from .common import EXIT_FATAL, EXIT_OK, ProgressBar, UsageError, strip_quotes
from .db_format import (console_text, count_text, format_coverage, format_hits, format_legacy,
                        format_sidecars, format_table, format_unused, human_bytes, kv, search_summary, terminal_width, to_json)

logger = logging.getLogger(__name__)

# the question of a destructive action, answered by the caller (yes/no prompt, or -y/--yes):
# called with the values the question names, False means leave everything as it is
Confirm = Callable[..., bool]


def _print_json(obj: Any) -> None:
    print(to_json(obj))


def show_stats(db_path: Path, as_json: bool = False) -> int:
    s = maintenance.database_stats(db_path)
    if as_json:
        _print_json(s)
        return EXIT_OK
    created = f"{(s.first_created or '')[:10]} … {(s.last_created or '')[:10]}" if s.first_created else "-"
    print(f"Database: {db_path}")
    print(kv([
        ("images", count_text(s.images)),
        ("with generation data", count_text(s.with_generation_data)),
        ("without generation data", count_text(s.without_generation_data)),
        ("not recognised (unparsed)", count_text(s.unparsed)),
        ("errors", count_text(s.errors)),
        ("folders", count_text(s.folders)),
        ("distinct models", count_text(s.distinct_models)),
        ("distinct samplers", count_text(s.distinct_samplers)),
        ("distinct LoRAs", count_text(s.distinct_loras)),
        ("size of the image files", human_bytes(s.total_file_bytes)),
        ("images created", created),
        ("last indexed", s.last_indexed or "-"),
    ]))
    for title, pairs in (("Generator", s.by_generator), ("Format", s.by_format),
                         ("Top model", s.top_models), ("Top sampler", s.top_samplers)):
        if pairs:
            print()
            print(format_table([title, "Images"], [(k, count_text(v)) for k, v in pairs], numeric=(1,),
                               max_widths={0: 60}))
    return EXIT_OK


def show_search(db_path: Path, query: str, limit: Optional[int], as_json: bool, sort: str = "path",
                scope: str = "prompt", paths: bool = False, null: bool = False) -> int:
    if paths:
        return _print_paths(db_path, query, limit, sort, scope, "\0" if null else "\n")
    if limit is None:
        return _stream_search(db_path, query, as_json, sort, scope)
    result = maintenance.search_metadata(db_path, query, limit=limit, sort=sort, scope=scope)
    if as_json:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        _print_json({"query": result.query, "total": result.total, "limit": result.limit,
                     "notes": list(result.notes), "hits": [dataclasses.asdict(h) for h in result.hits]})
        return EXIT_OK
    for note in result.notes:  # on standard error: standard output stays the result
        print(f"Note: {note}", file=sys.stderr)
    print(search_summary(result))
    if result.hits:
        print(format_hits(result.hits))
    return EXIT_OK


# rows per table when every match is shown: memory stays that of one page, whatever the total
_PAGE = 1000


def _stream_search(db_path: Path, query: str, as_json: bool, sort: str, scope: str) -> int:
    """``search --all``: the matches streamed from one read snapshot, never all held at once.
    JSON comes out exactly as the whole result would be printed; text as tables of _PAGE rows."""
    started = time.perf_counter()
    compiled = compile_query(query, scope)
    con = maintenance.open_database(db_path)
    try:
        con.execute("BEGIN")  # the total and the hits from one snapshot
        head = SearchResult(compiled.text, count(con, compiled), (), None, compiled.notes,
                            time.perf_counter() - started)
        hits = iter_hits(con, compiled, sort=sort)
        try:
            if as_json:
                _stream_json(head, hits)
            else:
                for note in head.notes:
                    print(f"Note: {note}", file=sys.stderr)
                print(search_summary(head, shown=head.total))
                width = terminal_width()
                while page := [_shown_part(hit, width) for hit in islice(hits, _PAGE)]:
                    print(format_hits(page, width))
        finally:
            hits.close()
    finally:
        con.close()
    return EXIT_OK


def _print_paths(db_path: Path, query: str, limit: Optional[int], sort: str, scope: str, end: str) -> int:
    """``search --paths``: the matching paths alone, each ended by ``end``, streamed; notes on
    standard error."""
    compiled = compile_query(query, scope)
    for note in compiled.notes:
        print(f"Note: {note}", file=sys.stderr)
    con = maintenance.open_database(db_path)
    try:
        hits = iter_hits(con, compiled, sort=sort)
        try:
            out = sys.stdout
            for hit in islice(hits, limit):
                out.write(hit.path + end)
            out.flush()
        finally:
            hits.close()
    finally:
        con.close()
    return EXIT_OK


def _shown_part(hit: SearchHit, width: int) -> SearchHit:
    """The hit with no more of its prompts than a table of ``width`` columns can show: the
    table clips them anyway, and measuring whole prompts cost ~150 MB per page of 1,000."""
    keep = 4 * width  # whitespace is collapsed first, as the table does; the rest clips the same
    cut = {name: " ".join(text.split())[:keep] for name in ("prompt", "negative_prompt")
           if isinstance(text := getattr(hit, name), str) and len(text) > keep}
    return dataclasses.replace(hit, **cut) if cut else hit


def _stream_json(head: SearchResult, hits) -> None:
    for note in head.notes:
        print(f"note: {note}", file=sys.stderr)
    text = to_json({"query": head.query, "total": head.total, "limit": None, "notes": list(head.notes), "hits": []})
    opening, _, _ = text.rpartition("[]")  # everything up to the hits' list, as to_json writes it
    out = sys.stdout
    out.write(opening + "[")
    first = True
    for hit in hits:
        body = to_json(dataclasses.asdict(hit)).replace("\n", "\n    ")  # to_json's indent, two levels in
        out.write(("\n    " if first else ",\n    ") + body)
        first = False
    out.write(("\n  ]" if not first else "]") + "\n}\n")
    out.flush()


def show_sample(db_path: Path, n: int, as_json: bool = False) -> int:
    if n < 0:
        raise UsageError("the sample size must be 0 or more")
    hits = maintenance.metadata_sample(db_path, n)
    if as_json:
        _print_json([dataclasses.asdict(h) for h in hits])
        return EXIT_OK
    total = maintenance.database_stats(db_path).images
    print(f"Random sample of {count_text(len(hits))} of {count_text(total)} images:")
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
        ("foreign keys",
         "ok" if not r.foreign_key_violations else f"{count_text(r.foreign_key_violations)} violations"),
        ("search index", fts),
        ("rows", count_text(r.rows)),
    ]
    if check_files:
        pairs += [("files missing", count_text(r.missing_files)),
                  ("files changed since indexed", count_text(r.changed_files))]
    print(f"Integrity of {db_path}:")
    print(kv(pairs))
    for title, examples, total in (("Missing", r.missing_examples, r.missing_files),
                                   ("Changed", r.changed_examples, r.changed_files)):
        if examples:
            print(f"{title} (first {len(examples)} of {count_text(total)}):")
            for p in examples:
                print(f"  {console_text(p)}")
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
    print(f"  {human_bytes(r.size_bytes)}, {count_text(r.images)} images, verified (integrity {r.integrity}), "
          f"{r.elapsed:.1f} s")
    return EXIT_OK


def show_size(db_path: Path, as_json: bool = False) -> int:
    s = maintenance.database_size(db_path)
    if as_json:
        _print_json(dataclasses.asdict(s) | {"total_bytes": s.total_bytes})
        return EXIT_OK
    print(f"Database: {db_path}")
    print(kv([
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


def do_clear(db_path: Path, *, confirm: Confirm) -> int:
    if not confirm(images=count_text(maintenance.database_stats(db_path).images), db=db_path):
        return EXIT_OK
    r = maintenance.clear_database(db_path)
    print(f"Database cleared: {count_text(r.images)} images and {count_text(r.resources)} resources removed.")
    print("Run 'optimize' to shrink the file.")
    return EXIT_OK


def do_prune(db_path: Path, dry_run: bool, under: Optional[str], *, confirm: Confirm, progress: bool = True,
             force: bool = False) -> int:
    bar = ProgressBar(progress, "Checking files")
    try:
        found = maintenance.prune_database(db_path, dry_run=True, under=under, progress=bar)
    finally:
        bar.close()
    if not found.missing:
        print(f"All {count_text(found.checked)} files of the database still exist; nothing to prune.")
        print("Removed 0 rows.")
        return EXIT_OK
    print(f"{count_text(len(found.missing))} of {count_text(found.checked)} rows point to files that no longer "
          "exist, e.g.:")
    for p in found.missing[:5]:
        print(f"  {console_text(p)}")
    if found.folders_gone:
        print(f"Warning: {count_text(len(found.folders_gone))} of their folders are gone entirely "
              f"(e.g. {console_text(found.folders_gone[0])}); if a drive is not mounted, mount it first.")
    if found.empty_roots and not force:
        # an empty mount point: the rows would be lost although the files may be fine
        message = empty_root_message(found.empty_roots, found.missing, "pass --force")
        if dry_run:
            print(f"Warning: {message}")
        else:
            raise InputError(message)
    if dry_run:
        print("Dry run: nothing was removed.")
        return EXIT_OK
    if not confirm(rows=count_text(len(found.missing))):
        return EXIT_OK
    removed = maintenance.remove_missing(db_path, found.missing)
    print(f"Removed {count_text(removed)} rows of missing files.")
    return EXIT_OK


def show_duplicates(db_path: Path, as_json: bool = False, limit: Optional[int] = None) -> int:
    r = maintenance.find_duplicates(db_path)
    if as_json:
        _print_json({"groups": r.groups, "extra_copies": r.extra_copies, "wasted_bytes": r.wasted_bytes})
        return EXIT_OK
    if not r.groups:
        print("No duplicates: every indexed file's content (sha256) is unique.")
        return EXIT_OK
    print(f"{count_text(len(r.groups))} sets of identical files: {count_text(r.extra_copies)} extra copies, "
          f"{human_bytes(r.wasted_bytes)} that could be freed")
    groups = r.groups if limit is None else r.groups[:limit]
    for g in groups:
        print(f"\nsha256 {g.sha256[:16]}…  {len(g.paths)} copies of {human_bytes(g.size_bytes)}")
        for p in g.paths:
            print(f"  {console_text(p)}")
    if len(groups) < len(r.groups):
        print(f"\n… and {count_text(len(r.groups) - len(groups))} more sets (--limit N, or --json for all)")
    return EXIT_OK


def show_unused(db_path: Path, models_dir: str, as_json: bool = False, progress: bool = True) -> int:
    """Model files under a folder with the images that used them, and the never used ones."""
    try:
        con = maintenance.open_database(db_path, readonly=False)  # writable for the hash cache
        cache = True
    except DatabaseError:
        con = maintenance.open_database(db_path)
        cache = False
    bar = ProgressBar(progress and not as_json, "Hashing model files", unit="B")
    try:
        r = inventory.find_unused(con, strip_quotes(models_dir), progress=bar, cache=cache)
    finally:
        bar.close()
        con.close()
    if as_json:
        _print_json({"root": r.root, "files": [{k: getattr(f, k) for k in ("path", "kind", "name", "size_bytes",
                                                                           "images", "last_used", "matched_by")}
                                               for f in r.files],
                     "unused": [f.path for f in r.unused], "unused_bytes": r.unused_bytes})
        return EXIT_OK
    print(format_unused(r))
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


def do_export(db_path: Path, out: str, query: str, *, force: bool, scope: str, sort: str, raw: bool,
              progress: bool = True, fmt: Optional[str] = None, formula_escape: bool = True) -> int:
    to_stdout = out == "-"
    if to_stdout and (fmt or "csv") == "parquet" and sys.stdout.isatty():
        raise UsageError("Parquet is binary: redirect standard output to a file or a program (> out.parquet)")
    con = maintenance.open_database(db_path)
    bar = ProgressBar(progress, "Exporting", unit="image")
    try:
        if to_stdout:
            sys.stdout.flush()
            options = exporting.ExportOptions(query, scope, sort, raw, formula_escape)
            r = exporting.export_stream(con, sys.stdout.buffer, fmt or "csv", options, progress=bar)
        else:
            r = exporting.export_file(con, out, query, scope=scope, sort=sort, include_raw=raw, overwrite=force,
                                      formula_escape=formula_escape, fmt=fmt, progress=bar)
    finally:
        bar.close()
        con.close()
    # with the data on standard output, what is said about it goes to standard error
    say = sys.stderr if to_stdout else sys.stdout
    for note in r.notes:
        print(f"Note: {note}", file=say)
    where = "standard output" if to_stdout else r.path
    print(f"Exported {count_text(r.rows)} images to {where} ({r.format.upper()}) in {r.elapsed:.1f} s", file=say)
    return EXIT_OK


def do_datasette_metadata(db_path: Path, out: Optional[str], force: bool = False) -> int:
    text = to_json(metadata_for(db_path)) + "\n"
    if not out or out == "-":
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(strip_quotes(out)).expanduser()
    if os.path.lexists(target) and not force:
        raise InputError(f"{target} already exists; pass --force to overwrite it or choose another name")
    try:
        with atomic_write(target, encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc}") from None
    print(f"Wrote the Datasette metadata for database {database_name(db_path)!r} to {target}\n"
          f"  datasette {db_path} --metadata {target}")
    return EXIT_OK


def do_sidecars(db_path: Path, query: str, *, out_dir: Optional[str], force: bool, dry_run: bool,
                include_all: bool, scope: str, progress: bool = True, fmt: str = "json") -> int:
    con = maintenance.open_database(db_path)
    bar = ProgressBar(progress, "Sidecars", unit="image")
    try:
        r = exporting.export_sidecars(con, query, scope=scope, out_dir=out_dir, force=force, dry_run=dry_run,
                                      include_all=include_all, progress=bar, fmt=fmt)
    finally:
        bar.close()
        con.close()
    print(format_sidecars(r))
    return EXIT_OK if not r.failed else EXIT_FATAL


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


def do_serve(db_path: Path, host: str, port: int, thumbnail_dir: Optional[Path]) -> int:
    """The local browser, until Ctrl+C."""
    from ..web import make_server, plan  # Flask and waitress only for this command

    if not Path(db_path).is_file():
        raise DatabaseError(f"database not found: {db_path}; run DB_filler.py first or pass --db PATH")
    where = plan(host, port)
    server = make_server(db_path, thumbnail_dir, host, port)
    if where.warning:
        print(f"Warning: {where.warning}", file=sys.stderr)
    print(f"Serving {db_path} at {where.url} (read only; Ctrl+C stops)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    print("Stopped serving.")
    return EXIT_OK
