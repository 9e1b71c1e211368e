"""The local browser's pages (Flask): the dashboard, search with facets and a thumbnail grid,
one image's page, the files and thumbnails of indexed images, and a JSON API.

Read only: the database is opened with ``mode=ro`` and no route writes (anything but GET and
HEAD is 405). A file is served only as the row it belongs to (``/file/ID``): no path ever comes
from the request. A request whose Host is not the name the server was bound to is refused,
so a web page elsewhere cannot reach this server through DNS rebinding. Prompts and every
other value are rendered as text (Jinja2 escapes them), and the pages run no inline script
(Content-Security-Policy: only this server's own files).
"""
from __future__ import annotations

import logging
import mimetypes
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Optional

from flask import Flask, Response, abort, jsonify, render_template, request, send_file

from .. import db
from ..analysis import AnalysisOptions, analyse
from ..errors import ExifDataError
from ..safe_files import open_regular
from ..scan import is_video_name
from ..search import QueryError
from ..thumbnails import DEFAULT_SIZE, SIZES, Source, ThumbnailError, thumbnail_bytes
from . import links, queries
from .state import PerState

logger = logging.getLogger(__name__)

# a server bound to one of these answers to the others too: they are the same machine's loopback
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})
DASHBOARD_ROWS = 15  # values per parameter on the dashboard (the search page's facets have the rest)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def allowed_hosts(bound: str) -> Optional[frozenset]:
    """The Host names a server bound to ``bound`` answers to; None: any (bound to every address)."""
    if bound in ANY_ADDRESS:
        return None
    return LOOPBACK_NAMES if bound in LOOPBACK_NAMES else frozenset({bound.lower()})


def host_name(host_header: str) -> str:
    """'127.0.0.1:8770' -> '127.0.0.1'; '[::1]:8770' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(db_path: Path, thumbnail_dir: Optional[Path], bound_host: str = "127.0.0.1") -> Flask:
    db_path = Path(db_path)
    db.connect(db_path, readonly=True).close()  # a missing or foreign database fails now, not per request
    app = Flask(__name__)
    app.jinja_env.tests["video"] = is_video_name  # {% if h.file_name is video %}: the grid marks videos
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=1024)
    hosts = allowed_hosts(bound_host)
    local = threading.local()

    def con():
        if getattr(local, "con", None) is None:
            local.con = db.connect(db_path, readonly=True)  # one per server thread, read only
        return local.con

    dashboard_cache = PerState(db_path, lambda: computed_apart(db_path))

    @app.before_request
    def check_request():
        if hosts is not None and host_name(request.host) not in hosts:
            return Response(f"This server answers to {bound_host} only, not to {request.host!r}.\n", 421,
                            mimetype="text/plain")
        if request.method not in ("GET", "HEAD"):
            return Response("Read only: nothing here can be changed.\n", 405, {"Allow": "GET, HEAD"},
                            mimetype="text/plain")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError):
        if request.path.startswith("/api/"):
            return jsonify(error=str(exc)), 400
        return render_template("error.html", title="Search", message=str(exc), query=request.args.get("q", "")), 400

    @app.errorhandler(ExifDataError)
    def database_problem(exc: ExifDataError):
        if request.path.startswith("/api/"):
            return jsonify(error=str(exc)), 503
        return render_template("error.html", title="Database", message=str(exc), query=""), 503

    @app.get("/")
    def dashboard():
        data = dashboard_cache.get()
        return render_template("dashboard.html", analysis=data, sections=data.sections, query="",
                               model_url=lambda name: links.parameter_url("Model", name))

    @app.get("/search")
    def search_page():
        q = request.args.get("q", "")
        offset = _int_arg("offset", 0)
        result = queries.page(con(), q, offset=offset)
        pager = _pager(q, offset, result.total)
        return render_template("search.html", result=result, query=q, facets=queries.facets(con(), q),
                               offset=offset, pager=pager)

    @app.get("/image/<int:image_id>")
    def image_page(image_id: int):
        details = queries.image(con(), image_id)
        if details is None:
            abort(404)
        return render_template("image.html", image=details, query="")

    @app.get("/file/<int:image_id>")
    def original(image_id: int):
        row = queries.file_source(con(), image_id)
        if row is None:
            abort(404)
        try:
            fh = open_regular(row["path"])
        except (OSError, ExifDataError):
            return Response("The file of this image is not there any more (moved or deleted since it was "
                            "indexed).\n", 404, mimetype="text/plain")
        mime = mimetypes.guess_type(row["path"])[0] or "application/octet-stream"
        if not mime.startswith(("image/", "video/")) or mime == "image/svg+xml":
            mime = "application/octet-stream"
        # Range requests (a video player seeks with them): Werkzeug answers them only when it knows
        # the length, which it does not take from an open file
        size = os.fstat(fh.fileno()).st_size
        response = send_file(fh, mimetype=mime, download_name=Path(row["path"]).name, max_age=3600,
                             conditional=False)
        return response.make_conditional(request.environ, accept_ranges=True, complete_length=size)

    @app.get("/thumb/<int:image_id>")
    def thumbnail(image_id: int):
        size = _int_arg("size", DEFAULT_SIZE)
        if size not in SIZES:
            size = DEFAULT_SIZE
        row = queries.file_source(con(), image_id)
        if row is None:
            abort(404)
        try:
            data = thumbnail_bytes(Source(row["path"], row["sha256"], row["size_bytes"], row["mtime_ns"]),
                                   thumbnail_dir, size)
        except (ThumbnailError, ExifDataError, OSError) as exc:
            logger.info("no thumbnail for image %d: %s", image_id, exc)
            return app.send_static_file("missing.svg"), 404
        response = Response(data, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response

    @app.get("/api/search")
    def api_search():
        q = request.args.get("q", "")
        result = queries.page(con(), q, limit=_int_arg("limit", 50), offset=_int_arg("offset", 0))
        return jsonify(query=result.query, total=result.total, offset=_int_arg("offset", 0), limit=result.limit,
                       notes=list(result.notes), elapsed_ms=round(result.elapsed * 1000, 2),
                       hits=[_hit(h) for h in result.hits])

    @app.get("/api/stats")
    def api_stats():
        q = request.args.get("q", "")
        total = queries.page(con(), q, limit=0).total
        return jsonify(query=q, total=total, facets={f.name: [{"value": v.value, "images": v.images} for v in f.values]
                                                    for f in queries.facets(con(), q)})

    return app


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    try:
        return max(0, int(raw)) if raw.strip() else default
    except ValueError:
        raise QueryError(f"'{name}' must be a whole number, not {raw[:40]!r}") from None


def _pager(q: str, offset: int, total: int) -> dict:
    size = queries.PAGE_SIZE
    return {"previous": links.search_url(q, max(0, offset - size)) if offset > 0 else None,
            "next": links.search_url(q, offset + size) if offset + size < total else None,
            "first": offset + 1 if total else 0, "last": min(total, offset + size)}


def _hit(hit) -> dict:
    out = asdict(hit)
    if isinstance(out.get("seed"), int) and abs(out["seed"]) > 2 ** 53:
        out["seed"] = str(out["seed"])  # JavaScript keeps 53 bits
    out["url"] = f"/image/{hit.id}"
    out["thumbnail"] = f"/thumb/{hit.id}"
    return out


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows: small, made in a process of its own."""
    db_path: str
    images: int
    sections: tuple
    model_cards: tuple


