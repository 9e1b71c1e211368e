"""Moved files: a new path whose content (sha256 and size) is that of a row whose file is gone
is the same image moved, so its row is re-linked (keeping its id, parsed data and resources)
instead of being read again with ExifTool."""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from . import db
from .scan import FileEntry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    """A new path whose content is that of a row whose file is gone: the file was moved."""

    entry: FileEntry
    image_id: int
    old_path: str


class MoveFinder:
    """Finds, for new files, rows with the same content (sha256 and size) whose file no
    longer exists, so a moved file is re-linked instead of read again. Thread-safe: one
    read-only connection per worker thread.

    Rows inside the scan (``root``, ``recursive``) are candidates only when the scan did not
    find their file (``gone``); every other such row exists. Asking the file system about
    each of them made a folder holding many copies of one image quadratic (100,000 copies:
    every new file checked every earlier copy)."""

    def __init__(self, db_path: Path, root: str, recursive: bool, gone: Sequence[str] = ()):
        self.db_path = db_path
        self._scope = db.scope_clause(root, recursive)
        self._gone = list(gone)
        self._gone_by_digest: Optional[dict[str, list]] = None
        self._local = threading.local()
        self._connections: list = []
        self._lock = threading.Lock()

    def _gone_rows(self, con) -> dict[str, list]:
        with self._lock:
            if self._gone_by_digest is None:
                index: dict[str, list] = {}
                for start in range(0, len(self._gone), 500):
                    chunk = self._gone[start:start + 500]
                    for row in con.execute("SELECT id, path, size_bytes, sha256 FROM images WHERE sha256 IS NOT NULL "
                                           f"AND path IN ({','.join('?' for _ in chunk)})", chunk):
                        index.setdefault(row["sha256"], []).append(row)
                self._gone_by_digest = index
            return self._gone_by_digest

    def _con(self):
        con = getattr(self._local, "con", None)
        if con is None:
            con = db.connect(self.db_path, readonly=True)
            self._local.con = con
            with self._lock:
                self._connections.append(con)
        return con

    def find(self, candidates: Sequence[tuple[FileEntry, str]]) -> list[Move]:
        if not candidates:
            return []
        by_digest: dict[str, list[FileEntry]] = {}
        for entry, digest in candidates:
            by_digest.setdefault(digest, []).append(entry)
        digests = list(by_digest)
        con = self._con()
        scope, scope_args = self._scope
        rows = con.execute(
            f"SELECT id, path, size_bytes, sha256 FROM images WHERE sha256 IN ({','.join('?' for _ in digests)}) "
            f"AND NOT ({scope})", digests + scope_args).fetchall()
        gone = self._gone_rows(con)
        rows += [row for digest in digests for row in gone.get(digest, ())]
        moves, claimed = [], set()
        for row in rows:
            if row["id"] in claimed or os.path.lexists(row["path"]):
                continue  # a copy, not a move: the original is still there
            for entry in by_digest.get(row["sha256"], []):
                if entry.size == row["size_bytes"] and entry.path not in {m.entry.path for m in moves}:
                    moves.append(Move(entry, row["id"], row["path"]))
                    claimed.add(row["id"])
                    break
        return moves

    def close(self) -> None:
        with self._lock:
            for con in self._connections:
                con.close()
            self._connections.clear()
