"""parameter_statistic_DB.py without a command: a numbered menu that loops until quit, and the
questions menu items ask before their action runs (each returns the action's keyword
arguments, or None to go back to the menu)."""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Optional, Sequence

from .. import db as database
from .. import export as exporting
from .. import maintenance
from ..errors import ExifDataError
from ..logs import current_log_path
from .commands import Command, Confirmation, Context, MenuItem, menu_items, run_command
from .common import EXIT_INTERRUPTED, EXIT_OK, EndOfInput, UsageError, ask, parse_count, strip_quotes
from .db_format import count_text, format_sidecars

logger = logging.getLogger(__name__)

QUIT = ("0", "Quit")


def _menu_text(db: Path, items: Sequence[MenuItem]) -> str:
    try:
        count = f"{count_text(maintenance.database_stats(db).images)} images" if db.exists() else \
            "not found yet: run DB_filler.py, or import a legacy database"
    except ExifDataError as exc:
        count = f"cannot be read: {exc}"
    lines = ["", "ExifData Analytics - database tools", f"Database: {db} ({count})"]
    lines += [f"  {key:>2}  {label}" for key, label in [(i.key, i.label) for i in items] + [QUIT]]
    return "\n".join(lines)


def run_menu(commands: Sequence[Command], context: Context, log_name: str) -> int:
    """The menu of the commands that have a menu item, until the user quits or input ends."""
    on_menu = {item.key: (command, item) for command, item in menu_items(commands)}
    items = [item for _, item in on_menu.values()]
    last = max(int(key) for key in on_menu)
    db = context.db
    print(_menu_text(db, items))
    while True:
        try:
            choice = ask(f"Choose 0-{last} (Enter shows the menu):").lower()
        except EndOfInput:
            print("\nEnd of input: bye.")
            return EXIT_OK
        except KeyboardInterrupt:
            print("\nInterrupted: bye.")
            return EXIT_INTERRUPTED
        if choice in (QUIT[0], "q", "quit", "exit"):
            print("Bye.")
            return EXIT_OK
        if choice == "":
            print(_menu_text(db, items))
            continue
        if choice not in on_menu:
            print(f"'{choice}' is not on the menu: enter a number from 0 to {last}.")
            continue
        command, item = on_menu[choice]
        try:
            kwargs = item.gather(context)
            if kwargs is not None:
                run_command(command, context, kwargs)
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
            print(f"error: unexpected {type(exc).__name__}: {exc} (details in {current_log_path() or log_name})")


# -- the questions of the menu items ---------------------------------------------------------

def _ask_default(question: str, default: str) -> str:
    answer = strip_quotes(ask(f"{question} [{default}]:"))
    return answer or default


def ask_search(context: Context) -> Optional[dict]:
    query = ask('Search (e.g. cat -dog "red hair" steps>=30 model:sdxl; Enter to go back):')
    return {"query": query, "limit": 20, "as_json": False} if query else None


def ask_sample_size(context: Context) -> Optional[dict]:
    raw = _ask_default("How many images?", "5")
    try:
        return {"n": parse_count(raw)}
    except ValueError:
        print("Please enter a whole number.")
        return None


def ask_backup_folder(context: Context) -> Optional[dict]:
    target = _ask_default("Folder for the backup", str(context.db.parent / "backups"))
    return {"backup_dir": Path(target).expanduser()}


OVERWRITE = Confirmation("{file} exists. Overwrite it? (yes/no):", declined="Nothing written.")


def ask_export(context: Context) -> Optional[dict]:
    out = strip_quotes(ask("Export to which file (.csv, .json, .jsonl or .parquet)?"))
    if not out:
        return None
    exporting.format_for(out)  # a file name of no known format fails before the next question
    query = ask("Search selecting the images (Enter: all images):")
    force = Path(out).expanduser().exists()
    if force and not OVERWRITE.granted(False, file=out):
        return None
    return {"out": out, "query": query, "force": force, "scope": "prompt", "sort": "path", "raw": False}


WRITE_SIDECARS = Confirmation("Write these {count} sidecar files? (yes/no):")


def ask_sidecars(context: Context) -> Optional[dict]:
    """The selection and the folder, then what a dry run would write, then whether to write it."""
    query = ask("Search selecting the images (Enter: all with generation data):")
    out_dir = strip_quotes(ask("Folder for the sidecars (Enter: beside each image):")) or None
    fmt = ask("Format: json (<image>.json, every column) or txt (A1111 text, <image>.txt)? (Enter: json):").lower()
    if fmt not in ("", *exporting.SIDECAR_FORMATS):
        print(f"'{fmt}' is not a sidecar format; nothing written.")
        return None
    fmt = fmt or "json"
    con = maintenance.open_database(context.db)
    try:
        dry = exporting.export_sidecars(con, query, out_dir=out_dir, dry_run=True, fmt=fmt)
    finally:
        con.close()
    print(format_sidecars(dry))
    if not (dry.written and WRITE_SIDECARS.granted(False, count=count_text(dry.written))):
        return None
    return {"query": query, "out_dir": out_dir, "force": False, "dry_run": False, "include_all": False,
            "scope": "prompt", "fmt": fmt}


def ask_legacy_database(context: Context) -> Optional[dict]:
    legacy = strip_quotes(ask("Path of the original's database file:"))
    if not legacy:
        return None
    return {"legacy": legacy, "settings": context.settings, "force": False, "text_only": False, "workers": None,
            "batch_size": None}
