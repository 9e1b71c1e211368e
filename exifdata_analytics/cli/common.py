"""What the three scripts share: prompts that read piped answers, the error boundary, signals."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Callable, Optional

from ..errors import ExifDataError
from ..logs import current_log_path

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
            from tqdm import tqdm

            # disable=None: no bar when stderr is not a terminal (logs, CI)
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, disable=None, dynamic_ncols=True)
        self.bar.update(done - self.last)
        self.last = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
