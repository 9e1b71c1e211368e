"""parameter_statistic_DB.py's text: numbers, sizes, console tables, search hits, JSON, and the
reports of coverage, sidecars and legacy imports. Formatting only: the values come from the library."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence

from ..coverage import Coverage
from ..export import SidecarResult
from ..legacy import LegacyImportSummary
from ..search import SearchHit, SearchResult
from ..texttable import display_width, table_lines

logger = logging.getLogger(__name__)


def count_text(value: Optional[int]) -> str:
    """A count with thousands separators ('-' when unknown)."""
    return "-" if value is None else f"{value:,}"


def human_bytes(size_bytes: Optional[int]) -> str:
    if size_bytes is None:
        return "-"
    size = float(size_bytes)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size_bytes} bytes"  # pragma: no cover


# Control characters from the database (an image's prompt or name) are shown, not obeyed: an
# ESC sequence could retitle, clear or recolour the user's terminal, and a bidi embedding,
# override or isolate reorders the text after it, so that a path or prompt reads as something it
# is not. C0 -> control pictures (␛); C1 and the bidi controls -> U+FFFD.
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_CONTROL_PICTURES = {**{c: 0x2400 + c for c in range(0x20)}, 0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)},
                     **{c: 0xFFFD for c in BIDI_CONTROLS}}
# JSON escapes C0 itself; these it leaves raw (with ensure_ascii=False), so they are escaped here
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS)}


def console_text(value: Any) -> str:
    """Text from the database as the console may show it (see _CONTROL_PICTURES)."""
    return str(value).translate(_CONTROL_PICTURES)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return console_text(" ".join(str(value).split()))  # line breaks would tear the table


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
                 max_widths: Optional[dict[int, int]] = None, clip_left: Sequence[int] = (),
                 total_width: Optional[int] = None, stretch: Optional[int] = None) -> str:
    """A console table with a rule under the header: numeric columns right-aligned, long cells
    clipped with '…'. ``stretch`` names the column that gets whatever width is left (clipped to fit)."""
    return "\n".join(table_lines(headers, [[_cell(v) for v in row] for row in rows], numeric=numeric,
                                 max_widths=max_widths, clip_left=clip_left, total_width=total_width,
                                 stretch=stretch, rule=True))


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size((160, 24)).columns)


def kv(pairs: Sequence[tuple[str, Any]]) -> str:
    """Indented 'label: value' lines, the values in one column."""
    width = max(len(k) for k, _ in pairs) + 1
    return "\n".join(f"  {k + ':':<{width}} {console_text(v)}" for k, v in pairs)


# -- search hits -----------------------------------------------------------------------------

def _size(hit: SearchHit) -> str:
    return f"{hit.width}x{hit.height}" if hit.width and hit.height else ""


_HIT_HEADERS = ["Path", "Generator", "Model", "Sampler", "Steps", "CFG", "Seed", "Size", "Prompt"]
_HIT_LIMITS = {1: 14, 2: 26, 3: 16, 6: 20}


def format_hits(hits: Sequence[SearchHit], width: Optional[int] = None) -> str:
    """Paths with their key parameters; the path gives way (clipped on the left) so that
    the prompt keeps at least 40 columns."""
    width = width or terminal_width()
    root = _common_folder([h.path for h in hits])
    rows = [(os.path.relpath(h.path, root) if root else h.path, h.generator, h.model, h.sampler, h.steps,
             h.cfg_scale, h.seed, _size(h), h.prompt) for h in hits]
    middle = 0
    for i in range(1, 8):
        w = max([display_width(_HIT_HEADERS[i])] + [display_width(_cell(r[i])) for r in rows])
        middle += min(w, _HIT_LIMITS.get(i, w)) + 2
    longest_path = max([4] + [display_width(r[0]) for r in rows])
    path_width = min(longest_path, max(24, width - middle - 2 - 40))
    table = format_table(_HIT_HEADERS, rows, numeric=(4, 5, 6), max_widths={0: path_width, **_HIT_LIMITS},
                         clip_left=(0,), total_width=width, stretch=8)
    return (f"(paths under {console_text(root)}{os.sep})\n" + table) if root else table


def _common_folder(paths: Sequence[str]) -> Optional[str]:
    """The folder all paths share, when showing paths relative to it saves room."""
    if len(paths) < 2:
        return None
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths])
    except ValueError:
        return None
    return root if len(root) > 1 else None


def search_summary(result: SearchResult, shown: Optional[int] = None) -> str:
    """``shown``: how many hits are printed, when they are streamed rather than in ``result``."""
    shown = len(result.hits) if shown is None else shown
    what = f"'{result.query}'" if result.query.strip() else "(everything)"
    text = f"{count_text(result.total)} image{'s' if result.total != 1 else ''} match {what}"
    if shown < result.total:
        text += f"; showing the first {count_text(shown)} (--limit N for more)"
    return text + f" [{result.elapsed * 1000:.1f} ms]"


# -- JSON ------------------------------------------------------------------------------------

def _to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(obj: Any) -> str:
    """Results (dataclasses, dates, paths) as indented JSON, non-ASCII text kept readable."""
    return json.dumps(_to_jsonable(obj), ensure_ascii=False, indent=2).translate(_JSON_ESCAPES)


# -- reports ---------------------------------------------------------------------------------

def format_coverage(cov: Coverage, db_path: Path) -> str:
    """Coverage as tables: statuses, fields found per generator, failure reasons."""
    lines = [f"Parse coverage of {db_path} ({count_text(cov.total)} images)", ""]
    lines.append(format_table(["Status", "Images", "Share"],
                              [(s, count_text(c), f"{100 * c / cov.total:.1f}%" if cov.total else "-")
                               for s, c in cov.statuses], numeric=(1, 2)))
    if cov.generators:
        lines.append("")
        lines.append(format_table(
            ["Generator", "Images", "Prompt", "Negative", "Seed", "Steps", "Sampler", "CFG", "Size", "Model"],
            [(g.generator, *map(count_text, (g.images, g.with_prompt, g.with_negative_prompt, g.with_seed,
                                             g.with_steps, g.with_sampler, g.with_cfg_scale, g.with_size,
                                             g.with_model)))
             for g in cov.generators], numeric=tuple(range(1, 10))))
    if cov.reasons:
        lines.append("")
        lines.append(format_table(["Status", "Reason", "Images", "Example"],
                                  [(r.status, r.reason, count_text(r.images), r.example or "") for r in cov.reasons],
                                  numeric=(2,), max_widths={1: 70, 3: 60}, clip_left=(3,)))
    if cov.unknown:
        lines += ["", "Sampler and schedule spellings the names tables do not know (counted as written):"]
        lines.append(format_table(["Field", "Spelling", "Images"],
                                  [(u.field, u.spelling, count_text(u.images)) for u in cov.unknown], numeric=(2,)))
    if cov.unread:
        lines += ["", "ComfyUI nodes whose values could not be read (language-model text, or nodes not known yet):"]
        lines.append(format_table(["Node class", "Images"], [(u.node_class, count_text(u.images)) for u in cov.unread],
                                  numeric=(1,)))
    if cov.disagreements:
        lines += ["", "ComfyUI save nodes whose text disagrees with the graph (the graph's values are kept):"]
        lines.append(format_table(["Field", "Images"], [(d.field, count_text(d.images)) for d in cov.disagreements],
                                  numeric=(1,)))
    return "\n".join(lines)


def format_sidecars(r: SidecarResult) -> str:
    where = f"under {r.out_dir}" if r.out_dir else "beside the images"
    verb = "would be written" if r.dry_run else "written"
    kind = "A1111 infotext, <image>.txt" if r.format == "txt" else "<image name>.json"
    lines = [f"Sidecar files ({kind}) {where}:", kv([
        ("images selected", count_text(r.selected)),
        (verb, count_text(r.written)),
        ("already there (kept; --force replaces)", count_text(r.skipped_existing)),
        ("image file missing (skipped)", count_text(r.skipped_missing_image)),
        ("failed", count_text(r.failed)),
    ])]
    if r.examples:
        lines.append("e.g. " + console_text(r.examples[0]))
    if r.first_error:
        lines.append(f"First error: {console_text(r.first_error)}")
    if r.dry_run:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines)


def format_legacy(s: LegacyImportSummary, legacy: str, db_path: Path) -> str:
    pairs = [
        ("rows in the legacy database", count_text(s.legacy_rows)),
        ("re-read from the files (ExifTool)", count_text(s.reextracted)),
        ("files gone: parsed from stored text", count_text(s.from_text)),
        ("already in the database (kept)", count_text(s.already_present)),
        ("with generation data", count_text(s.with_generation_data)),
        ("without generation data", count_text(s.without_generation_data)),
        ("not recognised (unparsed)", count_text(s.unparsed)),
        ("errors", count_text(s.errors)),
    ]
    if s.vanished:
        pairs.append(("vanished during the import", count_text(s.vanished)))
    lines = [f"Imported {legacy} into {db_path}:", kv(pairs)]
    if s.generators:
        lines.append("  generators: " + ", ".join(f"{console_text(g)} {count_text(c)}" for g, c in s.generators))
    lines.append(f"  elapsed: {s.elapsed:.1f} s")
    return "\n".join(lines)


def format_unused(r) -> str:
    """The unused command's report: every model file with its images, the never used last."""
    used = [f for f in r.files if f.images]
    lines = [f"Model files under {r.root}: {count_text(len(r.files))} ({count_text(len(used))} used, "
             f"{count_text(len(r.unused))} never used by an indexed image)"]
    if r.hashed:
        lines.append(f"  hashed {count_text(r.hashed)} files ({human_bytes(r.hashed_bytes)}) in {r.elapsed:.1f} s"
                     + ("; the hashes are kept for the next run" if r.cache_used else
                        "; the database is read-only, so the hashes were not kept"))
    if used:
        lines += ["", format_table(["Kind", "Name", "Images", "Last used", "Matched by", "Size"],
                                   [(f.kind, f.name, count_text(f.images), (f.last_used or "")[:10],
                                     "+".join(f.matched_by), human_bytes(f.size_bytes)) for f in used],
                                   numeric=(2, 5), max_widths={1: 60})]
    if r.unused:
        lines += ["", f"Never used ({human_bytes(r.unused_bytes)} on disk):",
                  format_table(["Kind", "Path", "Size"], [(f.kind, f.path, human_bytes(f.size_bytes)) for f in r.unused],
                               numeric=(2,), clip_left=(1,), max_widths={1: 100})]
    return "\n".join(lines)

