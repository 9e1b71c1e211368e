"""The search language of ``parameter_statistic_DB.py search`` and ``export``, compiled to
parameterised SQL over the FTS5 prompt index and the column indexes.

    cat "red hair" -hat               words and phrases in the prompt; -word or NOT excludes
    cat OR dog, (cat OR dog) AND sky  OR, AND (implicit between terms), parentheses
    neg:blurry  -neg:blurry           only the negative prompt (or images without it there)
    prompt:cat  any:cat               only the prompt (the default scope) / prompt or negative
    cat*                              prefix
    model:sdxl  sampler="Euler a"     field contains (``:``) / equals (``=``, ``!=``), any case
    steps>=30  cfg<7  seed:42  steps:20..30  size:512x768
    generator:ComfyUI  folder:/abs/dir  folder:portraits  lora:add_detail  since:2024-05-01

User input never becomes SQL text: every value is a bound parameter, and the FTS5 match
string is built from double-quoted phrases only, so FTS syntax in the input is just text.
Oddities (unknown fields, a dangling OR, an unclosed quote) are forgiven and reported as
notes; only a query that cannot mean anything (``steps>=many``) raises ``QueryError``.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterator, Optional, Sequence, Union

from .errors import DatabaseError, ExifDataError

logger = logging.getLogger(__name__)

SCOPES = ("prompt", "negative", "any")
SORTS = ("path", "newest", "oldest")
MAX_TERMS = 100
MAX_DEPTH = 20
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class QueryError(ExifDataError):
    """The search query cannot be understood; the message says why and how to write it."""

    exit_code = 2


# -- fields --------------------------------------------------------------------------------

_SCOPE_FIELDS = {"prompt": "prompt", "p": "prompt", "neg": "negative", "negative": "negative",
                 "negative_prompt": "negative", "n": "negative", "any": "any", "text": "any"}
# field -> columns searched (the first is the one compared for = and !=)
_TEXT_FIELDS = {
    "model": ("model",), "checkpoint": ("model",),
    "hash": ("model_hash",), "model_hash": ("model_hash",),
    "sampler": ("sampler",), "scheduler": ("scheduler",), "schedule": ("scheduler",),
    "vae": ("vae",), "generator": ("generator",), "gen": ("generator",), "tool": ("generator",),
    "file": ("file_name",), "name": ("file_name",), "path": ("path",),
    "format": ("format",), "status": ("parse_status",), "error": ("error",),
    "sha256": ("sha256",), "parser": ("parser",),
}
_INT_FIELDS = {"steps": "steps", "seed": "seed", "width": "width", "height": "height",
               "clip_skip": "clip_skip", "clipskip": "clip_skip", "clip": "clip_skip"}
_REAL_FIELDS = {"cfg": "cfg_scale", "cfg_scale": "cfg_scale", "scale": "cfg_scale",
                "denoise": "denoising_strength", "denoising": "denoising_strength",
                "denoising_strength": "denoising_strength"}
_RESOURCE_FIELDS = {"lora": ("lora", "lycoris"), "lycoris": ("lycoris",), "embedding": ("embedding",),
                    "ti": ("embedding",), "hypernet": ("hypernetwork",), "resource": None}
_DATE_FIELDS = ("since", "until", "date", "created")
_SPECIAL_FIELDS = ("folder", "dir", "size")

FIELD_NAMES = tuple(sorted(set(_SCOPE_FIELDS) | set(_TEXT_FIELDS) | set(_INT_FIELDS) | set(_REAL_FIELDS)
                           | set(_RESOURCE_FIELDS) | set(_DATE_FIELDS) | set(_SPECIAL_FIELDS)))
_MAIN_FIELDS = ("model:", "sampler:", "scheduler:", "vae:", "generator:", "folder:", "lora:", "steps>=",
                "cfg<", "seed:", "size:", "since:", "until:", "neg:", "any:", "status:", "format:")

# -- AST -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    value: str
    scope: str  # 'prompt' | 'negative' | 'any'
    prefix: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    op: str
    value: str


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


Node = Union[Text, Field, And, Or, Not]


@dataclass(frozen=True)
class CompiledQuery:
    """A WHERE clause over ``images`` and its parameters; ``where`` holds no user text."""

    text: str
    where: str
    params: tuple
    notes: tuple[str, ...] = ()

    @property
    def fts_only(self) -> bool:
        """The whole query is one FTS match: it can be counted on the index alone."""
        return self.where == _FTS_SQL


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


# -- lexer ---------------------------------------------------------------------------------

_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(>=|<=|!=|:|=|<|>)")


@dataclass
class _Token:
    kind: str  # 'term', 'and', 'or', 'not', 'lp', 'rp'
    value: str = ""
    field: Optional[str] = None
    op: Optional[str] = None
    quoted: bool = False


def _read_quoted(text: str, i: int, notes: list[str]) -> tuple[str, int]:
    """text[i] is '"'; returns (content, index after the closing quote). "" inside = one quote."""
    out = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == '"':
            if j + 1 < len(text) and text[j + 1] == '"':
                out.append('"')
                j += 2
                continue
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    notes.append("a quote was not closed; it was closed at the end of the query")
    return "".join(out), j


def _read_bare(text: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(text) and not text[j].isspace() and text[j] not in "()":
        j += 1
    return text[i:j], j


def tokenize(text: str, notes: list[str]) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            tokens.append(_Token("lp"))
            i += 1
            continue
        if ch == ")":
            tokens.append(_Token("rp"))
            i += 1
            continue
        if ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            tokens.append(_Token("not"))
            i += 1
            continue
        if ch == '"':
            value, i = _read_quoted(text, i, notes)
            tokens.append(_Token("term", value, quoted=True))
            continue
        m = _FIELD_RE.match(text, i)
        if m:
            name, op = m.group(1), m.group(2)
            j = m.end()
            if j < n and text[j] == '"':
                value, i = _read_quoted(text, j, notes)
                tokens.append(_Token("term", value, field=name, op=op, quoted=True))
            else:
                value, i = _read_bare(text, j)
                tokens.append(_Token("term", value, field=name, op=op))
            continue
        word, i = _read_bare(text, i)
        if word in ("AND", "&&"):
            tokens.append(_Token("and"))
        elif word in ("OR", "||", "|"):
            tokens.append(_Token("or"))
        elif word == "NOT":
            tokens.append(_Token("not"))
        else:
            tokens.append(_Token("term", word))
    return tokens


# -- parser --------------------------------------------------------------------------------

class _Parser:
    """Recursive descent: OR < AND (also implicit) < NOT < term/group. Forgiving: dangling
    operators and unbalanced parentheses are dropped with a note."""

    def __init__(self, tokens: list[_Token], scope: str, notes: list[str]):
        self.tokens = tokens
        self.pos = 0
        self.scope = scope
        self.notes = notes
        self.terms = 0
        self.depth = 0

    def peek(self) -> Optional[_Token]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Optional[Node]:
        node = self.or_expr()
        while self.peek() is not None:  # a stray ')' ends or_expr early
            self.pos += 1
            self.notes.append("an unmatched ')' was ignored")
            more = self.or_expr()
            node = _and([node, more])
        return node

    def or_expr(self) -> Optional[Node]:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.pos += 1
            parts.append(self.and_expr())
        kept = [p for p in parts if p is not None]
        if len(kept) < len(parts) and len(parts) > 1:
            self.notes.append("OR without a term on one side was ignored")
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def and_expr(self) -> Optional[Node]:
        parts = []
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rp"):
            if tok.kind == "and":
                self.pos += 1
                continue
            parts.append(self.unary())
        return _and(parts)

    def unary(self) -> Optional[Node]:
        tok = self.peek()
        if tok is not None and tok.kind == "not":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("or", "rp", "and"):
                self.notes.append("NOT (or -) without a term after it was ignored")
                return None
            child = self.unary()
            return Not(child) if child is not None else None
        return self.primary()

    def primary(self) -> Optional[Node]:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "lp":
            self.pos += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"the query nests parentheses more than {MAX_DEPTH} deep; simplify it")
            node = self.or_expr()
            self.depth -= 1
            if (closing := self.peek()) is not None and closing.kind == "rp":
                self.pos += 1
            else:
                self.notes.append("a '(' was not closed; it was closed at the end of the query")
            return node
        self.pos += 1
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"the query has more than {MAX_TERMS} terms; split it into several searches")
        return self.term(tok)

    def term(self, tok: _Token) -> Optional[Node]:
        if tok.field is None:
            return self.text(tok.value, self.scope, quoted=tok.quoted)
        name = tok.field.lower()
        if name in _SCOPE_FIELDS:
            return self.text(tok.value, _SCOPE_FIELDS[name], quoted=tok.quoted)
        if name in FIELD_NAMES:
            return Field(name, tok.op or ":", tok.value.strip())
        raw = f"{tok.field}{tok.op}{tok.value}"
        self.notes.append(f"'{tok.field}' is not a field name; '{raw}' was searched as text "
                          f"(fields: {', '.join(_MAIN_FIELDS)} …)")
        return self.text(raw, self.scope, quoted=tok.quoted)

    def text(self, value: str, scope: str, quoted: bool) -> Optional[Node]:
        prefix = False
        if not quoted and value.endswith("*"):
            value, prefix = value.rstrip("*"), True
        if not any(ch.isalnum() for ch in value):
            if value.strip():
                self.notes.append(f"ignored {value!r}: the index holds only words and numbers")
            return None
        return Text(value, scope, prefix)


def _and(parts: Sequence[Optional[Node]]) -> Optional[Node]:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def parse_query(text: str, scope: str = "prompt") -> tuple[Optional[Node], tuple[str, ...]]:
    """The query's syntax tree (None: matches every image) and notes about what was forgiven."""
    if scope not in SCOPES:
        raise QueryError(f"unknown search scope {scope!r}; use one of {', '.join(SCOPES)}")
    notes: list[str] = []
    # control characters separate words anyway; NUL would end FTS5's string early
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in (text or ""))
    tokens = tokenize(text, notes)
    node = _Parser(tokens, scope, notes).parse()
    return node, tuple(dict.fromkeys(notes))


