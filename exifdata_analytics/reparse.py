"""``DB_filler.py --reparse``: run the parsers again over the stored ExifTool JSON (no ExifTool),
so that a parser improvement reaches rows indexed before it."""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from . import db
from .errors import DatabaseError
from .records import StatusTally, merged_tags, parsed_columns
from .scan import normalize_path

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (rows done so far, rows to do)


@dataclass(frozen=True)
class ReparseSummary:
    rows: int = 0
    changed_status: int = 0
    ok: int = 0
    no_generation_data: int = 0
    unparsed: int = 0
    errors: int = 0
    skipped_without_raw: int = 0
    elapsed: float = 0.0


def reparse(db_path: Path, root: Optional[str] = None, progress: Optional[Progress] = None,
            chunk: int = 1000) -> ReparseSummary:
    """Re-run the parsers over the stored ``raw_json`` (no ExifTool), one transaction per chunk."""
    started = time.monotonic()
    con = db.connect(db_path)
    rows_done = changed_status = skipped = 0
    outcomes = StatusTally()
    try:
        root = normalize_path(root) if root else None
        total = con.execute("SELECT COUNT(*) FROM images").fetchone()[0] if root is None else None
        for rows in db.iter_raw(con, root, chunk):
            updates = []
            for row in rows:
                if not row["raw_json"]:
                    skipped += 1
                    continue
                try:
                    tags = merged_tags(json.loads(row["raw_json"]),
                                       json.loads(row["extra_json"]) if row["extra_json"] else None)
                except json.JSONDecodeError:
                    skipped += 1
                    continue
                cols, resources = parsed_columns(tags, row["mtime_ns"], path=row["path"])
                updates.append((row["id"], cols, resources))
                outcomes.add(cols["parse_status"], cols["generator"])
            ids = [u[0] for u in updates]
            if ids:
                old_status = dict(con.execute(
                    f"SELECT id, parse_status FROM images WHERE id IN ({','.join('?' for _ in ids)})", ids).fetchall())
                changed_status += sum(1 for i, c, _ in updates if old_status.get(i) != c["parse_status"])
            db.update_parsed(con, updates)
            rows_done += len(rows)
            if progress:
                progress(rows_done, total or rows_done)
        db.refresh_canonical_names(con)
    except sqlite3.Error as exc:
        raise DatabaseError(db.explain_sqlite_error(Path(db_path), exc)) from None
    finally:
        con.close()
    return ReparseSummary(rows=rows_done, changed_status=changed_status, ok=outcomes.ok,
                          no_generation_data=outcomes.no_metadata, unparsed=outcomes.unparsed,
                          errors=outcomes.errors, skipped_without_raw=skipped, elapsed=time.monotonic() - started)
