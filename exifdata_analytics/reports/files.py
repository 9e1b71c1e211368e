"""Writing the reports: the output folder, each file written whole (a safe temporary beside
the target, then renamed: ``safe_files.atomic_write``), so a crash never leaves half a report
behind and a symlink planted at a report's name is never written through.

The folder also keeps a small manifest of what the last run wrote (``MANIFEST``: names with
size and mtime). A later run that does not produce one of those files removes it only when
the manifest lists it and it is unchanged since: a file of the user's own that happens to
carry a report's name is never deleted.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable

from ..analysis import Analysis
from ..errors import InputError
from ..safe_files import atomic_write
from .text import text_reports

logger = logging.getLogger(__name__)

MANIFEST = ".exifdata_outputs.json"


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
    try:
        with atomic_write(path, encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; pass another folder with --out DIR") from None
    return path


def write_text_reports(analysis: Analysis, out_dir: Path) -> list[Path]:
    prepare_output_dir(out_dir)
    return [write_file(out_dir / name, text) for name, text in text_reports(analysis).items()]


# -- what an earlier run wrote ---------------------------------------------------------------

def _stamp(path: Path) -> list[int]:
    st = os.stat(path, follow_symlinks=False)
    return [st.st_size, st.st_mtime_ns]


def _read_manifest(out_dir: Path) -> dict[str, list[int]]:
    try:
        with open(out_dir / MANIFEST, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, list)}


def replace_outputs(out_dir: Path, written: Iterable[Path], removable: Iterable[str]) -> list[str]:
    """After a run: remove the files named in ``removable`` that an earlier run wrote (its
    manifest lists them, unchanged since) and this run did not, then record what this run
    wrote. Returns the names removed. Never fails: the reports matter more than tidying."""
    out_dir = Path(out_dir)
    written_names = {Path(p).name for p in written}
    earlier = _read_manifest(out_dir)
    removed = []
    for name in removable:
        if name in written_names or name not in earlier or os.sep in name or name.startswith("."):
            continue
        path = out_dir / name
        try:
            if _stamp(path) == earlier[name]:
                path.unlink()
                removed.append(name)
            else:
                logger.info("keeping %s: changed since an earlier run wrote it", path)
        except FileNotFoundError:
            pass
        except OSError:
            logger.warning("could not remove the previous run's %s", path)
    files = {}
    for name in sorted(written_names):
        try:
            files[name] = _stamp(out_dir / name)
        except OSError:
            pass
    try:
        with atomic_write(out_dir / MANIFEST, encoding="utf-8", newline="\n") as fh:
            json.dump({"written_by": "ExifData Analytics", "files": files}, fh, indent=1, sort_keys=True)
            fh.write("\n")
    except OSError as exc:
        logger.warning("could not record the reports written in %s: %s", out_dir, exc)
    return removed