# -- compiler ------------------------------------------------------------------------------

_FTS_COLUMN = {"prompt": "prompt", "negative": "negative_prompt", "any": None}
_FTS_SQL = "images.id IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)"


def _fts_phrase(node: Text) -> str:
    phrase = '"' + node.value.replace('"', '""') + '"'
    if node.prefix:
        phrase += " *"
    column = _FTS_COLUMN[node.scope]
    return f"{column} : {phrase}" if column else phrase


# Hiragana, Katakana, CJK ideographs (and extension A, compatibility), Hangul, half-width Katakana
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]")
_TEXT_COLUMNS = {"prompt": ("prompt",), "negative": ("negative_prompt",), "any": ("prompt", "negative_prompt")}


def _fts(node: Node) -> Optional[str]:
    """The node as one FTS5 expression when it is made only of text terms, else None.
    FTS5's NOT is binary, so a NOT needs a positive sibling in the same AND. Text with CJK
    characters is not for the index: its tokenizer keeps a run of them as one word (猫耳 in
    '1girl, 猫耳' is found, 猫 is not), so such text is matched as a substring instead."""
    if isinstance(node, Text):
        return None if _CJK.search(node.value) else _fts_phrase(node)
    if isinstance(node, Or):
        parts = [_fts(c) if not isinstance(c, Not) else None for c in node.children]
        if any(p is None for p in parts):
            return None
        return "(" + " OR ".join(parts) + ")"
    if isinstance(node, And):
        pos, neg = [], []
        for child in node.children:
            if isinstance(child, Not):
                inner = _fts(child.child)
                if inner is None:
                    return None
                neg.append(inner)
            else:
                expr = _fts(child)
                if expr is None:
                    return None
                pos.append(expr)
        if not pos:
            return None
        return "(" + " AND ".join(pos) + ")" + "".join(f" NOT {n}" for n in neg)
    return None


