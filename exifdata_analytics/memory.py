"""Giving freed memory back to the system between the steps of a long run.

glibc's malloc keeps the memory of freed blocks for reuse; after a step that read a million
rows in chunks, the freed chunks stay in the process as a fragmented heap, and the next step's
arrays come on top of it. ``malloc_trim`` returns those free pages. Elsewhere (musl, macOS,
Windows) there is nothing to call and nothing is done."""
from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Callable, Optional


@lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    # from the C library the interpreter already has loaded (ctypes.util.find_library would start
    # a subprocess, which counts with the parent's memory in the peak of the helper processes)
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc, or no C library to open (Windows)
        return None


def release_freed_memory() -> None:
    """Return the free pages of the heap to the system (a few milliseconds)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)

