"""The search language's syntax: the tree of a query, the lexer and a forgiving parser.

Oddities (unknown fields, a dangling OR, an unclosed quote) are forgiven and reported as
notes; only a query that cannot mean anything raises ``QueryError``.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from ..errors import ExifDataError
from .fields import FIELD_NAMES, MAIN_FIELDS, SCOPE_FIELDS

logger = logging.getLogger(__name__)

SCOPES = ("prompt", "negative", "any")
MAX_TERMS = 100
MAX_DEPTH = 20  # parentheses
# The longest query read: 100 terms of any sensible length fit, and the lexer, the parser and
# the compiled SQL stay small whatever the text holds (operators are not terms).
MAX_QUERY_CHARS = 10_000


class QueryError(ExifDataError):
    """The search query cannot be understood; the message says why and how to write it."""

    exit_code = 2


# -- the tree ------------------------------------------------------------------------------

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
        # a chain of NOTs is counted, not recursed into: NOT NOT x is x, however long the chain
        nots = 0
        while (tok := self.peek()) is not None and tok.kind == "not":
            self.pos += 1
            nots += 1
        if nots == 0:
            return self.primary()
        nxt = self.peek()
        if nxt is None or nxt.kind in ("or", "rp", "and"):
            self.notes.append("NOT (or -) without a term after it was ignored")
            return None
        if nots > 1:
            self.notes.append("a NOT cancels the NOT before it (NOT NOT x is x)")
        child = self.primary()
        return Not(child) if child is not None and nots % 2 else child

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
        if name in SCOPE_FIELDS:
            return self.text(tok.value, SCOPE_FIELDS[name], quoted=tok.quoted)
        if name in FIELD_NAMES:
            return Field(name, tok.op or ":", tok.value.strip())
        raw = f"{tok.field}{tok.op}{tok.value}"
        self.notes.append(f"'{tok.field}' is not a field name; '{raw}' was searched as text "
                          f"(fields: {', '.join(MAIN_FIELDS)} …)")
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
    if text and len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} are read. "
                         "Split it into several searches")
    # control characters separate words anyway; NUL would end FTS5's string early
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in (text or ""))
    tokens = tokenize(text, notes)
    node = _Parser(tokens, scope, notes).parse()
    return node, tuple(dict.fromkeys(notes))
