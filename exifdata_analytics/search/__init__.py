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

from .compiler import CompiledQuery, compile_query, compile_tree
from .fields import FIELD_NAMES
from .run import HIT_COLUMNS, SORTS, SearchHit, SearchResult, count, iter_rows, search
from .syntax import MAX_DEPTH, MAX_TERMS, SCOPES, And, Field, Node, Not, Or, QueryError, Text, parse_query, tokenize

__all__ = ["CompiledQuery", "compile_query", "compile_tree", "FIELD_NAMES", "HIT_COLUMNS", "SORTS", "SearchHit",
           "SearchResult", "count", "iter_rows", "search", "MAX_DEPTH", "MAX_TERMS", "SCOPES", "And", "Field", "Node",
           "Not", "Or", "QueryError", "Text", "parse_query", "tokenize"]
