"""Running a query: the count and the first hits (``search``), every row streamed for exports
(``iter_rows``, ``iter_hits``), and counts alone."""
from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Union

from ..errors import DatabaseError
from .compiler import CompiledQuery, compile_query
from .syntax import QueryError

logger = logging.getLogger(__name__)

SORTS = ("path", "newest", "oldest")


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    file_name: str
    generator: Optional[str]
    model: Optional[str]
    sampler: Optional[str]
    scheduler: Optional[str]
    steps: Optional[int]
    cfg_scale: Optional[float]
    seed: Optional[Union[int, str]]
    width: Optional[int]
    height: Optional[int]
    created_at: Optional[str]
    prompt: Optional[str]
    negative_prompt: Optional[str]
    parse_status: str


HIT_COLUMNS = tuple(f for f in SearchHit.__dataclass_fields__)


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    hits: tuple[SearchHit, ...]
    limit: Optional[int]
    notes: tuple[str, ...] = ()
    elapsed: float = 0.0


# -- running -------------------------------------------------------------------------------

_ORDER = {"path": "path", "newest": "created_at DESC, path", "oldest": "created_at, path"}


def _order(sort: str) -> str:
    if sort not in _ORDER:
        raise QueryError(f"unknown sort order {sort!r}; use one of {', '.join(SORTS)}")
    return _ORDER[sort]


def _execute(con: sqlite3.Connection, sql: str, params: Sequence) -> sqlite3.Cursor:
    try:
        return con.execute(sql, params)
    except sqlite3.OperationalError as exc:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            raise DatabaseError(f"the database is locked by another program ({msg}); try again") from None
        if "stack overflow" in msg or "too large" in msg:  # compile_tree's bound should prevent it
            raise QueryError(f"the query nests too deeply for the database ({msg}); use fewer parentheses "
                             "and NOTs, or split it into several searches") from None
        if "MATCH" in sql:
            # the match string is built from quoted phrases only; should FTS5 still object, say so
            logger.warning("FTS5 rejected %r: %s", params, msg)
            raise QueryError(f"the search index could not run this query ({msg}); "
                             "leave out unusual characters") from None
        raise


# Above this many matches, the first rows in path (or date) order are found faster by walking
# that index and testing each row than by fetching every match and sorting (measured on
# 100,000 rows: 'masterpiece', 28,693 matches: 3 ms instead of 32 ms).
_WALK_INDEX_ABOVE = 2000


def search(con: sqlite3.Connection, query: Union[str, CompiledQuery], limit: Optional[int] = 50,
           sort: str = "path", scope: str = "prompt", offset: int = 0) -> SearchResult:
    """Images matching ``query``: the total count and ``limit`` hits (None: all) after the first
    ``offset`` (a page of the browser's grid)."""
    started = time.perf_counter()
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if limit is not None and limit < 0:
        raise QueryError("--limit must be 0 or more")
    if offset < 0:
        raise QueryError("the offset must be 0 or more")
    total = count(con, compiled)
    hits: tuple[SearchHit, ...] = ()
    if total > offset and limit != 0:
        where = compiled.where
        if limit is not None and total > _WALK_INDEX_ABOVE and total > 4 * (limit + offset):
            where = f"+({where})"  # '+': not an index constraint, so the ORDER BY index is walked
        sql = (f"SELECT {', '.join(HIT_COLUMNS)} FROM images WHERE {where} "
               f"ORDER BY {_order(sort)}" + (" LIMIT ? OFFSET ?" if limit is not None else ""))
        params = compiled.params + ((limit, offset) if limit is not None else ())
        hits = tuple(SearchHit(*row) for row in _execute(con, sql, params))
    elapsed = time.perf_counter() - started
    logger.info("search %r: %d matches in %.1f ms", compiled.text, total, elapsed * 1000)
    return SearchResult(compiled.text, total, hits, limit, compiled.notes, elapsed)


def iter_rows(con: sqlite3.Connection, query: Union[str, CompiledQuery], columns: Sequence[str] = ("*",),
              sort: str = "path", scope: str = "prompt", limit: Optional[int] = None) -> Iterator[sqlite3.Row]:
    """Every matching row (selected columns), streamed, for exports."""
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    sql = f"SELECT {', '.join(columns)} FROM images WHERE {compiled.where} ORDER BY {_order(sort)}"
    params = compiled.params
    if limit is not None:
        sql += " LIMIT ?"
        params = params + (limit,)
    yield from _execute(con, sql, params)


def iter_hits(con: sqlite3.Connection, query: Union[str, CompiledQuery], sort: str = "path",
              scope: str = "prompt") -> Iterator[SearchHit]:
    """Every match as a SearchHit, streamed (``search --all``: memory does not grow with them)."""
    for row in iter_rows(con, query, HIT_COLUMNS, sort=sort, scope=scope):
        yield SearchHit(*row)


def count(con: sqlite3.Connection, query: Union[str, CompiledQuery], scope: str = "prompt") -> int:
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if compiled.fts_only:
        # the index has exactly one entry per image (triggers keep it so): count it alone
        return _execute(con, "SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH ?",
                        compiled.params).fetchone()[0]
    return _execute(con, f"SELECT COUNT(*) FROM images WHERE {compiled.where}", compiled.params).fetchone()[0]
