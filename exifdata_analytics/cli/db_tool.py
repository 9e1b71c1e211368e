"""parameter_statistic_DB.py: database maintenance as subcommands and as a numbered menu.

Both are generated from one table, COMMANDS: each row names a subcommand, its arguments, its
action, its menu item and, for destructive actions, the question asked first (unless
--yes). Without a command the menu loops until quit. The actions live in db_actions, the
text in db_format, the menu's questions in db_menu, the seed's functions in seed_api.
"""
from __future__ import annotations

import argparse
import logging
import sqlite3
from pathlib import Path
from typing import Optional, Sequence

from .. import db as database
from ..config import Settings
from ..errors import DatabaseError
from ..search import SCOPES, SORTS
from .. import export as exporting
from . import db_actions as actions
from . import db_menu
from .commands import QUERY, Arg, Command, Confirmation, Context, MenuItem, add_subcommands, arg, run_from_args
from .common import UsageError, add_version, common_options, parse_count, progress_option, run_main, strip_quotes

logger = logging.getLogger(__name__)

SCRIPT = "parameter_statistic_DB.py"
LOG_NAME = "process_logDB.txt"  # the original's log name
SEARCH_HELP = ('words and "phrases" in the prompt; AND, OR, NOT or -word; neg:WORD (negative prompt only), '
               "any:WORD (prompt or negative); word* (prefix); fields: model:, sampler:, scheduler:, vae:, "
               "generator:, folder:, lora:, status:, format:, steps>=30, cfg<7, seed:, size:512x768, "
               "since:YYYY-MM-DD, until:; field=VALUE for an exact match")
# this script's help has always worded three of the shared options so
CONFIG_HELP = "config file (default: config.ini)"
VERBOSE_HELP = "more detail in the log"
NO_PROGRESS_HELP = "no progress bars"


# -- arguments several commands take -----------------------------------------------------------

