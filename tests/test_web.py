"""The local browser over a real database of real images, served by the real waitress server
on a free port and asked over HTTP: every number links to exactly the images it counts, the
JSON API agrees with the search command, files are served only as rows of the database, the
Host is checked, nothing can be written, and prompts are shown as text."""
from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from exifdata_analytics import db
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.samples import a1111_infotext, comfyui_graph, write_png
from exifdata_analytics.search import search
from exifdata_analytics.web import make_server
from exifdata_analytics.web.app import allowed_hosts, host_name

SCRIPT_PROMPT = 'a <script>alert("x")</script> cat & "friends"'


def _library(root: Path) -> None:
    for folder in ("a1111", "comfy"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    samplers = ["Euler a", "DPM++ 2M", "Euler a", "DDIM", "Euler a", "DPM++ 2M"]
    for i, sampler in enumerate(samplers):
        loras = " <lora:add_detail:0.6>" if i % 2 else ""
        write_png(root / "a1111" / f"{i:02d}.png", {"parameters": a1111_infotext(
            f"a knight number {i}{loras}", "blurry", {
                "Steps": 20 + i, "Sampler": sampler, "Schedule type": "Karras", "CFG scale": 7, "Seed": 100 + i,
                "Size": "512x768" if i % 3 else "768x512", "Model": "dreamshaper_8" if i < 4 else "juggernautXL_v9",
                "Version": "v1.10.1"})}, size=(48, 32))
    write_png(root / "a1111" / "script.png", {"parameters": a1111_infotext(SCRIPT_PROMPT, None, {
        "Steps": 30, "Sampler": "Euler", "CFG scale": 5, "Seed": 7, "Size": "512x512", "Model": "dreamshaper_8"})})
    prompt, workflow, _ = comfyui_graph("a castle at dusk", "ugly", model="sd_xl_base_1.0.safetensors", seed=5,
                                        steps=25)
    write_png(root / "comfy" / "castle.png", {"prompt": prompt, "workflow": workflow})
    (root / "hires").mkdir(exist_ok=True)
    write_png(root / "hires" / "dragon.png", {"parameters": a1111_infotext("a dragon", None, {
        "Steps": 24, "Sampler": "Heun", "CFG scale": 6, "Seed": 9, "Size": "512x512", "Model": "dreamshaper_8",
        "Denoising strength": 0.4, "Hires upscale": 2, "Hires steps": 10, "Hires upscaler": "Latent",
        "Version": "v1.10.1"})})
    write_png(root / "plain.png")


class Served:
    def __init__(self, db_path: Path, thumbs: Path, host: str = "127.0.0.1"):
        self.server = make_server(db_path, thumbs, host, 0)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def request(self, path: str, method: str = "GET", host: str = None, body: bytes = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True)
            conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def get(self, path: str) -> str:
        status, _, body = self.request(path)
        assert status == 200, (path, status, body[:300])
        return body.decode("utf-8")

    def api(self, query: str, **params) -> dict:
        extra = "".join(f"&{k}={v}" for k, v in params.items())
        return json.loads(self.get(f"/api/search?q={quote(query)}{extra}"))

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    images = root / "images"
    _library(images)
    db_path = root / "web.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=db_path, workers=1))
    return images, db_path, root / "thumbs"


@pytest.fixture(scope="module")
def served(library):
    _, db_path, thumbs = library
    s = Served(db_path, thumbs)
    yield s
    s.close()


def _total(db_path: Path, query: str) -> int:
    con = db.connect(db_path, readonly=True)
    try:
        return search(con, query, limit=0).total
    finally:
        con.close()


def _links(html: str, css_class: str) -> list[tuple[str, int]]:
    return [(unescape(href), int(n)) for href, n in
            re.findall(rf'class="{css_class}" href="([^"]+)" data-images="(\d+)"', html)]


def _query_of(url: str) -> str:
    from urllib.parse import parse_qs
    return parse_qs(urlsplit(url).query).get("q", [""])[0]


def test_the_api_agrees_with_the_search_command_and_pages(served, library):
    _, db_path, _ = library
    for query in ("", "knight", "sampler:euler", 'sampler="Euler a"', "steps>=23", "model:dreamshaper",
                  "lora:add_detail", "knight -neg:blurry", "castle OR knight", "size:512x768"):
        data = served.api(query)
        assert data["total"] == _total(db_path, query), query
        assert len(data["hits"]) == min(50, data["total"])
    everything = served.api("", limit=100)
    pages = [served.api("", limit=3, offset=o)["hits"] for o in range(0, everything["total"], 3)]
    assert [h["id"] for page in pages for h in page] == [h["id"] for h in everything["hits"]]
    hit = served.api("castle")["hits"][0]
    assert {"id", "path", "generator", "model", "sampler", "seed", "prompt"} <= set(hit)
    assert hit["prompt"] == "a castle at dusk" and hit["generator"] == "ComfyUI" and hit["url"] == f"/image/{hit['id']}"


def test_every_dashboard_bar_and_model_card_links_to_exactly_its_images(served, library):
    _, db_path, _ = library
    html = served.get("/")
    bars = _links(html, "bar-link") + _links(html, "model-card")
    assert len(bars) >= 15
    fields = {_query_of(url).split("=")[0].split(":")[0] for url, _ in bars}
    assert {"sampler", "model", "steps", "cfg", "size", "lora", "generator", "scheduler"} <= fields
    for url, n in bars:
        assert served.api(_query_of(url))["total"] == n, url
    # 'Euler a' is one bar of 3 images; the hires pass of the dragon one of 1
    assert ('/search?q=sampler%3D%22Euler+a%22', 3) in bars
    assert ('/search?q=stage%3D%22hires%22', 1) in bars


def test_facets_narrow_the_query_to_the_images_they_count(served):
    html = served.get("/search?q=" + quote("knight"))
    assert 'data-total="6"' in html
    facets = _links(html, "facet-link")
    assert facets
    for url, n in facets:
        q = _query_of(url)
        assert q.startswith("knight "), q
        assert served.api(q)["total"] == n, q
    stats = json.loads(served.get("/api/stats?q=knight"))
    assert stats["total"] == 6 and {"value": "Euler a", "images": 3} in stats["facets"]["sampler"]
    assert {"value": "add_detail", "images": 3} in stats["facets"]["lora"]


def test_the_grid_pages_through_every_image(served, library):
    _, db_path, _ = library
    html = served.get("/search?q=")
    total = _total(db_path, "")
    assert f'data-total="{total}"' in html and len(re.findall(r'class="tile"', html)) == total


def test_an_image_page_shows_its_parameters_and_its_prompt_as_text(served):
    hit = served.api("sampler:euler steps:30")["hits"][0]
    html = served.get(hit["url"])
    assert "<script>alert" not in html
    assert "a &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; cat &amp; &#34;friends&#34;" in html
    params = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", html))
    assert params["Steps"] == "30" and params["Sampler"] == "Euler" and params["Model"] == "dreamshaper_8"
    assert params["Seed"] == "7" and params["Size"] == "512x512"
    assert 'id="infotext"' in html and 'data-copy="infotext"' in html
    knight = served.api("knight lora:add_detail")["hits"][0]
    page = served.get(knight["url"])
    assert "<td>lora</td><td>add_detail</td><td>0.6</td>" in page
    related = dict((label, unescape(url)) for url, label in re.findall(r'class="related-link" href="([^"]+)">([^<]+)<', page))
    assert set(related) == {"same seed", "same prompt", "same model and settings"}
    for label, url in related.items():
        ids = [h["id"] for h in served.api(_query_of(url), limit=100)["hits"]]
        assert knight["id"] in ids, label


def test_files_are_served_only_as_rows_of_the_database(served, library):
    images, _, _ = library
    hit = served.api("castle")["hits"][0]
    status, headers, body = served.request(f"/file/{hit['id']}")
    assert status == 200 and body == Path(hit["path"]).read_bytes() and headers["Content-Type"] == "image/png"
    for path in ("/file/999999", "/file/../../etc/passwd", "/file/%2e%2e%2fetc%2fpasswd", "/file/-1",
                 f"/file/{hit['id']}/../../etc/passwd", "/static/../../../../etc/passwd", "/etc/passwd"):
        status, _, body = served.request(path)
        assert status == 404 and b"root:" not in body, path


def test_thumbnails_are_made_once_and_cached_by_content(served, library):
    _, _, thumbs = library
    hit = served.api("knight")["hits"][0]
    status, headers, first = served.request(f"/thumb/{hit['id']}")
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and first[:2] == b"\xff\xd8"
    cached = list(thumbs.rglob("*-160.jpg"))
    assert cached and any(p.read_bytes() == first for p in cached)
    cached_file = next(p for p in cached if p.read_bytes() == first)
    stamp = cached_file.stat().st_mtime_ns
    assert served.request(f"/thumb/{hit['id']}")[2] == first and cached_file.stat().st_mtime_ns == stamp
    status, _, big = served.request(f"/thumb/{hit['id']}?size=320")  # the image page's size, cached on its own
    assert status == 200 and any(p.read_bytes() == big for p in thumbs.rglob("*-320.jpg"))


def test_a_missing_file_gets_a_clear_404_and_a_placeholder(library, tmp_path):
    images, db_path, _ = library
    copy_root = tmp_path / "copy"
    shutil.copytree(images, copy_root)
    copy_db = tmp_path / "copy.db"
    fill(FillOptions(root=str(copy_root), recursive=True, db_path=copy_db, workers=1))
    (copy_root / "comfy" / "castle.png").unlink()
    s = Served(copy_db, tmp_path / "thumbs")
    try:
        hit = s.api("castle")["hits"][0]
        status, _, body = s.request(f"/file/{hit['id']}")
        assert status == 404 and b"not there any more" in body
        status, headers, body = s.request(f"/thumb/{hit['id']}")
        assert status == 404 and headers["Content-Type"].startswith("image/svg") and b"no preview" in body
    finally:
        s.close()


def test_other_hosts_writes_and_bad_queries_are_refused(served):
    for host in ("evil.example", "evil.example:80", f"127.0.0.2:{served.port}", "attacker.127.0.0.1.nip.io"):
        status, _, body = served.request("/api/search?q=", host=host)
        assert status == 421 and b"answers to 127.0.0.1 only" in body, host
    assert served.request("/", host=f"localhost:{served.port}")[0] == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = served.request("/api/search?q=", method=method, body=b"x=1")
        assert status == 405 and headers["Allow"] == "GET, HEAD", method
    status, headers, body = served.request("/api/search?q=" + quote("steps>=many"))
    assert status == 400 and "needs a number" in json.loads(body)["error"]
    status, _, body = served.request("/search?q=" + quote("steps>=many"))
    assert status == 400 and b"needs a number" in body
    status, headers, _ = served.request("/")
    assert "default-src 'self'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in served.get("/").split("</head>")[1]  # no inline script in any page body


def test_the_dashboard_is_recomputed_after_the_database_changed(library, tmp_path):
    images, _, _ = library
    root = tmp_path / "grow"
    shutil.copytree(images / "a1111", root)
    grow_db = tmp_path / "grow.db"
    fill(FillOptions(root=str(root), recursive=True, db_path=grow_db, workers=1))
    s = Served(grow_db, tmp_path / "thumbs")
    try:
        def shown() -> int:
            return int(re.search(r'id="total-images">([\d,]+)<', s.get("/")).group(1).replace(",", ""))
        assert shown() == 7
        write_png(root / "new.png", {"parameters": a1111_infotext("a new dragon", None, {"Steps": 9, "Seed": 1})})
        fill(FillOptions(root=str(root), recursive=True, db_path=grow_db, workers=1))
        assert shown() == 8
    finally:
        s.close()


def test_host_rules():
    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("::") is None
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("192.168.1.5") == {"192.168.1.5"}
    assert host_name("[::1]:8770") == "::1" and host_name("LocalHost:8770") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