class _Compiler:
    def __init__(self) -> None:
        self.params: list = []

    def sql(self, node: Node) -> str:
        fts = _fts(node)
        if fts is not None:
            self.params.append(fts)
            return _FTS_SQL
        if isinstance(node, And):
            return self.and_sql(node)
        if isinstance(node, Or):
            return "(" + " OR ".join(self.sql(c) for c in node.children) + ")"
        if isinstance(node, Not):
            return f"NOT ({self.sql(node.child)})"
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Text):  # CJK text (see _fts): a substring of the prompt texts
            return self.contains(_TEXT_COLUMNS[node.scope], "%" + _like_escape(node.value) + "%")
        raise AssertionError(node)

    def contains(self, columns: Sequence[str], pattern: str) -> str:
        """Any of ``columns`` is LIKE ``pattern`` (already escaped)."""
        conds = []
        for column in columns:
            self.params.append(pattern)
            conds.append(f"IFNULL({column} LIKE ? ESCAPE '\\', 0)")
        return "(" + " OR ".join(conds) + ")"

    def and_sql(self, node: And) -> str:
        # the text terms of an AND go into one FTS match, the rest stay SQL conditions
        texty = [c for c in node.children if _fts(c if not isinstance(c, Not) else c.child) is not None]
        others = [c for c in node.children if c not in texty]
        parts = []
        if any(not isinstance(c, Not) for c in texty):
            parts.append(self.sql(And(tuple(texty)) if len(texty) > 1 else texty[0]))
        else:
            others = list(node.children)
        parts += [self.sql(c) for c in others]
        return "(" + " AND ".join(parts) + ")"

    # fields

    def field(self, f: Field) -> str:
        name, op, value = f.name, f.op, f.value
        if name in _TEXT_FIELDS:
            return self.text_field(_TEXT_FIELDS[name], name, op, value)
        if name in _INT_FIELDS or name in _REAL_FIELDS:
            return self.number_field(name, op, value)
        if name in _RESOURCE_FIELDS:
            return self.resource_field(name, op, value)
        if name in _DATE_FIELDS:
            return self.date_field(name, op, value)
        if name in ("folder", "dir"):
            return self.folder_field(op, value)
        if name == "size":
            return self.size_field(op, value)
        raise AssertionError(name)

    def text_field(self, columns: Sequence[str], name: str, op: str, value: str) -> str:
        if op in ("<", "<=", ">", ">="):
            raise QueryError(f"'{name}{op}{value}': {name} is text; use {name}:WORD (contains), "
                             f"{name}=VALUE (equals) or {name}!=VALUE")
        if not value:
            empty = "(" + f"{columns[0]} IS NULL OR {columns[0]} = ''" + ")"
            return empty if op in (":", "=") else f"NOT {empty}"
        if op in ("=", "!="):
            self.params.append(value)
            sql = f"IFNULL({columns[0]} = ? COLLATE NOCASE, 0)"
            return sql if op == "=" else f"NOT {sql}"
        return self.contains(columns, "%" + _like_escape(value).replace("*", "%") + "%")

    def number_field(self, name: str, op: str, value: str) -> str:
        column = _INT_FIELDS.get(name) or _REAL_FIELDS[name]
        is_int = name in _INT_FIELDS
        if op == ":" and ".." in value:
            low, _, high = value.partition("..")
            conds = []
            if low.strip():
                conds.append(self.compare(column, ">=", self.number(name, low, is_int)))
            if high.strip():
                conds.append(self.compare(column, "<=", self.number(name, high, is_int)))
            if not conds:
                raise QueryError(f"'{name}:{value}': give a range such as {name}:20..30")
            return "(" + " AND ".join(conds) + ")"
        sql_op = {":": "=", "=": "="}.get(op, op)
        if not value:
            empty = f"{column} IS NULL"
            return empty if op in (":", "=") else f"NOT ({empty})"
        return self.compare(column, sql_op, self.number(name, value, is_int))

    def compare(self, column: str, op: str, number) -> str:
        if op == "!=":
            self.params.append(number)
            return f"NOT IFNULL({column} = ?, 0)"
        self.params.append(number)
        return f"IFNULL({column} {op} ?, 0)"

    @staticmethod
    def number(name: str, raw: str, is_int: bool):
        raw = raw.strip()
        try:
            number = float(raw) if not is_int else (int(raw) if raw.lstrip("+-").isdigit() else int(float(raw)))
        except (ValueError, OverflowError):
            example = "steps>=30" if is_int else "cfg<7"
            raise QueryError(f"'{name}' needs a number, not {raw!r} (e.g. {example})") from None
        if isinstance(number, float) and number != number:
            raise QueryError(f"'{name}' needs a number, not {raw!r}")
        if is_int and not (_INT64_MIN <= number <= _INT64_MAX):
            return str(number)  # ComfyUI seeds past int64 are stored as text (db.py)
        return number

    def resource_field(self, name: str, op: str, value: str) -> str:
        if op not in (":", "=", "!="):
            raise QueryError(f"'{name}{op}{value}': use {name}:NAME")
        kinds = _RESOURCE_FIELDS[name]
        sql = "images.id IN (SELECT image_id FROM resources WHERE "
        if kinds:
            sql += f"kind IN ({', '.join('?' for _ in kinds)}) AND "
            self.params.extend(kinds)
        if op == ":":
            sql += "name LIKE ? ESCAPE '\\')"
            self.params.append("%" + _like_escape(value).replace("*", "%") + "%")
        else:
            sql += "name = ? COLLATE NOCASE)"
            self.params.append(value)
        return sql if op != "!=" else f"NOT ({sql})"

    def date_field(self, name: str, op: str, value: str) -> str:
        day = _parse_day(name, value)
        if name == "since":
            self.params.append(day.isoformat())
            return "IFNULL(created_at >= ?, 0)"
        if name == "until":
            self.params.append((day + timedelta(days=1)).isoformat())
            return "IFNULL(created_at < ?, 0)"
        start, end = day.isoformat(), (day + timedelta(days=1)).isoformat()
        if op in (":", "="):
            self.params.extend([start, end])
            return "IFNULL(created_at >= ? AND created_at < ?, 0)"
        if op in (">=", ">"):
            self.params.append(start if op == ">=" else end)
            return "IFNULL(created_at >= ?, 0)"
        if op in ("<", "<="):
            self.params.append(start if op == "<" else end)
            return "IFNULL(created_at < ?, 0)"
        self.params.extend([start, end])
        return "NOT IFNULL(created_at >= ? AND created_at < ?, 0)"

    def folder_field(self, op: str, value: str) -> str:
        if op not in (":", "=", "!="):
            raise QueryError(f"'folder{op}{value}': use folder:PATH (a folder and its subfolders) "
                             "or folder:NAME (folders whose path contains NAME)")
        if not value:
            raise QueryError("folder: needs a folder, e.g. folder:/home/me/images or folder:portraits")
        expanded = os.path.expanduser(value)
        if os.path.isabs(expanded):
            root = os.path.abspath(expanded).rstrip(os.sep) or os.sep
            if op == "=":
                self.params.append(root)
                return "folder = ?"
            prefix = root if root.endswith(os.sep) else root + os.sep
            upper = prefix[:-1] + chr(ord(os.sep) + 1)
            self.params.extend([prefix, upper])
            sql = "(path >= ? AND path < ?)"  # uses the path index: all paths under root sort here
            return sql if op == ":" else f"NOT {sql}"
        if op == "=":
            self.params.append(value)
            return "IFNULL(folder = ?, 0)"
        self.params.append("%" + _like_escape(value).replace("*", "%") + "%")
        sql = "IFNULL(folder LIKE ? ESCAPE '\\', 0)"
        return sql if op == ":" else f"NOT {sql}"

    def size_field(self, op: str, value: str) -> str:
        m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", value)
        if op not in (":", "=", "!=") or not m:
            raise QueryError(f"'size{op}{value}': write the generation size as size:512x768 "
                             "(or use width>=…, height>=…)")
        self.params.extend([int(m.group(1)), int(m.group(2))])
        sql = "IFNULL(width = ? AND height = ?, 0)"
        return sql if op != "!=" else f"NOT {sql}"


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _parse_day(name: str, value: str) -> date:
    raw = value.strip()
    try:
        if re.fullmatch(r"\d{4}", raw):
            return date(int(raw), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", raw):
            return date.fromisoformat(raw + "-01")
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"'{name}:{value}': write the date as YYYY-MM-DD (e.g. {name}:2024-05-01)") from None


