"""The Parquet export (pyarrow, an optional extra: ``pip install 'exifdata-analytics[parquet]'``).

One column per images column, typed from what the selected rows hold (SQLite's typeof, one scan):
whole numbers int64, reals float64, text string; a column that mixes text with numbers is text.
``seed`` is decimal(38, 0): ComfyUI seeds reach 2**64 - 1, past int64, and a decimal keeps
every one exact while staying a number for DuckDB, Spark or pandas (``decimal.Decimal``).
``params`` is the parsed key/values as JSON text; ``resources`` a list of structs (kind, name,
hash, weight, source). Rows are written in row groups of ``ROW_GROUP`` images.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from decimal import Decimal
from typing import Any, BinaryIO, Callable, Iterator

from .errors import InputError

logger = logging.getLogger(__name__)

ROW_GROUP = 10_000
SEED_PRECISION = 38
INSTALL_HINT = ("Parquet export needs pyarrow, which is not installed: pip install pyarrow "
                "(or pip install 'exifdata-analytics[parquet]'); CSV, JSON and JSONL need nothing more")


def require_pyarrow():
    """pyarrow and pyarrow.parquet, or InputError naming how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return pyarrow, pyarrow.parquet


def _column_types(con: sqlite3.Connection, columns: tuple[str, ...], where: str, params) -> dict[str, set[str]]:
    """column -> the SQLite storage classes its selected values have (NULL left out)."""
    select = ", ".join(f"group_concat(DISTINCT typeof({c}))" for c in columns)
    row = con.execute(f"SELECT {select} FROM images WHERE {where}", params).fetchone()
    return {c: set((found or "").split(",")) - {"null", ""} for c, found in zip(columns, row)}


def _arrow_type(pa, name: str, kinds: set[str]):
    if name == "seed":
        return pa.decimal128(SEED_PRECISION, 0)
    if not kinds:
        return pa.string()  # no value in the selection: text is the least surprising empty column
    if kinds == {"integer"}:
        return pa.int64()
    if kinds <= {"integer", "real"}:
        return pa.float64()
    if kinds == {"blob"}:
        return pa.binary()
    return pa.string()


def _converter(arrow_type, pa) -> Callable[[Any], Any]:
    if arrow_type == pa.string():
        return lambda v: v if v is None or isinstance(v, str) else str(v)
    if arrow_type == pa.float64():
        return lambda v: None if v is None else float(v)
    if pa.types.is_decimal(arrow_type):
        return lambda v: None if v is None else Decimal(int(v))
    return lambda v: v


def write_parquet(con: sqlite3.Connection, fh: BinaryIO, where: tuple[str, Any], base_columns: tuple[str, ...],
                  include_raw: bool, records: Iterator[dict[str, Any]], tick: Callable[[int], int]) -> int:
    """Write ``records`` (the export's dicts of the images ``where`` selects: columns
    ``base_columns``, ``params``, ``resources``) to ``fh`` as one Parquet file; the rows written."""
    pa, pq = require_pyarrow()
    columns = base_columns + (("raw_json",) if include_raw else ())
    kinds = _column_types(con, columns, *where)
    resource = pa.struct([("kind", pa.string()), ("name", pa.string()), ("hash", pa.string()),
                          ("weight", pa.float64()), ("source", pa.string())])
    fields = [pa.field(c, _arrow_type(pa, c, kinds[c])) for c in base_columns]
    fields += [pa.field("params", pa.string()), pa.field("resources", pa.list_(resource))]
    if include_raw:
        fields.append(pa.field("raw_json", _arrow_type(pa, "raw_json", kinds["raw_json"])))
    schema = pa.schema(fields)
    convert = {f.name: _converter(f.type, pa) for f in fields if f.name in columns}
    written = 0
    writer = pq.ParquetWriter(fh, schema, compression="zstd")
    try:
        batch: list[dict[str, Any]] = []
        for record in records:
            row = {name: fn(record.get(name)) for name, fn in convert.items()}
            row["params"] = json.dumps(record["params"], ensure_ascii=False) if record["params"] is not None else None
            row["resources"] = [{**r, "hash": None if r["hash"] is None else str(r["hash"]),
                                 "weight": None if r["weight"] is None else float(r["weight"])}
                                for r in record["resources"]]
            batch.append(row)
            written = tick(written)
            if len(batch) >= ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch or not written:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    finally:
        writer.close()
    return written
