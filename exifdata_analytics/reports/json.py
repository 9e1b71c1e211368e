"""``report.json`` (``parameter_statistic.py --json``): every section of a run as data.

The sections are the fields of ``analysis.Analysis``, serialised generically (``to_data``), so
a section added to ``Analysis`` appears here by itself, under its field name. The contract
(documented in the README and docs/adding-a-report.md):

* ``schema_version`` (``SCHEMA_VERSION``; raised when a key changes meaning or goes away, not
  when one is added), ``generated`` (local time, ISO 8601), ``database`` (its path),
  ``filters`` (the filters as given, and ``description``), ``images`` (images analysed),
  ``selection`` (rows, matching rows, copies counted once), ``options``;
* one key per section: ``parameters``, ``distributions``, ``model_cards``, ``co_use``,
  ``label_analysis``, …, each the data of its dataclass.

How values are written: a dataclass is an object of its fields and of its read-only properties
(``Counts.total``, ``Pair.always``, …); tuples, lists and sets are arrays (sets sorted); a
mapping is an object with text keys; NaN and infinities are ``null``; numpy numbers are numbers;
integers beyond 2**53 (ComfyUI seeds) are strings, since JavaScript and many JSON readers
keep only 53 bits; dates and paths are text. UTF-8, written whole like every report.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
from datetime import date, datetime
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, Mapping, Optional

import numpy as np

from ..analysis import Analysis
from .files import prepare_output_dir, write_file

logger = logging.getLogger(__name__)

JSON_REPORT = "report.json"
SCHEMA_VERSION = 1
MAX_SAFE_INTEGER = 2 ** 53  # larger integers lose digits in a JSON reader that uses doubles
# fields of Analysis written in the head of the report, not as sections
_HEAD_FIELDS = frozenset({"db_path", "options", "total_rows", "matching_rows", "images", "duplicates_dropped",
                          "with_prompt"})


def _properties(cls: type) -> list[str]:
    """The public read-only properties of a class (its own and inherited), in definition order."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            if isinstance(member, property) and not name.startswith("_") and name not in names:
                names.append(name)
    return names


def to_data(value: Any) -> Any:
    """``value`` as plain JSON data (see the module for the rules)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        number = int(value)
        return str(number) if abs(number) > MAX_SAFE_INTEGER else number
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in _properties(type(value)):
            data.setdefault(name, to_data(getattr(value, name)))
        return data
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_data(v) for v in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_data(v) for v in value.tolist()]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return to_data(value.value)
    logger.warning("report.json: a %s is written as its text", type(value).__name__)
    return str(value)


def report_data(analysis: Analysis, generated: Optional[datetime] = None) -> dict[str, Any]:
    """The head of the report, then every section of ``analysis`` under its field name."""
    options = analysis.options
    filters = options.filters
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated": (generated or datetime.now()).isoformat(timespec="seconds"),
        "database": analysis.db_path,
        "filters": {**{f.name: to_data(getattr(filters, f.name)) for f in dataclasses.fields(filters)},
                    "description": filters.describe()},
        "images": analysis.images,
        "selection": {"rows": analysis.total_rows, "matching_rows": analysis.matching_rows,
                      "duplicates_dropped": analysis.duplicates_dropped, "dedupe": options.dedupe,
                      "with_prompt": analysis.with_prompt},
        "options": {f.name: to_data(getattr(options, f.name)) for f in dataclasses.fields(options)
                    if f.name not in ("filters", "dedupe")},
    }
    for f in dataclasses.fields(analysis):
        if f.name not in _HEAD_FIELDS:
            data[f.name] = to_data(getattr(analysis, f.name))
    return data


def format_json(analysis: Analysis, generated: Optional[datetime] = None) -> str:
    # allow_nan=False: a NaN that slipped past to_data fails here instead of writing invalid JSON
    return json.dumps(report_data(analysis, generated), ensure_ascii=False, allow_nan=False, indent=1) + "\n"


def write_json_report(analysis: Analysis, out_dir: Path) -> Path:
    prepare_output_dir(out_dir)
    return write_file(out_dir / JSON_REPORT, format_json(analysis))
