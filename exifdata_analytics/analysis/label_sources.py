"""Where an image's label comes from (``--label-by``): the folder it sits in, the star rating
its XMP or EXIF carries, or a CSV of ``path,label`` lines. Each source gives the labels of the
selected images and counts the images it could not label, by reason.

* ``folder``: the name of the image's folder (``…/keep/1.png`` is ``keep``; two folders of the
  same name anywhere are one label). With ``--folder`` roots, the first folder under the root
  that holds the image (``ROOT/keep/2024/1.png`` is ``keep``); images directly in a root are
  left out.
* ``rating[:N]``: the ``Rating`` ExifTool reads, ``XMP-xmp:Rating`` (what Lightroom, Bridge,
  digiKam and darktable write) before ``IFD0:Rating`` (what Windows writes): N stars and above
  is ``keeper``, fewer stars and ``-1`` (rejected) ``other``. ``0`` means "not rated" in XMP
  and is left out with the images that have no rating. The default N is 4: on a five-star
  scale 3 is the middle, "fine", so 4 and 5 are the images picked out as good.
* ``file:LABELS.csv``: a header with ``path`` and ``label`` columns; paths absolute or relative
  to the CSV's folder. Lines whose path is not in the database or not among the selected
  images are counted (with examples); images the CSV does not name are left out.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from ..errors import InputError
from ..scan import normalize_path

logger = logging.getLogger(__name__)

SOURCES = ("folder", "rating", "file")
DEFAULT_KEEPER_RATING = 4
KEEPER = "keeper"
OTHER = "other"
# the Rating tags read, most trusted first (ExifTool's family-1 groups; MicrosoftPhoto's
# Rating is a percentage and is not read)
RATING_GROUPS = ("XMP-xmp", "XMP", "IFD0")
RATING_RANGE = (-1, 5)  # -1 rejected, 0 not rated, 1..5 stars
EXAMPLES = 3  # unknown CSV paths quoted in the report


@dataclass(frozen=True)
class LabelSpec:
    """A parsed ``--label-by``: the source, the keeper rating (``rating``), the CSV (``file``)."""

    source: str
    threshold: int = DEFAULT_KEEPER_RATING
    path: str = ""

    def describe(self) -> str:
        if self.source == "rating":
            return f"rating:{self.threshold}"
        if self.source == "file":
            return f"file:{self.path}"
        return self.source


def parse_label_spec(text: str) -> LabelSpec:
    """``folder``, ``rating``, ``rating:N`` (N 1..5) or ``file:PATH.csv``; InputError otherwise."""
    source, sep, rest = text.strip().partition(":")
    source = source.strip().lower()
    if source == "folder" and not sep:
        return LabelSpec("folder")
    if source == "rating":
        if not sep:
            return LabelSpec("rating")
        try:
            threshold = int(rest.strip())
        except ValueError:
            threshold = 0
        if not 1 <= threshold <= RATING_RANGE[1]:
            raise InputError(f"--label-by {text!r}: the keeper rating is a whole number of stars from 1 to "
                             f"{RATING_RANGE[1]} (e.g. rating:4)")
        return LabelSpec("rating", threshold)
    if source == "file" and rest.strip():
        return LabelSpec("file", path=str(Path(rest.strip()).expanduser().absolute()))
    raise InputError(f"cannot read --label-by {text!r}: use folder, rating, rating:N (N stars and above is a "
                     "keeper) or file:LABELS.csv (a CSV with path,label columns)")


@dataclass(frozen=True)
class ImageLabels:
    """The labels of the selected images that have one, and why the others have none."""

    labels: pd.Series  # image id -> label
    left_out: tuple[tuple[str, int], ...] = ()  # (reason, images of the selection without a label)
    notes: tuple[str, ...] = ()  # what else the source found (unknown CSV paths, …)
    ratings: tuple[tuple[str, int], ...] = ()  # rating: images per rating read


def read_labels(con: sqlite3.Connection, ids: pd.Series, spec: LabelSpec, roots: Sequence[str] = ()) -> ImageLabels:
    """The labels of the images ``ids`` (the selection) from the source ``spec`` names;
    ``roots`` are the ``--folder`` filters (the folder source names the folder under them)."""
    if spec.source == "folder":
        return _folder_labels(con, ids, roots)
    if spec.source == "rating":
        return _rating_labels(con, ids, spec.threshold)
    if spec.source == "file":
        return _file_labels(con, ids, Path(spec.path))
    raise ValueError(spec.source)


def _column_of(con: sqlite3.Connection, column: str, ids: pd.Series) -> pd.Series:
    """image id -> ``column`` for the images ``ids``."""
    frame = pd.DataFrame(con.execute(f"SELECT id, {column} FROM images").fetchall(), columns=["id", column])
    return frame.set_index("id")[column].reindex(pd.Index(ids.to_numpy(), dtype="int64"))


def _series(labels: dict[int, str]) -> pd.Series:
    return pd.Series(list(labels.values()), index=pd.Index(list(labels), dtype="int64"), dtype=object)


def _reasons(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((reason, n) for reason, n in counts.items() if n)


def folder_label(folder: str, roots: Sequence[str]) -> Optional[str]:
    """The label of an image in ``folder``: the first folder under the deepest root holding it,
    or with no roots the folder's own name; None when it sits directly in a root."""
    if not roots:
        return os.path.basename(folder.rstrip(os.sep)) or folder
    for root in sorted((r.rstrip(os.sep) or os.sep for r in roots), key=len, reverse=True):
        prefix = root if root.endswith(os.sep) else root + os.sep
        if folder.startswith(prefix):
            return folder[len(prefix):].split(os.sep, 1)[0] or None
        if folder == root:
            return None
    return None


