"""Logging set-up for the CLI: a UTF-8 log file in LOG_files/ and a quiet, tqdm-safe console."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

from .safe_files import open_for_append

logger = logging.getLogger(__name__)

_FILE_FORMAT = "%(asctime)s - %(levelname)s - %(name)s - %(message)s"


class TqdmConsoleHandler(logging.Handler):
    """Writes through tqdm.write so that messages do not tear an active progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class _LogFile(logging.FileHandler):
    """A log file that cannot be written (disk full, file gone) is reported once, on one
    line, and then left alone: the run matters more than its log. It is opened for appending
    without following a symlink at its name, and only if it is a regular file, so a link
    planted in the log folder cannot make us append to another file, nor a FIFO block us."""

    failed = False

    def _open(self):
        return open_for_append(self.baseFilename, self.encoding, self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if not self.failed:
            self.failed = True
            sys.stderr.write(f"warning: cannot write the log file {self.baseFilename} ({sys.exc_info()[1]}); "
                             "continuing without it\n")


def setup_logging(logging_dir: Optional[Path], log_name: str, verbose: bool = False) -> Optional[Path]:
    """Configure the root logger once per process; returns the log file path (None when the
    folder cannot be created, which is reported on the console and is not fatal)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_exifdata", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG)

    console = TqdmConsoleHandler()
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    # records logged with extra={"console": False} go to the file only (the CLI already told the user)
    console.addFilter(lambda record: getattr(record, "console", True))
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    console._exifdata = True  # type: ignore[attr-defined]
    root.addHandler(console)

    log_path = None
    if logging_dir is not None:
        try:
            Path(logging_dir).mkdir(parents=True, exist_ok=True)
            log_path = Path(logging_dir) / log_name
            # backslashreplace: a file name that is not valid UTF-8 must not break the log
            file_handler = _LogFile(log_path, encoding="utf-8", errors="backslashreplace")
        except OSError as exc:
            logger.warning("cannot write logs to %s (%s); logging to the console only", logging_dir, exc)
            log_path = None
        else:
            file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
            file_handler.setFormatter(logging.Formatter(_FILE_FORMAT))
            file_handler._exifdata = True  # type: ignore[attr-defined]
            root.addHandler(file_handler)
    # third-party chatter stays out of the user's log unless asked for
    for noisy in ("exiftool", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_path


def current_log_path() -> Optional[Path]:
    """The log file set up by setup_logging in this process, if any."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_exifdata", False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None
