"""What the browser's pages read from the database: a page of search hits, the facets that
narrow a query, one image with everything known about it. Read only; every value a request
brings in goes through the search compiler or is a bound parameter."""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Optional

from ..export import infotext
from ..scan import is_video_name
from ..search import CompiledQuery, SearchResult, compile_query, search
from . import links

logger = logging.getLogger(__name__)

PAGE_SIZE = 60
MAX_PAGE_SIZE = 500
FACET_VALUES = 12  # values shown per facet
LORA_KINDS = ("lora", "lycoris")

# facet -> (SQL of the value over images, the search field its links use); the values are the
# canonical names the statistics count, so a facet's number is the grid its link shows
_FACETS = {
    "generator": ("generator", "generator"),
    "model": ("canonical_model", "model"),
    "sampler": ("canonical_sampler", "sampler"),
    "schedule": ("canonical_scheduler", "scheduler"),
    "size": ("CASE WHEN width > 0 AND height > 0 THEN width || 'x' || height END", "size"),
    "month": ("substr(created_at, 1, 7)", "month"),
}
FACETS = (*_FACETS, "lora")


@dataclass(frozen=True)
class FacetValue:
    value: str
    images: int
    url: str  # the search narrowed to it


@dataclass(frozen=True)
class Facet:
    name: str
    values: tuple[FacetValue, ...]


def page(con: sqlite3.Connection, query: str, limit: int = PAGE_SIZE, offset: int = 0) -> SearchResult:
    """One page of hits (path order); QueryError for a query that cannot mean anything."""
    return search(con, compile_query(query), limit=max(0, min(limit, MAX_PAGE_SIZE)), offset=max(0, offset))


def facets(con: sqlite3.Connection, query: str) -> tuple[Facet, ...]:
    compiled = compile_query(query)
    out = []
    for name, (expression, field) in _FACETS.items():
        sql = (f"SELECT v, COUNT(*) FROM (SELECT {expression} AS v FROM images WHERE {compiled.where}) "
               f"WHERE v IS NOT NULL AND v != '' GROUP BY v ORDER BY 2 DESC, 1 LIMIT {FACET_VALUES}")
        out.append(_facet(name, field, query, con.execute(sql, compiled.params)))
    out.append(_lora_facet(con, compiled, query))
    return tuple(f for f in out if f.values)


def _facet(name: str, field: str, query: str, rows) -> Facet:
    return Facet(name, tuple(FacetValue(str(v), n, links.search_url(links.narrowed(query, links.condition(field, v))))
                             for v, n in rows))


def _lora_facet(con: sqlite3.Connection, compiled: CompiledQuery, query: str) -> Facet:
    marks = ", ".join("?" for _ in LORA_KINDS)
    rows = con.execute(
        f"SELECT COALESCE(canonical_name, name), COUNT(DISTINCT image_id) FROM resources WHERE kind IN ({marks}) "
        f"AND image_id IN (SELECT id FROM images WHERE {compiled.where}) GROUP BY 1 ORDER BY 2 DESC, 1 "
        f"LIMIT {FACET_VALUES}", (*LORA_KINDS, *compiled.params))
    return _facet("lora", "lora", query, rows)


# -- one image ---------------------------------------------------------------------------------

# columns shown on the image page, in order (label, column)
SHOWN = (("Generator", "generator"), ("Model", "model"), ("Model hash", "model_hash"), ("VAE", "vae"),
         ("Sampler", "sampler"), ("Schedule", "scheduler"), ("Steps", "steps"), ("CFG scale", "cfg_scale"),
         ("Seed", "seed"), ("Size", None), ("Denoising strength", "denoising_strength"), ("Clip skip", "clip_skip"),
         ("Created", "created_at"), ("Date from", "created_source"), ("Format", "format"),
         ("Pixels", None), ("Duration (s)", "duration_s"), ("Frame rate", "frame_rate"), ("Frames", "frame_count"),
         ("File size", "size_bytes"), ("SHA-256", "sha256"), ("Parser", "parser"),
         ("Status", "parse_status"), ("Error", "error"))


