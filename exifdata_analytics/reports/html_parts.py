"""The interactive parts of report.html: complete tables that sort by any column and filter by
typed text, count tables with bars and example thumbnails, the page's own script and styles.

Everything stays in the one file: the script (``report.js``, read from the package) and the
thumbnails (small JPEGs as data URIs, each image once, in a JSON block that the script puts into
the ``<img data-thumb>`` elements) are inlined, so the page works offline and from any folder.
Tables past ``MAX_TABLE_ROWS`` rows (the word counts of a large library) show their top rows and
say where the rest is, which keeps a 100,000-image report to a few MB.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import re
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from ..analysis import Counts, Examples
from ..thumbnails import Source, ThumbnailError, thumbnail_bytes

logger = logging.getLogger(__name__)

MAX_TABLE_ROWS = 2000
EXAMPLE_SIZE = 96  # px, the long side of an example thumbnail
_NUMERIC_CELL = re.compile(r"^-?[\d,]+(?:\.\d+)?%?$")
NUMERIC_PARAMETERS = frozenset({"CFG scale", "Steps", "Denoising strength"})


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _is_number(cell: object) -> bool:
    return (isinstance(cell, (int, float)) and not isinstance(cell, bool)) or bool(_NUMERIC_CELL.match(str(cell)))


def _number(cell: object) -> str:
    """The value a numeric cell sorts by ('1,234' -> 1234, '12.5%' -> 12.5)."""
    return str(cell).replace(",", "").rstrip("%")


def _cell(value: object) -> object:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], source: str = "",
               extra: Optional[Sequence[str]] = None) -> str:
    """A complete table (up to MAX_TABLE_ROWS, then it says so) that the page's script makes
    sortable by any column and filterable; numeric columns are right-aligned and sort by value.
    ``extra``: one more cell's HTML per row (bars, thumbnails), already escaped."""
    shown = list(rows[:MAX_TABLE_ROWS])
    numeric = [bool(shown) and all(_is_number(r[i]) for r in shown) for i in range(len(headers))]
    head = "".join(f'<th{" class=n" if numeric[i] else ""}>{e(h)}</th>' for i, h in enumerate(headers))
    if extra is not None:
        head += "<th class=x></th>"
    body = []
    for j, r in enumerate(shown):
        cells = "".join(f'<td class=n data-v="{e(_number(c))}">{e(_cell(c))}</td>' if numeric[i]
                        else (f'<td title="{e(c)}">{e(c)}</td>' if len(str(c)) > 30 else f"<td>{e(c)}</td>")
                        for i, c in enumerate(r))
        body.append(f"<tr>{cells}{extra[j] if extra is not None else ''}</tr>")
    more = ""
    if len(rows) > len(shown):
        more = (f'<p class="muted">The top {len(shown):,} of {len(rows):,} rows'
                f'{f"; {e(source)} has all" if source else ""}.</p>')
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'


def bar_cell(value: str, n: int, total: int) -> str:
    share = 100 * n / total if total else 0.0
    return (f'<td class="bar" title="{e(value)}: {n:,} images ({share:.1f}%)">'
            f'<i style="width:{max(share, 0.5):.1f}%"></i></td>')


def example_cell(ids: Iterable[int], thumbs: Mapping[int, str], prompts: Mapping[int, str]) -> str:
    imgs = "".join(f'<img class="ex" data-thumb="{i}" alt="" title="{e(prompts.get(i) or "")}">'
                   for i in ids if i in thumbs)
    return f'<td class="ex">{imgs}</td>'


def counts_table(counts: Counts, examples: Examples, thumbs: Mapping[int, str], prompts: Mapping[int, str],
                 unit: str = "images", source: str = "", parameter: Optional[str] = None) -> str:
    """A parameter's (or LoRA's) counts: every value, a bar with its share on hover, and for the
    top values a few example images (their prompt on hover)."""
    if not counts.items:
        return '<p class="muted">No values.</p>'
    total = counts.total
    key = parameter or counts.name
    extra = [bar_cell(v, n, total) + example_cell(examples.ids_for(key, v), thumbs, prompts)
             for v, n in counts.items[:MAX_TABLE_ROWS]]
    order = ""
    if counts.name in NUMERIC_PARAMETERS:
        order = ('<div class="order"><button type="button" data-order="value">value order</button>'
                 '<button type="button" data-order="count">count order</button></div>')
    table = html_table([counts.name, unit], counts.items, source, extra)
    return order + table.replace("<th class=x></th>", "<th class=x>share</th><th class=x>examples</th>", 1)


def thumbnails(examples: Examples, thumbnail_dir: Optional[Path]) -> tuple[dict[int, str], int]:
    """id -> data URI of each example image's small thumbnail (made once, cached in
    ``thumbnail_dir``), and how many could not be made (a moved file, not an image…)."""
    out: dict[int, str] = {}
    missing = 0
    for img in examples.images:
        try:
            data = thumbnail_bytes(Source(img.path, img.sha256, img.size_bytes, img.mtime_ns), thumbnail_dir,
                                   EXAMPLE_SIZE)
        except (ThumbnailError, OSError) as exc:
            logger.debug("no example thumbnail for %s: %s", img.path, exc)
            missing += 1
            continue
        out[img.id] = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return out, missing


def thumbnails_block(thumbs: Mapping[int, str]) -> str:
    # JSON of digits and base64 only: nothing in it can close the script element
    return f'<script type="application/json" id="thumbs">{json.dumps({str(k): v for k, v in thumbs.items()})}</script>'


def page_script() -> str:
    return "<script>" + resources.files(__package__).joinpath("report.js").read_text(encoding="utf-8") + "</script>"