def dashboard_of(db_path: Path) -> Dashboard:
    """The statistics' own analysis (every file counted, no de-duplication, so that each number is
    the grid its link shows), reduced to what the dashboard shows."""
    con = db.connect(db_path, readonly=True)
    try:
        analysis = analyse(con, AnalysisOptions(dedupe=False, topics=0), db_path=str(db_path))
    finally:
        con.close()
    return Dashboard(str(db_path), analysis.images, tuple(dashboard_sections(analysis)), analysis.model_cards[:50])


def computed_apart(db_path: Path) -> Dashboard:
    """``dashboard_of`` in a fresh process that ends with it: the analysis of a large library
    takes hundreds of MB for a few seconds, and the server should not keep them."""
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), max_tasks_per_child=1) as pool:
            return pool.submit(dashboard_of, Path(db_path)).result()
    except (BrokenProcessPool, OSError) as exc:  # no process to be had (a frozen or embedded interpreter)
        logger.warning("the dashboard's analysis runs in the server itself: %s", exc)
        return dashboard_of(Path(db_path))


def dashboard_sections(analysis) -> list[dict]:
    """The dashboard's bar lists: every value links to the search of its images."""
    sections = []
    for counts in analysis.parameters:
        if not counts.items:
            continue
        top = max(n for _, n in counts.items)
        sections.append({"title": counts.name, "anchor": counts.name.lower().replace(" ", "-"),
                         "total": counts.total, "more": max(0, len(counts.items) - DASHBOARD_ROWS),
                         "rows": [{"value": v, "images": n, "max": top, "url": links.parameter_url(counts.name, v)}
                                  for v, n in counts.items[:DASHBOARD_ROWS]]})
    if analysis.lora.loras:
        top = max(s.images for s in analysis.lora.loras)
        sections.append({"title": "LoRA", "anchor": "lora", "total": analysis.lora.images_with_lora,
                         "more": max(0, len(analysis.lora.loras) - DASHBOARD_ROWS),
                         "rows": [{"value": s.name, "images": s.images, "max": top,
                                   "url": links.parameter_url("LoRA", s.name)}
                                  for s in analysis.lora.loras[:DASHBOARD_ROWS]]})
    stages = analysis.stages.later_passes
    if stages:
        top = max(p.images for p in stages)
        sections.append({"title": "Later passes", "anchor": "stages", "total": analysis.stages.multi_pass, "more": 0,
                         "rows": [{"value": p.role, "images": p.images, "max": top,
                                   "url": links.search_url(links.condition("stage", p.role))} for p in stages]})
    co = analysis.co_use
    for table, fields in ((co.lora_model, ("lora", "model")), (co.lora_lora, ("lora", "lora"))) if co else ():
        if not table.pairs:
            continue
        top = max(p.both for p in table.pairs)
        rows = [{"value": f"{p.a} + {p.b}", "images": p.both, "max": top,
                 "url": links.search_url(f"{links.condition(fields[0], p.a)} {links.condition(fields[1], p.b)}")}
                for p in table.pairs[:DASHBOARD_ROWS]]
        sections.append({"title": f"{table.a_name} + {table.b_name}", "anchor": f"co-use-{table.kind}",
                         "total": table.images, "more": max(0, len(table.pairs) - DASHBOARD_ROWS), "rows": rows})
    months = _months(analysis)
    if months:
        top = max(n for _, n in months)
        sections.append({"title": "Month", "anchor": "month", "total": sum(n for _, n in months), "more": 0,
                         "rows": [{"value": m, "images": n, "max": top,
                                   "url": links.search_url(links.condition("month", m))} for m, n in months]})
    return sections


def _months(analysis):
    trends = analysis.trends
    return [(str(month), int(n)) for month, n in zip(trends.months, trends.images) if n]