def _count(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


JSON = arg("--json", action="store_true", help="print JSON")
SCOPE = arg("--in", dest="scope", choices=SCOPES, default="prompt",
            help="where plain words are searched (default: prompt)")
SORT = arg("--sort", choices=SORTS, default="path", help="order of the results (default: path)")
SELECTING = "search selecting the images (default: all)"


def _query(help_text: str) -> Arg:
    return arg(QUERY, nargs="*", metavar="QUERY", help=help_text)


def _progress(args: argparse.Namespace) -> bool:
    return not args.no_progress


def _as_json(args: argparse.Namespace, context: Context) -> dict:
    return {"as_json": args.json}


def _search_args(args: argparse.Namespace, context: Context) -> dict:
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    if args.null and not args.paths:
        raise UsageError("-0/--null goes with --paths")
    if args.paths and args.json:
        raise UsageError("--paths and --json are two outputs: choose one")
    limit = args.limit if args.limit is not None else (None if args.paths else 50)
    return {"query": args.query_text, "limit": None if args.all else limit, "as_json": args.json,
            "sort": args.sort, "scope": args.scope, "paths": args.paths, "null": args.null}


def _legacy_args(args: argparse.Namespace, context: Context) -> dict:
    for name in ("workers", "batch_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    return {"legacy": args.legacy, "settings": context.settings, "force": args.force, "text_only": args.text_only,
            "workers": args.workers, "batch_size": args.batch_size, "progress": _progress(args)}


# -- the command table: subcommands in the order --help lists them, menu items by number --------

COMMANDS = (
    Command("stats", "statistics: images, generators, models, samplers, date range",
            actions.show_stats, _as_json, args=(JSON,),
            menu=MenuItem("1", "Statistics")),
    Command("optimize", "merge the search index, refresh statistics, VACUUM",
            actions.do_optimize, menu=MenuItem("8", "Optimize")),
    Command("sample", "a random sample of images with their key parameters",
            actions.show_sample, lambda a, _: {"n": a.n, "as_json": a.json},
            args=(arg("n", nargs="?", type=_count, default=5, metavar="N", help="how many (default 5)"), JSON),
            menu=MenuItem("3", "Sample of images", db_menu.ask_sample_size)),
    Command("integrity", "integrity and foreign-key checks, search index, and that every file still exists",
            actions.show_integrity,
            lambda a, _: {"check_files": not a.no_files, "quick": a.quick, "as_json": a.json,
                          "progress": _progress(a)},
            args=(arg("--quick", action="store_true", help="PRAGMA quick_check instead of the full check"),
                  arg("--no-files", action="store_true", help="do not look at the image files"),
                  JSON),
            menu=MenuItem("4", "Check integrity")),
    Command("backup", "verified, timestamped copy (SQLite online backup; safe while DB_filler.py writes)",
            actions.do_backup, lambda a, _: {"backup_dir": Path(strip_quotes(a.dir)).expanduser()},
            args=(arg("dir", metavar="DIR", help="folder for the backup (created if needed)"),),
            menu=MenuItem("5", "Back up", db_menu.ask_backup_folder)),
    Command("size", "size of the database file and of its tables",
            actions.show_size, _as_json, args=(JSON,),
            menu=MenuItem("6", "Size")),
    Command("last-modified", "when the database was last changed",
            actions.show_last_modified, menu=MenuItem("7", "Last modified")),
    Command("clear", "delete every image row (asks first unless --yes)",
            actions.do_clear, menu=MenuItem("15", "Clear the database"),
            confirm=Confirmation("Delete all {images} images from {db}? This cannot be undone. (yes/no):",
                                 declined="Nothing deleted.")),
    Command("search", "search prompts and parameters; " + SEARCH_HELP,
            actions.show_search, _search_args,
            args=(_query("the search (quote it for the shell)"),
                  arg("--limit", type=_count, metavar="N",
                      help="rows to show (default 50, with --paths all; 0: count only)"),
                  arg("--all", action="store_true", help="show every match"),
                  arg("--paths", action="store_true",
                      help="print only the matching files' paths, one per line (for xargs and scripts)"),
                  arg("-0", "--null", action="store_true", help="with --paths: end each path with NUL, not a "
                                                                "line break (xargs -0; names with line breaks)"),
                  JSON, SCOPE, SORT),
            menu=MenuItem("2", "Search", db_menu.ask_search)),
    Command("export", "write the images a search selects to FILE (.csv, .json, .jsonl or .parquet; "
                      "- for standard output)",
            actions.do_export,
            lambda a, _: {"out": strip_quotes(a.file), "query": a.query_text, "force": a.force, "scope": a.scope,
                          "sort": a.sort, "raw": a.raw, "progress": _progress(a), "fmt": a.format,
                          "formula_escape": not a.no_formula_escape},
            args=(arg("file", metavar="FILE", help="the file to write, or - for standard output (then --format)"),
                  _query(SELECTING),
                  arg("--format", choices=exporting.FORMAT_NAMES,
                      help="the format (default: FILE's extension; csv for -); parquet needs pyarrow"),
                  arg("--force", action="store_true", help="overwrite FILE"),
                  arg("--raw", action="store_true", help="include ExifTool's raw JSON of each file"),
                  arg("--no-formula-escape", action="store_true",
                      help="CSV: write text cells as they are (no ' before =, +, -, @: for programs, not spreadsheets)"),
                  SCOPE, SORT),
            menu=MenuItem("9", "Export to CSV / JSON / JSONL / Parquet", db_menu.ask_export)),
    Command("export-sidecars", "write <image>.json (or with --format txt A1111's <image>.txt) beside each image "
                               "(or under --out DIR)",
            actions.do_sidecars,
            lambda a, _: {"query": a.query_text, "out_dir": a.out, "force": a.force, "dry_run": a.dry_run,
                          "include_all": a.all, "scope": a.scope, "progress": _progress(a), "fmt": a.format},
            args=(_query(SELECTING),
                  arg("--format", choices=exporting.SIDECAR_FORMATS, default="json",
                      help="json: every column (<image>.json, default); txt: A1111 infotext (<image name>.txt, "
                           "or <image>.txt when another image shares the name)"),
                  arg("--out", metavar="DIR", help="write the sidecars under DIR, mirroring the folders"),
                  arg("--force", action="store_true", help="replace existing sidecars"),
                  arg("--dry-run", action="store_true", help="count what would be written, write nothing"),
                  arg("--all", action="store_true", help="also images without generation data"),
                  SCOPE, SORT),
            menu=MenuItem("10", "Write sidecar files (<image>.json or A1111 <image>.txt)", db_menu.ask_sidecars)),
    Command("prune", "remove rows whose file no longer exists (asks first unless --yes)",
            actions.do_prune,
            lambda a, _: {"dry_run": a.dry_run, "under": a.under, "progress": _progress(a), "force": a.force},
            args=(arg("--dry-run", action="store_true", help="only list them"),
                  arg("--under", metavar="DIR", help="only files under DIR"),
                  arg("--force", action="store_true",
                      help="prune even where a folder holds no image files at all (an unmounted drive?)")),
            menu=MenuItem("13", "Remove rows of missing files (prune)", lambda _: {"dry_run": False, "under": None}),
            confirm=Confirmation("Remove these {rows} rows? (yes/no):", declined="Nothing removed.")),
    Command("duplicates", "identical files (same sha256) at several paths",
            actions.show_duplicates, lambda a, _: {"as_json": a.json, "limit": a.limit},
            args=(JSON, arg("--limit", type=_count, default=20, metavar="N", help="sets to list (default 20)")),
            menu=MenuItem("11", "Duplicates", lambda _: {"limit": 10})),
    Command("unused", "model files (checkpoints, LoRAs, embeddings, VAEs) under MODELS_DIR with the images that "
                      "used each, and the ones never used (matched by name and by hash; read-only on MODELS_DIR)",
            actions.show_unused, lambda a, _: {"models_dir": a.models_dir, "as_json": a.json,
                                               "progress": _progress(a)},
            args=(arg("models_dir", metavar="MODELS_DIR", help="the folder that holds the model files"), JSON)),
    Command("datasette-metadata", "write the Datasette metadata (facets, the searchable images_browse view, canned "
                                  "queries) for this database to FILE (default: standard output)",
            actions.do_datasette_metadata, lambda a, _: {"out": a.file, "force": a.force},
            args=(arg("file", nargs="?", metavar="FILE", help="where to write it (default: standard output)"),
                  arg("--force", action="store_true", help="overwrite FILE"))),
    Command("coverage", "images per generator and per parse status / reason",
            actions.show_coverage, _as_json, args=(JSON,),
            menu=MenuItem("12", "Coverage by generator")),
    Command("import-legacy", "import a database of the original ExifData Analytics (table file_metadata)",
            actions.do_import_legacy, _legacy_args,
            args=(arg("legacy", metavar="OLD.db"),
                  arg("--force", action="store_true", help="replace rows our database already has"),
                  arg("--text-only", action="store_true",
                      help="parse the stored text even when the file exists (no ExifTool)"),
                  arg("--workers", type=int, metavar="N", help="ExifTool processes (default: config.ini)"),
                  arg("--batch-size", type=int, metavar="N", help="files per batch (default: config.ini)")),
            menu=MenuItem("14", "Import a database of the original ExifData Analytics", db_menu.ask_legacy_database)),
    Command("serve", "the local browser: dashboard, search with facets and thumbnails, image pages, JSON API "
                     "(read only; http://127.0.0.1:8770/ by default)",
            actions.do_serve, lambda a, c: {"host": a.host, "port": a.port, "thumbnail_dir": c.settings.thumbnail_dir},
            args=(arg("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine "
                                                          "only; 0.0.0.0 shows your images to the network)"),
                  arg("--port", type=int, default=8770, help="port (default 8770)")),
            menu=MenuItem("16", "Browse the images in a web browser (serve)",
                          lambda c: {"host": "127.0.0.1", "port": 8770, "thumbnail_dir": c.settings.thumbnail_dir})),
)


# -- the command line ----------------------------------------------------------------------------

def build_parser(prog: str = SCRIPT) -> argparse.ArgumentParser:
    def shared(suppress: bool) -> list[argparse.ArgumentParser]:
        return [common_options(config_help=CONFIG_HELP, verbose_help=VERBOSE_HELP, suppress=suppress),
                progress_option(help_text=NO_PROGRESS_HELP, suppress=suppress)]

    p = argparse.ArgumentParser(
        prog=prog, parents=shared(False),
        description="Maintain and search the image metadata database. Without a command: a numbered menu.",
        epilog="Search language: " + SEARCH_HELP,
    )
    add_version(p)
    add_subcommands(p, COMMANDS, parents=shared(True))
    return p


_QUERY_COMMANDS = {c.name: c for c in COMMANDS if c.takes_query}


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
    leading = _QUERY_COMMANDS[argv[idx]].positionals_before_query  # export's FILE
    sp = _subparser(parser, argv[idx])
    options = sp._option_string_actions if sp is not None else {}
    head, rest = argv[:idx + 1], argv[idx + 1:]
    keep, words = [], []
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
        elif leading:
            keep.append(a)
            leading -= 1
        else:
            words.append(a)
        i += 1
    return head + keep, words


def _parse(argv: list[str], prog: str = SCRIPT) -> argparse.Namespace:
    parser = build_parser(prog)
    argv2, words = split_query_argv(parser, argv)
    args = parser.parse_args(argv2)
    if words is not None:
        args.query_text = " ".join((args.query or []) + words) if hasattr(args, "query") else " ".join(words)
    return args


def _db_path(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(strip_quotes(args.db)).expanduser() if getattr(args, "db", None) else settings.db_path


def _run(args: argparse.Namespace, settings: Settings, log_path: Optional[Path]) -> int:
    context = Context(_db_path(args, settings), settings)
    if not args.command:
        return db_menu.run_menu(COMMANDS, context, LOG_NAME)
    try:
        return run_from_args(COMMANDS, args, context)
    except sqlite3.Error as exc:  # a write refused (read-only file, disk full): one clear line
        raise DatabaseError(database.explain_sqlite_error(context.db, exc)) from None


def main(argv: Optional[Sequence[str]] = None, prog: str = SCRIPT) -> int:
    return run_main(prog, LOG_NAME, lambda raw: _parse(raw, prog), _run, argv, logger)
