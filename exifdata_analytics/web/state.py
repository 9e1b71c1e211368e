"""The state of a database file, as a cache key: the dashboard's analysis is computed once per
state and recomputed after DB_filler.py (or any writer) changed the database."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable, Generic, Optional, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def database_state(db_path: Path) -> tuple:
    """(size, mtime_ns) of the database and of its -wal file: any committed write changes one.
    (PRAGMA data_version would not do: it is per connection.)"""
    out = []
    for path in (Path(db_path), Path(str(db_path) + "-wal")):
        try:
            st = os.stat(path)
            out.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


class PerState(Generic[T]):
    """One value per database state, computed by ``make`` on first need; requests meanwhile
    wait for that one computation instead of starting their own."""

    def __init__(self, db_path: Path, make: Callable[[], T]):
        self.db_path, self.make = Path(db_path), make
        self._lock = threading.Lock()
        self._state: Optional[tuple] = None
        self._value: Optional[T] = None

    def get(self) -> T:
        state = database_state(self.db_path)
        with self._lock:
            if self._state != state or self._value is None:
                self._value = self.make()
                self._state = state
            return self._value