def _folder_labels(con: sqlite3.Connection, ids: pd.Series, roots: Sequence[str]) -> ImageLabels:
    folders = _column_of(con, "folder", ids)
    names: dict[str, Optional[str]] = {}
    labels: dict[int, str] = {}
    in_root = 0
    for image_id, folder in folders.items():
        if folder not in names:
            names[folder] = folder_label(folder, roots) if isinstance(folder, str) else None
        if names[folder] is None:
            in_root += 1
        else:
            labels[int(image_id)] = names[folder]
    return ImageLabels(_series(labels), _reasons({"directly in a --folder root (no folder under it names them)": in_root}))


def rating_of(tags: dict) -> Optional[float]:
    """The Rating of one ExifTool tag dict (``-G1:4`` keys such as ``XMP-xmp:Rating`` or
    ``IFD0:Copy1:Rating``), the most trusted group first; None without one; NaN when the
    value is not a rating."""
    found: dict[str, object] = {}
    for key, value in tags.items():
        if isinstance(key, str) and key.endswith(":Rating"):
            group = key.split(":", 1)[0]
            if group in RATING_GROUPS and (group not in found or key.count(":") == 1):
                found[group] = value
    for group in RATING_GROUPS:
        if group in found:
            try:
                value = float(str(found[group]).strip())
            except ValueError:
                return float("nan")
            return value if RATING_RANGE[0] <= value <= RATING_RANGE[1] else float("nan")
    return None


def _rating_labels(con: sqlite3.Connection, ids: pd.Series, threshold: int) -> ImageLabels:
    wanted = set(ids.tolist())
    ratings: dict[int, float] = {}
    unreadable = 0
    # only rows whose JSON mentions a rating are parsed (ExifTool's JSON of a large library
    # is hundreds of MB)
    for image_id, raw in con.execute("SELECT id, raw_json FROM images WHERE instr(raw_json, 'Rating') > 0"):
        if image_id not in wanted:
            continue
        try:
            tags = json.loads(raw)
        except ValueError:
            continue
        value = rating_of(tags) if isinstance(tags, dict) else None
        if value is None or value == 0:
            continue
        if value != value:  # NaN
            unreadable += 1
        else:
            ratings[image_id] = value
    labels = {i: KEEPER if r >= threshold else OTHER for i, r in sorted(ratings.items())}
    per_value = pd.Series(list(ratings.values()), dtype=float).value_counts().sort_index(ascending=False)
    shown = tuple(("rejected (-1)" if v == -1 else f"{v:g} star" + ("" if v == 1 else "s"), int(n))
                  for v, n in per_value.items())
    no_rating = len(wanted) - len(ratings) - unreadable
    return ImageLabels(_series(labels), _reasons({"without a rating (or rated 0, 'not rated')": no_rating,
                                                  "with a Rating that is not -1..5": unreadable}), ratings=shown)


def _read_csv(path: Path) -> list[tuple[int, str, str]]:
    """(line number, path as written, label) of every line of a labels CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            if "path" not in header or "label" not in header:
                raise InputError(f"labels file {path} needs a header line with 'path' and 'label' columns "
                                 f"(found {','.join(header) or 'an empty file'}); e.g. path,label then "
                                 "/images/1.png,keep")
            at_path, at_label = header.index("path"), header.index("label")
            return [(reader.line_num, row[at_path].strip() if at_path < len(row) else "",
                     row[at_label].strip() if at_label < len(row) else "") for row in reader if any(row)]
    except FileNotFoundError:
        raise InputError(f"labels file not found: {path}; give a CSV with path,label lines "
                         "(--label-by file:LABELS.csv)") from None
    except UnicodeDecodeError:
        raise InputError(f"labels file {path} is not UTF-8 text; save it as UTF-8") from None
    except csv.Error as exc:
        raise InputError(f"labels file {path} is not a readable CSV: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read labels file {path}: {exc.strerror or exc}") from None


def _file_labels(con: sqlite3.Connection, ids: pd.Series, path: Path) -> ImageLabels:
    lines = _read_csv(path)
    known = dict(con.execute("SELECT path, id FROM images").fetchall())
    selected = set(ids.tolist())
    labels: dict[int, str] = {}
    where: dict[int, int] = {}  # image id -> the CSV line that labelled it
    unknown: list[str] = []
    not_selected = without_label = 0
    for line, written, label in lines:
        if not written or not label:
            without_label += 1
            continue
        full = written if os.path.isabs(os.path.expanduser(written)) else os.path.join(path.parent, written)
        image_id = known.get(normalize_path(full))
        if image_id is None:
            unknown.append(written)
        elif image_id not in selected:
            not_selected += 1
        elif labels.get(image_id, label) != label:
            raise InputError(f"labels file {path} gives {written} two labels: {labels[image_id]!r} (line "
                             f"{where[image_id]}) and {label!r} (line {line}); keep one")
        else:
            labels[image_id], where[image_id] = label, line
    notes = []
    if unknown:
        examples = ", ".join(unknown[:EXAMPLES]) + (", …" if len(unknown) > EXAMPLES else "")
        notes.append(f"{len(unknown):,} lines of {path.name} name files that are not in the database ({examples}); "
                     "index them with DB_filler.py, or fix the paths (relative paths are read from the CSV's folder)")
    if not_selected:
        notes.append(f"{not_selected:,} lines of {path.name} name images that are not among the selected ones "
                     "(left out by the filters, or a duplicate copy counted once)")
    if without_label:
        notes.append(f"{without_label:,} lines of {path.name} have an empty path or label and were skipped")
    ordered = {i: labels[i] for i in sorted(labels)}
    return ImageLabels(_series(ordered), _reasons({f"not named in {path.name}": len(selected) - len(labels)}),
                       tuple(notes))
