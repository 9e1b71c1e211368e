"""The search language compiled to parameterised SQL over the FTS5 prompt index and the
column indexes. User input never becomes SQL text: every value is a bound parameter, and the
FTS5 match string is built from double-quoted phrases only, so FTS syntax in the input is just
text."""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional, Sequence

from ..db import under_clause
from ..models import CANONICAL_OF
from ..names import canonical_sampler
from ..names.refresh import resource_family
from .fields import DATE_FIELDS, INT_FIELDS, REAL_FIELDS, RESOURCE_FIELDS, STAGE_FIELDS, TEXT_FIELDS
from .syntax import And, Field, Node, Not, Or, QueryError, Text, parse_query

logger = logging.getLogger(__name__)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# The deepest nesting of AND, OR and NOT compiled. SQLite's parser has a fixed stack (100
# entries): the costliest nesting measured (OR within AND around lora:/model: sub-queries) runs
# 20 deep, FTS5's own parser 31; the statistics' filters wrap a query one level deeper.
MAX_NESTING = 16
# column -> its names' kind in the spellings table
_SPELLING_KIND = {"model": "checkpoint", "vae": "vae"}


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
            # a condition on a NULL column is NULL, and NOT NULL is NULL: the image without the
            # value is one that does not match, so NOT keeps it
            return f"NOT IFNULL(({self.sql(node.child)}), 0)"
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
        if name in TEXT_FIELDS:
            return self.text_field(TEXT_FIELDS[name], name, op, value)
        if name in INT_FIELDS or name in REAL_FIELDS:
            return self.number_field(name, op, value)
        if name in RESOURCE_FIELDS:
            return self.resource_field(name, op, value)
        if name in STAGE_FIELDS:
            return self.stage_field(name, op, value)
        if name == "passes":
            return self.passes_field(op, value)
        if name in DATE_FIELDS:
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
        canonical = CANONICAL_OF.get(columns[0])
        if op in ("=", "!="):
            test, param = "= ? COLLATE NOCASE", value
        else:
            test, param = "LIKE ? ESCAPE '\\'", "%" + _like_escape(value).replace("*", "%") + "%"
        if canonical and columns[0] in ("sampler", "scheduler"):
            sql = self.same_sampler(columns[0], canonical, test, param, value)
        elif canonical:
            sql = self.same_entity(columns[0], canonical, test, param)
        elif op in ("=", "!="):
            self.params.append(value)
            sql = f"IFNULL({columns[0]} = ? COLLATE NOCASE, 0)"
        else:
            return self.contains(columns, param)
        return sql if op != "!=" else f"NOT {sql}"

    def same_entity(self, column: str, canonical: str, test: str, param: str) -> str:
        """Every image of each model (or VAE) one of whose spellings, or whose canonical name,
        passes the test: ``model:dreamshaper_8`` finds ``SD1.5/dreamshaper_8.safetensors`` and a
        renamed copy linked by its hash. The inner query reads the small table of spellings and
        the outer one looks the entities up by their index, so this is faster than one LIKE over
        every row. Never NULL (so NOT keeps the images without a model)."""
        self.params.extend([_SPELLING_KIND[column], param, param])
        return (f"({canonical} IS NOT NULL AND {canonical} IN (SELECT canonical FROM spellings WHERE kind = ? AND "
                f"(spelling {test} OR canonical {test})))")

    def same_sampler(self, column: str, canonical: str, test: str, param: str, value: str) -> str:
        """A spelling of the sampler (or schedule) as written, its canonical name, or the
        canonical name the tables give the value: ``sampler:"Euler a"`` finds
        ``k_euler_ancestral``; ``sampler="DPM++ 2M Karras"`` finds DPM++ 2M with Karras however
        written."""
        self.params.extend([param, param])
        sql = f"IFNULL({column} {test}, 0) OR IFNULL({canonical} {test}, 0)"
        name = canonical_sampler(value) if column == "sampler" else canonical_sampler(None, value)
        if column == "sampler" and name.sampler_known:
            if name.schedule and name.schedule_known:  # a combined spelling: 'DPM++ 2M Karras'
                self.params.extend([name.sampler, name.schedule])
                sql += " OR IFNULL(canonical_sampler = ? AND canonical_scheduler = ?, 0)"
            else:
                self.params.append(name.sampler)
                sql += " OR IFNULL(canonical_sampler = ?, 0)"
        elif column == "scheduler" and name.schedule and name.schedule_known:
            self.params.append(name.schedule)
            sql += " OR IFNULL(canonical_scheduler = ?, 0)"
        return f"({sql})"

    def number_field(self, name: str, op: str, value: str) -> str:
        column = INT_FIELDS.get(name) or REAL_FIELDS[name]
        is_int = name in INT_FIELDS
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
            if op in ("<", ">", "<=", ">="):  # 'cfg<' once matched every image with a CFG
                raise QueryError(f"'{name}{op}' needs a number after it, e.g. {name}{op}7")
            empty = f"{column} IS NULL"  # 'steps:' no value; 'steps!=' any value
            return empty if op in (":", "=") else f"NOT ({empty})"
        return self.compare(column, sql_op, self.number(name, value, is_int))

    def compare(self, column: str, op: str, number) -> str:
        if op == "!=":
            self.params.append(number)
            return f"NOT IFNULL({column} = ?, 0)"
        self.params.append(number)
        return f"{column} {op} ?"  # plain, so an index on the column can answer it (NULL: no match)

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
        kinds = RESOURCE_FIELDS[name] or ()
        test, param = (("LIKE ? ESCAPE '\\'", "%" + _like_escape(value).replace("*", "%") + "%") if op == ":"
                       else ("= ? COLLATE NOCASE", value))
        # any spelling of the same resource: its canonical name is that of a spelling the value
        # matches. Every name written is a spelling of its canonical name (names.note_spellings), so
        # the small spellings table is searched and resources looked up by index (kind, canonical);
        # only names without a canonical name (no stem) are matched one by one
        kinds_sql = f"kind IN ({', '.join('?' for _ in kinds)}) AND " if kinds else ""
        families = sorted({resource_family(k) for k in kinds})
        families_sql = f"kind IN ({', '.join('?' for _ in families)}) AND " if families else ""
        sql = (f"images.id IN (SELECT image_id FROM resources WHERE {kinds_sql}canonical_name IN "
               f"(SELECT canonical FROM spellings WHERE {families_sql}(spelling {test} OR canonical {test})) "
               f"UNION ALL SELECT image_id FROM resources WHERE {kinds_sql}canonical_name IS NULL AND name {test})")
        self.params.extend([*kinds, *families, param, param, *kinds, param])
        return sql if op != "!=" else f"NOT ({sql})"

    def stage_field(self, name: str, op: str, value: str) -> str:
        """Any generation stage (stages.py) of the image: ``stage:refiner``, ``stage_model:refiner``,
        ``stage_sampler:euler``. Images made in one pass have no stages rows (their pass is the
        images row: search ``model:``/``sampler:`` for it)."""
        if op not in (":", "=", "!=") or not value:
            raise QueryError(f"'{name}{op}{value}': use {name}:WORD or {name}=VALUE")
        test, param = (("LIKE ? ESCAPE '\\'", "%" + _like_escape(value).replace("*", "%") + "%") if op == ":"
                       else ("= ? COLLATE NOCASE", value))
        self.params.append(param)
        sql = f"images.id IN (SELECT image_id FROM stages WHERE {STAGE_FIELDS[name]} {test})"
        return sql if op != "!=" else f"NOT ({sql})"

    def passes_field(self, op: str, value: str) -> str:
        """How many sampler passes made the image: 1 unless it has stages rows."""
        if op == ":":
            op = "="
        if not value:
            raise QueryError(f"'passes{op}' needs a number after it, e.g. passes>=2")
        number = self.number("passes", value, True)
        self.params.append(number)
        sql_op = "=" if op == "=" else op
        return (f"IFNULL((SELECT MAX(stage) + 1 FROM stages WHERE stages.image_id = images.id), 1) "
                f"{'!=' if op == '!=' else sql_op} ?")

    def date_field(self, name: str, op: str, value: str) -> str:
        day = _parse_day(name, value)
        if name == "since":
            self.params.append(day.isoformat())
            return "created_at >= ?"
        if name == "until":
            self.params.append((day + timedelta(days=1)).isoformat())
            return "created_at < ?"
        start, end = day.isoformat(), (day + timedelta(days=1)).isoformat()
        if op in (":", "="):
            self.params.extend([start, end])
            return "(created_at >= ? AND created_at < ?)"
        if op in (">=", ">"):
            self.params.append(start if op == ">=" else end)
            return "created_at >= ?"
        if op in ("<", "<="):
            self.params.append(start if op == "<" else end)
            return "created_at < ?"
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
            under, args = under_clause(root)  # a range of the path index: every path below root
            self.params.extend(args)
            return f"({under})" if op == ":" else f"NOT ({under})"
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
        sql = "(width = ? AND height = ?)"
        return sql if op != "!=" else f"NOT IFNULL({sql}, 0)"


def _nesting(node: Node) -> int:
    """How deep AND, OR and NOT nest in the tree (a term alone: 0). Without recursion: a tree
    built by code can be of any depth."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend((child, depth + 1) for child in item.children)
        elif isinstance(item, Not):
            stack.append((item.child, depth + 1))
        else:
            deepest = max(deepest, depth)
    return deepest


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
    return compile_tree(node, text or "", notes)


def compile_tree(node: Optional[Node], text: str = "", notes: tuple[str, ...] = ()) -> CompiledQuery:
    """A syntax tree (from ``parse_query``, or built by code such as the statistics' filters)
    as a WHERE clause over ``images``; None matches every image."""
    if node is None:
        return CompiledQuery(text, "1", (), notes)
    if _nesting(node) > MAX_NESTING:
        raise QueryError(f"the query nests AND, OR and NOT more than {MAX_NESTING} deep, more than the database "
                         "can run; use fewer parentheses and NOTs, or split it into several searches")
    comp = _Compiler()
    where = comp.sql(node)
    return CompiledQuery(text, where, tuple(comp.params), notes)