def compile_query(text: str, scope: str = "prompt") -> CompiledQuery:
    """The query as a WHERE clause over ``images`` with bound parameters."""
    node, notes = parse_query(text, scope)
    if node is None:
        return CompiledQuery(text or "", "1", (), notes)
    comp = _Compiler()
    where = comp.sql(node)
    return CompiledQuery(text or "", where, tuple(comp.params), notes)


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
           sort: str = "path", scope: str = "prompt") -> SearchResult:
    """Images matching ``query``: the total count and the first ``limit`` hits (None: all)."""
    started = time.perf_counter()
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if limit is not None and limit < 0:
        raise QueryError("--limit must be 0 or more")
    total = count(con, compiled)
    hits: tuple[SearchHit, ...] = ()
    if total and limit != 0:
        where = compiled.where
        if limit is not None and total > _WALK_INDEX_ABOVE and total > 4 * limit:
            where = f"+({where})"  # '+': not an index constraint, so the ORDER BY index is walked
        sql = (f"SELECT {', '.join(HIT_COLUMNS)} FROM images WHERE {where} "
               f"ORDER BY {_order(sort)}" + (" LIMIT ?" if limit is not None else ""))
        params = compiled.params + ((limit,) if limit is not None else ())
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


def count(con: sqlite3.Connection, query: Union[str, CompiledQuery], scope: str = "prompt") -> int:
    compiled = query if isinstance(query, CompiledQuery) else compile_query(query, scope)
    if compiled.fts_only:
        # the index has exactly one entry per image (triggers keep it so): count it alone
        return _execute(con, "SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH ?",
                        compiled.params).fetchone()[0]
    return _execute(con, f"SELECT COUNT(*) FROM images WHERE {compiled.where}", compiled.params).fetchone()[0]
