"""Writing the reports: the output folder, and each file written whole (next to the target,
then renamed), so a crash never leaves half a report behind."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..analysis import Analysis
from ..errors import InputError
from .text import text_reports

logger = logging.getLogger(__name__)


def prepare_output_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}; "
                         "pass another folder with --out DIR") from None
    if not os.access(out_dir, os.W_OK):
        raise InputError(f"cannot write to the output folder {out_dir}; pass another folder with --out DIR")
    return out_dir


def write_file(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; pass another folder with --out DIR") from None
    return path


def write_text_reports(analysis: Analysis, out_dir: Path) -> list[Path]:
    prepare_output_dir(out_dir)
    return [write_file(out_dir / name, text) for name, text in text_reports(analysis).items()]
