"""DB_filler.py: index a folder of images into the SQLite database."""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from ..config import Settings
from ..filler import FillInterrupted, FillOptions, FillSummary, fill, max_workers
from ..reparse import ReparseSummary, reparse
from ..watch import Watcher, WatchBatch, WatchSummary
from .common import (EXIT_INTERRUPTED, EXIT_OK, ProgressBar, UsageError, add_version, ask_until, ask_yes_no,
                     common_options, progress_option, run_main, strip_quotes)

logger = logging.getLogger(__name__)

LOG_NAME = "DB_filler_LOG.txt"
PROMPT_DIR = "Enter the directory to update the database with:"
PROMPT_RECURSIVE = "Include subfolders? (yes/no):"
# --force reads every file again, so running it again starts over; without it, the files not yet
# read again keep their earlier rows (unchanged files are skipped), which is what resuming means here
RESUME_AFTER_FORCE = ("With --force every file is read again, so running the same command again starts over; "
                      "without --force only new and changed files are read and the others keep their rows.")


SCRIPT = "DB_filler.py"


def build_parser(prog: str = SCRIPT) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, parents=[common_options(), progress_option()],
        description="Read the generation parameters of every image in a folder (ExifTool) and store "
                    "them in the SQLite database. Without DIR, asks for the folder and for subfolders.",
    )
    add_version(p)
    p.add_argument("dir", nargs="?", metavar="DIR", help="folder of images to index")
    p.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    p.add_argument("--workers", type=int, metavar="N", help="ExifTool processes (default: [Processing] max_workers)")
    p.add_argument("--batch-size", type=int, metavar="N", help="files per ExifTool call and DB transaction "
                                                               "(default: [Processing] batch_size)")
    p.add_argument("-y", "--yes", action="store_true", help="never prompt (DIR is then required)")
    p.add_argument("--force", action="store_true", help="re-extract files even when unchanged (with --prune: "
                                                        "prune even a folder that holds no images at all)")
    p.add_argument("--dry-run", action="store_true", help="report what would be done, write nothing")
    p.add_argument("--prune", action="store_true", help="remove rows of files that no longer exist under DIR")
    p.add_argument("--cross-filesystems", action="store_true",
                   help="also index folders under DIR that are on another file system (mounted drives)")
    p.add_argument("--reparse", action="store_true",
                   help="re-run the parsers over the stored ExifTool JSON, without ExifTool "
                        "(all rows, or those under DIR)")
    p.add_argument("--watch", action="store_true",
                   help="after the run, keep indexing new and changed files as they appear, until Ctrl-C")
    p.add_argument("--poll", type=float, metavar="SECONDS",
                   help="with --watch: look for changes every SECONDS instead of waiting for the system's "
                        "file notifications (network drives; chosen by itself on NFS/SMB/sshfs)")
    return p


def _positive(value: Optional[int], name: str) -> Optional[int]:
    if value is not None and value < 1:
        raise UsageError(f"{name} must be at least 1")
    return value


def _n(value: int) -> str:
    return f"{value:,}"


def format_summary(s: FillSummary, recursive: bool, db_path: Path, log_path: Optional[Path],
                   prune: bool = False) -> str:
    where = "with subfolders" if recursive else "without subfolders"
    verb = "would be " if s.dry_run else ""
    lines = [f"Scanned {s.root} ({where}): {_n(s.found)} image files"]
    rows = [
        (f"new ({verb}added)", s.new),
        (f"changed ({verb}updated)", s.updated),
        *([("moved (re-linked by content)", s.moved)] if s.moved else []),
        ("unchanged (skipped)", s.unchanged),
    ]
    if not s.dry_run:
        rows += [
            ("with generation data", s.with_generation_data),
            ("without generation data", s.no_generation_data),
            ("not recognised (unparsed)", s.unparsed),
            ("errors", s.errors),
        ]
        if s.vanished:
            rows.append(("vanished during the run", s.vanished))
    if s.pruned or (prune and not s.dry_run):
        rows.append(("removed (gone from the folder)", s.pruned))
    elif s.prunable:
        rows.append((f"gone from the folder ({'would be removed' if s.dry_run else 'kept; --prune removes'})",
                     s.prunable))
    if s.scan_problems:
        rows.append(("folders/files that could not be read", s.scan_problems))
    if s.skipped_folders:
        rows.append(("folders not entered (links out, other drives)", s.skipped_folders))
    width = max(len(r[0]) for r in rows) + 1
    lines += [f"  {label + ':':<{width}} {_n(value):>9}" for label, value in rows]
    if s.generators:
        lines.append("  generators: " + ", ".join(f"{k} {_n(v)}" for k, v in sorted(
            s.generators.items(), key=lambda kv: (-kv[1], kv[0]))))
    lines.append(f"  elapsed: {s.elapsed:.1f} s ({s.files_per_second:,.1f} files/s)")
    if s.exiftool_restarts:
        lines.append(f"  ExifTool restarts: {s.exiftool_restarts}")
    lines.append(f"Database: {db_path}")
    if (s.errors or s.scan_problems or s.unparsed or s.skipped_folders) and log_path:
        lines.append(f"Details of skipped and failed files: {log_path}")
    return "\n".join(lines)


def format_reparse(s: ReparseSummary, db_path: Path) -> str:
    return "\n".join([
        f"Re-parsed {_n(s.rows)} rows of {db_path} in {s.elapsed:.1f} s (no ExifTool)",
        f"  with generation data: {_n(s.ok)}; without: {_n(s.no_generation_data)}; "
        f"unparsed: {_n(s.unparsed)}; errors: {_n(s.errors)}",
        f"  rows whose status changed: {_n(s.changed_status)}"
        + (f"; rows without stored ExifTool JSON (left as they were): {_n(s.skipped_without_raw)}"
           if s.skipped_without_raw else ""),
    ])


