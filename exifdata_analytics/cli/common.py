"""What the three scripts share: their common options and main, prompts that read piped
answers, the error boundary, signals, progress bars."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Optional, Sequence

from .. import __version__
from ..config import DEFAULT_CONFIG_PATH, Settings, load_settings
from ..errors import ExifDataError
from ..logs import current_log_path, setup_logging

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# logging extra for messages the CLI prints itself: into the log file, not twice on the console
FILE_ONLY = {"console": False}


class UsageError(Exception):
    """The invocation itself is wrong (exit 2)."""


class EndOfInput(UsageError):
    """A prompt met the end of standard input."""


MAX_COUNT = 2**63 - 1  # SQLite's largest integer: a LIMIT past it means every row anyway


def parse_count(text: str) -> int:
    """A number of rows or sets to show (--limit N, a sample size): a whole number from 0;
    one larger than SQLite can take means all. ValueError says what is wrong."""
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r} is not a whole number")
    digits = digits.lstrip("0") or "0"
    if text.startswith("-") and digits != "0":
        raise ValueError(f"{text} is negative; give 0 or more")
    return MAX_COUNT if len(digits) > 19 else min(int(digits), MAX_COUNT)  # int() refuses 4,300+ digits


def ask(question: str) -> str:
    """Ask on stdout, read one line from stdin (works with piped answers)."""
    try:
        answer = input(question + " ")
    except EOFError:
        raise EndOfInput(f"no answer to {question!r}: standard input ended. "
                         "Pass the values as arguments instead (see --help).") from None
    return answer.strip()


def ask_yes_no(question: str, default: bool = False, attempts: int = 3) -> bool:
    for _ in range(attempts):
        answer = ask(question).lower()
        if answer in ("y", "yes", "j", "ja"):
            return True
        if answer in ("n", "no", "nein"):
            return False
        if answer == "":
            return default
        print("Please answer yes or no.")
    raise UsageError(f"no valid answer to {question!r}")


def ask_until(question: str, accept: Callable[[str], object], problem: str, attempts: int = 3):
    """Ask up to ``attempts`` times; ``accept`` returns the value or raises ValueError, whose text
    (else ``problem``) is shown before the question is asked again."""
    for _ in range(attempts):
        answer = ask(question)
        try:
            return accept(answer)
        except ValueError as exc:
            print(str(exc) or problem)
    raise UsageError(f"no valid answer to {question!r}: {problem}")


def strip_quotes(text: str) -> str:
    """Paths pasted from a file manager often come quoted."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def install_sigterm_as_interrupt() -> None:
    """Make `kill` behave like Ctrl-C, so the run stops between transactions and cleans up."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_interrupt)


def run_cli(body: Callable[[], int], log_hint: Optional[str] = None) -> int:
    """The error boundary: known problems become one line on stderr and an exit code."""
    # a file name that is not valid UTF-8 (or not in the console's code page) prints escaped
    # instead of ending the run with UnicodeEncodeError
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        return body()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExifDataError as exc:
        logger.error("%s", exc, extra=FILE_ONLY)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (`| head`): nothing to report; keep the
        # interpreter's final flush from failing too
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FATAL
    except Exception as exc:  # noqa: BLE001 - last resort: name it, point at the log
        logger.exception("unexpected error", extra=FILE_ONLY)
        log_path = current_log_path() or log_hint  # the real file when config.ini moved it
        hint = f" (details in {log_path})" if log_path else ""
        print(f"error: unexpected {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return EXIT_FATAL


class ProgressBar:
    """A tqdm bar fed by the library's progress callback ``(done, total)``; the total is known
    only at the first call. No bar when disabled or when stderr is not a terminal."""

    def __init__(self, enabled: bool, desc: str, unit: str = "file"):
        self.enabled, self.desc, self.unit = enabled, desc, unit
        self.bar = None
        self.last = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if total == 0:  # nothing to do: no empty bar
                return
            from tqdm import tqdm

            # disable=None: no bar when stderr is not a terminal (logs, CI)
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, disable=None, dynamic_ncols=True)
        self.bar.update(done - self.last)
        self.last = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# -- the options and the main of every script ----------------------------------------------------

DB_HELP = "database file (default: [Database] db_name of config.ini)"
CONFIG_HELP = f"config file (default: {DEFAULT_CONFIG_PATH})"
VERBOSE_HELP = "more detail on the console and in the log"
NO_PROGRESS_HELP = "no progress bar"


def _default(value: object, suppress: bool) -> object:
    # a subcommand's copy of an option takes no default, so that the value given before the
    # subcommand survives it
    return argparse.SUPPRESS if suppress else value


def add_version(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--version on a command's top-level parser: the program's name and the package's version."""
    parser.add_argument("--version", action="version", version=f"%(prog)s (ExifData Analytics) {__version__}")
    return parser


def common_options(*, config_help: str = CONFIG_HELP, verbose_help: str = VERBOSE_HELP,
                   suppress: bool = False) -> argparse.ArgumentParser:
    """The parent parser (argparse ``parents=``) of --db, --config and -v/--verbose."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="PATH", default=_default(None, suppress), help=DB_HELP)
    parent.add_argument("--config", metavar="PATH", default=_default(None, suppress), help=config_help)
    parent.add_argument("-v", "--verbose", action="store_true", default=_default(False, suppress), help=verbose_help)
    return parent


def progress_option(*, help_text: str = NO_PROGRESS_HELP, suppress: bool = False) -> argparse.ArgumentParser:
    """The parent parser of --no-progress, for the scripts that draw progress bars."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--no-progress", action="store_true", default=_default(False, suppress), help=help_text)
    return parent


def run_main(script: str, log_name: str, parse: Callable[[list[str]], argparse.Namespace],
             run: Callable[[argparse.Namespace, Settings, Optional[Path]], int],
             argv: Optional[Sequence[str]], log: logging.Logger) -> int:
    """A script's main: parse the arguments (argparse exits 2 on bad ones), make SIGTERM an
    interrupt, then inside the error boundary load config.ini, set up the log (``log``, the
    script's logger, records the command line) and ``run(args, settings, log_path)``."""
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse(raw)
    install_sigterm_as_interrupt()

    def body() -> int:
        settings = load_settings(Path(args.config) if args.config else None)
        log_path = setup_logging(settings.logging_dir, log_name, args.verbose)
        log.info("%s %s", script, " ".join(raw))
        return run(args, settings, log_path)

    return run_cli(body, log_hint="LOG_files/" + log_name)