@dataclass(frozen=True)
class ImageDetails:
    id: int
    path: str
    file_name: str
    prompt: Optional[str]
    negative_prompt: Optional[str]
    fields: tuple[tuple[str, str], ...]  # (label, value) of every known column
    params: tuple[tuple[str, str], ...]  # every parsed key/value (params_json), as text
    resources: tuple[tuple[str, str, str, str], ...]  # (kind, name, weight, hash)
    stages: tuple[tuple[Any, ...], ...]
    infotext: str
    related: tuple[tuple[str, str], ...]  # (label, /search URL): same seed, prompt, model and settings
    is_video: bool = False  # shown in a <video> player, its poster frame as the thumbnail


def image(con: sqlite3.Connection, image_id: int) -> Optional[ImageDetails]:
    row = con.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
    if row is None:
        return None
    rec = dict(row)
    try:
        params = json.loads(rec["params_json"]) if rec.get("params_json") else {}
    except ValueError:
        params = {}
    fields = []
    for label, column in SHOWN:
        if label == "Size":
            value = f"{rec['width']}x{rec['height']}" if rec.get("width") and rec.get("height") else None
        elif label == "Pixels":
            value = (f"{rec['image_width']}x{rec['image_height']}" if rec.get("image_width") and rec.get("image_height")
                     else None)
        else:
            value = rec.get(column)
        if value not in (None, ""):
            fields.append((label, _text(value)))
    resources = tuple((r["kind"], r["name"], "" if r["weight"] is None else _text(r["weight"]), r["hash"] or "")
                      for r in con.execute("SELECT kind, name, weight, hash FROM resources WHERE image_id = ? "
                                           "ORDER BY kind, name", (image_id,)))
    stages = tuple(tuple(r) for r in con.execute(
        "SELECT stage, role, sampler, scheduler, steps, cfg_scale, denoise, seed, model FROM stages WHERE image_id = ? "
        "ORDER BY stage", (image_id,)))
    rec["params"] = params if isinstance(params, dict) else {}
    return ImageDetails(
        id=image_id, path=rec["path"], file_name=rec["file_name"], prompt=rec.get("prompt"),
        negative_prompt=rec.get("negative_prompt"), fields=tuple(fields),
        params=tuple((str(k), _text(v)) for k, v in rec["params"].items()),
        resources=resources, stages=stages,
        infotext=infotext(rec) if rec.get("parse_status") == "ok" else "",
        related=_related(rec), is_video=is_video_name(rec["path"]))


def _related(rec: dict) -> tuple[tuple[str, str], ...]:
    out = []
    if rec.get("seed") is not None:
        out.append(("same seed", links.search_url(links.condition("seed", rec["seed"]))))
    if rec.get("prompt"):
        # the prompt as a phrase of the prompt index: the images whose prompt holds all of it
        # (its first 40 words: a phrase cut inside a word would not find the image itself)
        out.append(("same prompt", links.search_url("prompt:" + links.quoted(" ".join(rec["prompt"].split()[:40])))))
    settings = [links.condition(field, rec[column]) for field, column in
                (("model", "model"), ("sampler", "sampler"), ("scheduler", "scheduler"), ("steps", "steps"),
                 ("cfg", "cfg_scale")) if rec.get(column) not in (None, "")]
    if rec.get("model") and len(settings) > 1:
        out.append(("same model and settings", links.search_url(" ".join(settings))))
    return tuple(out)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def file_source(con: sqlite3.Connection, image_id: int) -> Optional[sqlite3.Row]:
    """The row's file facts (for serving it): only a path the database holds is ever served."""
    return con.execute("SELECT path, sha256, size_bytes, mtime_ns, format FROM images WHERE id = ?",
                       (image_id,)).fetchone()