def _existing_folder(answer: str) -> str:
    """A typed folder that exists, else ValueError with what is wrong (the question is asked again)."""
    folder = strip_quotes(answer)
    if not folder:
        raise ValueError("Please enter a folder.")
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError(f"{'Not a folder' if path.exists() else 'Folder not found'}: {path}")
    return str(path)


def format_watch_batch(batch: WatchBatch) -> str:
    s = batch.summary
    parts = [f"{_n(s.new)} new", f"{_n(s.updated)} updated"]
    parts += [f"{_n(s.moved)} moved"] if s.moved else []
    parts += [f"{_n(s.errors)} failed"] if s.errors else []
    return (f"{datetime.now():%H:%M:%S} indexed {_n(s.processed)} files ({', '.join(parts)}; "
            f"{_n(s.with_generation_data)} with generation data) in {s.elapsed:.1f} s")


def format_watch_end(w: WatchSummary) -> str:
    moved = f", {_n(w.moved)} moved" if w.moved else ""
    failed = f", {_n(w.errors)} failed" if w.errors else ""
    return (f"Stopped watching: {_n(w.new)} new and {_n(w.updated)} updated files{moved}{failed} "
            f"in {_n(w.batches)} batches" + (" (the files of the last batch finished so far are stored)"
                                             if w.interrupted_batch else "") + ".")


def _check_watch(args: argparse.Namespace) -> None:
    if args.poll is not None and not args.watch:
        raise UsageError("--poll goes with --watch")
    if args.poll is not None and not 0.1 <= args.poll <= 3600:
        raise UsageError("--poll SECONDS must be between 0.1 and 3600")
    if args.watch and (args.reparse or args.dry_run):
        raise UsageError(f"--watch cannot go with {'--reparse' if args.reparse else '--dry-run'}")


def _resolve_target(args: argparse.Namespace) -> tuple[Optional[str], bool]:
    """DIR and recursion from the arguments, or from the original's two questions."""
    if args.dir is not None:
        return strip_quotes(args.dir), args.recursive
    if args.reparse:
        return None, args.recursive
    if args.yes:
        raise UsageError("DIR is required with --yes (e.g. DB_filler.py ./images -r -y)")
    folder = ask_until(PROMPT_DIR, _existing_folder, "give the path of an existing folder")
    recursive = args.recursive or ask_yes_no(PROMPT_RECURSIVE)
    return folder, recursive


def _run(args: argparse.Namespace, settings: Settings, log_path: Optional[Path]) -> int:
    db_path = Path(args.db).expanduser() if args.db else settings.db_path
    workers = _positive(args.workers, "--workers") or settings.max_workers
    if workers > max_workers():
        print(f"Note: {workers} ExifTool processes are more than this machine can use; starting at most "
              f"{max_workers()} (4 per CPU).", file=sys.stderr)
        workers = max_workers()
    batch_size = _positive(args.batch_size, "--batch-size") or settings.batch_size
    _check_watch(args)
    folder, recursive = _resolve_target(args)
    bar = ProgressBar(enabled=not args.no_progress, desc="Re-parsing" if args.reparse else "Processing images")
    try:
        if args.reparse:
            result = reparse(db_path, folder, progress=bar)
            bar.close()
            print(format_reparse(result, db_path))
            return EXIT_OK
        options = FillOptions(root=folder, recursive=recursive, db_path=db_path, workers=workers,
                              batch_size=batch_size, force=args.force, dry_run=args.dry_run, prune=args.prune,
                              prune_empty_root=args.prune and args.force, cross_filesystems=args.cross_filesystems)
        try:
            if args.watch:
                return _fill_and_watch(options, args, bar, db_path, log_path)
            summary = fill(options, progress=bar)
        except FillInterrupted as stop:
            bar.close()
            print(format_summary(stop.summary, recursive, db_path, log_path, args.prune))
            print(f"Interrupted: the {_n(stop.summary.processed)} files finished so far are stored. "
                  + (RESUME_AFTER_FORCE if args.force else "Run the same command again to resume."), file=sys.stderr)
            return EXIT_INTERRUPTED
    finally:
        bar.close()
    print(format_summary(summary, recursive, db_path, log_path, args.prune))
    if summary.found == 0:
        print("No image files found in the specified directory.")
    elif args.dry_run:
        print("Dry run: nothing was written.")
    else:
        print("Database update completed successfully.")
    return EXIT_OK


def _fill_and_watch(options: FillOptions, args: argparse.Namespace, bar: ProgressBar, db_path: Path,
                    log_path: Optional[Path]) -> int:
    """The normal run, then watch mode; Ctrl-C while watching is how it ends (exit 0)."""
    with Watcher(options, poll_seconds=args.poll) as watcher:  # watching already: nothing written meanwhile is missed
        if watcher.note:
            print(f"Note: {watcher.note}.", file=sys.stderr)
        summary = fill(options, progress=bar)
        bar.close()
        print(format_summary(summary, options.recursive, db_path, log_path, args.prune))
        how = f"every {watcher.poll_seconds:g} s" if watcher.polling else "as files appear"
        print(f"Watching {summary.root} for new and changed images ({how}); Ctrl-C stops.", flush=True)

        def show(batch: WatchBatch) -> None:
            if batch.changed:  # events for files that did not really change print nothing
                print(format_watch_batch(batch), flush=True)

        result = watcher.run(on_batch=show)
    print(format_watch_end(result))
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None, prog: str = SCRIPT) -> int:
    return run_main(prog, LOG_NAME, build_parser(prog).parse_args, _run, argv, logger)
