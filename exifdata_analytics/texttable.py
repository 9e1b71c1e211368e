"""Aligned plain-text tables, measured in the columns a terminal or a monospaced file shows.

One renderer for the console tables of the CLI and the tables of the text reports: Chinese,
Japanese and Korean characters take two columns, combining marks none, so columns stay
aligned whatever the names in them.
"""
from __future__ import annotations

import logging
import unicodedata
from typing import Collection, Mapping, Optional, Sequence

logger = logging.getLogger(__name__)

CLIP_MARK = "…"
COLUMN_GAP = "  "


def display_width(text: str) -> int:
    """Columns a string takes: East Asian wide and full-width characters two, combining marks none."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def clip(text: str, limit: int, left: bool = False) -> str:
    """``text`` cut to ``limit`` columns, the cut marked with '…' (on the left: the end is kept)."""
    if limit <= 0:
        return ""
    if display_width(text) <= limit:
        return text
    chars = list(reversed(text)) if left else list(text)
    out, used = [], 0
    for ch in chars:
        w = display_width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    body = "".join(reversed(out)) if left else "".join(out)
    return CLIP_MARK + body if left else body + CLIP_MARK


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Collection[int] = (),
                max_widths: Optional[Mapping[int, int]] = None, clip_left: Collection[int] = (),
                total_width: Optional[int] = None, stretch: Optional[int] = None, rule: bool = False) -> list[str]:
    """The lines of a table of text cells: columns two spaces apart, ``numeric`` columns
    right-aligned (their headers too), cells longer than ``max_widths`` clipped with '…' (on
    the left for ``clip_left`` columns), no trailing spaces. ``stretch`` names the column that
    gets whatever is left of ``total_width``; ``rule`` draws a dashed line under the header."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], display_width(c))
    for i, limit in (max_widths or {}).items():
        widths[i] = min(widths[i], max(limit, display_width(headers[i])))
    if stretch is not None and total_width:
        others = sum(w for i, w in enumerate(widths) if i != stretch) + len(COLUMN_GAP) * (len(widths) - 1)
        widths[stretch] = max(display_width(headers[stretch]), min(widths[stretch], total_width - others))

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, v in enumerate(values):
            v = clip(v, widths[i], left=i in clip_left)
            pad = " " * (widths[i] - display_width(v))
            parts.append(pad + v if i in numeric else v + pad)
        return COLUMN_GAP.join(parts).rstrip()

    lines = [line(headers)]
    if rule:
        lines.append(COLUMN_GAP.join("-" * w for w in widths))
    lines.extend(line(row) for row in rows)
    return lines
