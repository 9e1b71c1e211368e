"""Videos and animations as ComfyUI's savers write them, indexed by the real pipeline: MP4/MOV from
core SaveVideo (PyAV with ``movflags=use_metadata_tags``: ``Keys:Prompt``/``Keys:Workflow``), MP4
and WebM from VideoHelperSuite (one JSON ``comment``), animated WebP from SaveAnimatedWEBP (EXIF
``Model``/``Make``), APNG from SaveAnimatedPNG (text chunks), a GIF. Each is written with the
library those nodes use (PyAV, Pillow) and read back through ExifTool."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from exifdata_analytics import db
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.motion import Motion, duration_seconds, motion_of
from exifdata_analytics.samples import comfyui_graph
from exifdata_analytics.search import search
from exifdata_analytics.thumbnails import ThumbnailError, render
from tests.conftest import rows
from tests.schema_support import as_schema_4

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

W, H, FPS, FRAMES = 96, 64, 8, 12  # 1.5 s


def _graph(prompt: str, **kw):
    api, workflow, truth = comfyui_graph(prompt, "blurry", model="wan2.2_t2v.safetensors", width=W, height=H,
                                         steps=kw.pop("steps", 20), seed=kw.pop("seed", 11), **kw)
    return api, workflow, truth


def write_video(path: Path, metadata: dict, *, options: dict | None = None, codec: str = "libx264",
                creation_time: str | None = None) -> Path:
    """FRAMES frames of W x H at FPS, tagged as the saver does (PyAV, as ComfyUI itself)."""
    with av.open(str(path), mode="w", options=options or {}) as out:
        for key, value in metadata.items():
            out.metadata[key] = value
        if creation_time:
            out.metadata["creation_time"] = creation_time
        stream = out.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(FRAMES):
            pixels = np.zeros((H, W, 3), np.uint8)
            pixels[:, : (i + 1) * W // FRAMES] = (200, 40, 40)  # a red bar that grows: frame 0 is mostly black
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _frames():
    from PIL import Image
    return [Image.new("RGB", (W, H), (30 * i % 255, 90, 160)) for i in range(10)]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    folder = root / "out"
    folder.mkdir()
    truths = {}
    api, workflow, truths["savevideo.mp4"] = _graph("a fox running through snow", seed=1)
    write_video(folder / "savevideo.mp4", {"prompt": api, "workflow": workflow},
                options={"movflags": "use_metadata_tags"}, creation_time="2025-03-04T05:06:07.000000Z")
    api, workflow, truths["savevideo.mov"] = _graph("a lighthouse in a storm", seed=2)
    write_video(folder / "savevideo.mov", {"prompt": api, "workflow": workflow},
                options={"movflags": "use_metadata_tags"})
    # VideoHelperSuite: {"prompt": "<API graph as a string>", "workflow": {…}} in one comment
    api, workflow, truths["vhs.mp4"] = _graph("a koi pond at dawn", seed=3, steps=24)
    write_video(folder / "vhs.mp4", {"comment": json.dumps({"prompt": api, "workflow": json.loads(workflow)})})
    api, workflow, truths["vhs.webm"] = _graph("a paper boat on a river", seed=4, steps=28)
    write_video(folder / "vhs.webm", {"comment": json.dumps({"prompt": api, "workflow": json.loads(workflow)})},
                codec="libvpx-vp9", creation_time="2025-06-01T10:00:00.000000Z")
    from PIL import Image, PngImagePlugin
    frames = _frames()
    # SaveAnimatedWEBP: EXIF Model = 'prompt:{…}', Make = 'workflow:{…}'
    api, workflow, truths["anim.webp"] = _graph("a hummingbird at a flower", seed=5)
    exif = Image.Exif()
    exif[0x0110], exif[0x010F] = "prompt:" + api, "workflow:" + workflow
    frames[0].save(folder / "anim.webp", save_all=True, append_images=frames[1:], duration=125, loop=0,
                   exif=exif.tobytes(), lossless=True)
    # SaveAnimatedPNG: text chunks as SaveImage writes them
    api, workflow, truths["anim.png"] = _graph("a jellyfish glowing", seed=6)
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", api)
    info.add_text("workflow", workflow)
    frames[0].save(folder / "anim.png", save_all=True, append_images=frames[1:], duration=100, loop=0,
                   pnginfo=info)
    frames[0].save(folder / "plain.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    frames[0].save(folder / "still.png")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    db_path = root / "v.db"
    summary = fill(FillOptions(root=str(folder), recursive=False, db_path=db_path, workers=1))
    return folder, db_path, truths, summary


def _row(db_path: Path, name: str) -> dict:
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("SELECT * FROM images WHERE file_name = ?", (name,)).fetchone())
    finally:
        con.close()


@pytest.mark.parametrize("name", ["savevideo.mp4", "savevideo.mov", "vhs.mp4", "vhs.webm", "anim.webp", "anim.png"])
def test_every_saver_s_file_gives_its_recipe(library, name):
    _, db_path, truths, _ = library
    row, truth = _row(db_path, name), truths[name]
    assert row["parse_status"] == "ok" and row["generator"] == "ComfyUI", row["error"]
    for column in ("prompt", "negative_prompt", "steps", "seed", "sampler", "scheduler", "cfg_scale", "model",
                   "width", "height"):
        assert row[column] == truth[column], column
    assert (row["image_width"], row["image_height"]) == (W, H)


def test_videos_and_animations_carry_their_motion(library):
    _, db_path, _, summary = library
    got = {r[0]: r[1:] for r in rows(db_path, "SELECT file_name, format, duration_s, frame_rate, frame_count "
                                              "FROM images")}
    for name in ("savevideo.mp4", "vhs.mp4"):
        assert got[name] == ("MP4", 1.5, 8.0, None)  # an MP4 does not record its frame count
    assert got["savevideo.mov"] == ("MOV", 1.5, 8.0, None)
    assert got["vhs.webm"] == ("WEBM", 1.5, 8.0, None)
    assert got["anim.webp"][:2] == ("WEBP", 1.25)  # 10 frames of 125 ms; ExifTool gives no count for WebP
    assert got["anim.png"] == ("APNG", None, None, 10)  # APNG: the frames, no total delay from ExifTool
    assert got["plain.gif"] == ("GIF", 0.5, 20.0, 10)  # 10 frames over 0.5 s: the mean rate
    assert got["still.png"] == ("PNG", None, None, None)
    # a broken video is a row with a reason, never a crash
    assert got["broken.mp4"][0] == "MP4" and summary.found == 9


def test_a_video_s_container_date_is_its_creation_time_in_utc(library):
    _, db_path, _, _ = library
    assert (_row(db_path, "savevideo.mp4")["created_at"], _row(db_path, "savevideo.mp4")["created_source"]) == \
        ("2025-03-04T05:06:07+00:00", "embedded")
    assert _row(db_path, "vhs.webm")["created_at"] == "2025-06-01T10:00:00+00:00"
    # ffmpeg writes 0000:00:00 when no time was set: not a date, so the next source dates the file
    assert _row(db_path, "vhs.mp4")["created_source"] == "mtime"


def test_search_finds_videos_by_format_and_motion(library):
    _, db_path, _, _ = library
    con = db.connect(db_path, readonly=True)
    try:
        def names(q):
            return sorted(h.file_name for h in search(con, q, limit=None).hits)
        assert names("format:mp4") == ["broken.mp4", "savevideo.mp4", "vhs.mp4"]
        assert names("duration>1") == ["anim.webp", "savevideo.mov", "savevideo.mp4", "vhs.mp4", "vhs.webm"]
        assert names("duration>0 -format:webp -format:gif") == ["savevideo.mov", "savevideo.mp4", "vhs.mp4",
                                                                 "vhs.webm"]
        assert names("frames>=10") == ["anim.png", "plain.gif"]
        assert names("fps>10") == ["plain.gif"]
        assert names("koi duration:1..2") == ["vhs.mp4"]
        # NOT keeps what has no value: the stills and the broken file have no duration
        assert "still.png" in names("-duration>1") and "broken.mp4" in names("NOT duration>1")
    finally:
        con.close()


def test_a_video_s_thumbnail_is_its_first_frame(library):
    from io import BytesIO

    from PIL import Image
    folder, _, _, _ = library
    for name in ("savevideo.mp4", "vhs.webm", "savevideo.mov"):
        with Image.open(BytesIO(render(str(folder / name), 96))) as im:
            assert im.format == "JPEG" and im.size == (W, H)
            left, right = im.getpixel((2, 30)), im.getpixel((90, 30))
            assert left[0] > 120 and right[0] < 60  # frame 0: the red bar only at the left
    with pytest.raises(ThumbnailError, match="no poster frame"):
        render(str(folder / "broken.mp4"), 160)


def test_the_migration_fills_the_motion_of_animations_already_indexed(library, tmp_path):
    import shutil
    _, db_path, _, _ = library
    old = tmp_path / "old.db"
    shutil.copy(db_path, old)
    before = rows(old, "SELECT file_name, duration_s, frame_rate, frame_count FROM images "
                       "WHERE format IN ('GIF', 'WEBP', 'APNG') ORDER BY 1")
    con = sqlite3.connect(old)
    as_schema_4(con)
    con.close()
    db.connect(old).close()
    assert rows(old, "PRAGMA user_version")[0][0] == db.SCHEMA_VERSION
    assert rows(old, "SELECT file_name, duration_s, frame_rate, frame_count FROM images "
                     "WHERE format IN ('GIF', 'WEBP', 'APNG') ORDER BY 1") == before
    assert len(before) == 3 and all(r[1] or r[3] for r in before)


@pytest.mark.parametrize("value, seconds", [
    ("1.50 s", 1.5), ("0 s", None), ("0:01:05", 65.0), ("1 days 0:00:01", 86401.0),
    ("00:00:01.500000000", 1.5), (2.25, 2.25), ("", None), ("abc", None), (True, None), (-3, None),
    ("99 days 0:00:00", None),  # a broken header, not a generated video
])
def test_durations_in_exiftool_s_forms(value, seconds):
    assert duration_seconds(value) == seconds


def test_motion_of_tags_without_motion_is_still():
    assert motion_of({"File:FileType": "PNG", "PNG:ImageWidth": 8}) == Motion()
    assert motion_of({"GIF:FrameCount": 1}) == Motion()  # a GIF of one frame is a still
    assert motion_of({"Track1:VideoFrameRate": "junk", "QuickTime:Duration": "2.00 s"}) == Motion(2.0, None, None)


@pytest.fixture(scope="module")
def served(library, tmp_path_factory):
    from tests.test_web import Served
    _, db_path, _, _ = library
    server = Served(db_path, tmp_path_factory.mktemp("video-thumbs"))
    yield server
    server.close()


def _id(db_path: Path, name: str) -> int:
    return _row(db_path, name)["id"]


def test_the_browser_shows_plays_and_streams_a_video(library, served):
    import http.client
    import re
    _, db_path, _, _ = library
    page = served.get("/search?q=format:mp4")
    assert page.count('class="badge video"') == 3  # every video tile is marked
    assert 'class="badge video"' not in served.get("/search?q=format:apng")
    vid = _id(db_path, "vhs.mp4")
    image_page = served.get(f"/image/{vid}")
    assert re.search(rf'<video id="video" controls preload="metadata" poster="/thumb/{vid}\?size=320" '
                     rf'src="/file/{vid}">', image_page)
    assert "<th>Duration (s)</th><td>1.5</td>" in image_page and "<th>Frame rate</th><td>8</td>" in image_page
    status, headers, body = served.request(f"/thumb/{vid}?size=320")
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    # the player seeks with Range requests
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        conn.request("GET", f"/file/{vid}", headers={"Host": f"127.0.0.1:{served.port}", "Range": "bytes=0-99"})
        response = conn.getresponse()
        part = response.read()
        assert response.status == 206 and response.getheader("Content-Type") == "video/mp4" and len(part) == 100
    finally:
        conn.close()
    assert part == (library[0] / "vhs.mp4").read_bytes()[:100]


def test_a_real_browser_plays_the_video_of_an_image_page(library, served, browser):
    _, db_path, _, _ = library
    browser.get(f"http://127.0.0.1:{served.port}/image/{_id(db_path, 'vhs.webm')}")
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return document.getElementById('video').readyState") >= 1)
    duration = browser.execute_script("return document.getElementById('video').duration")
    assert abs(duration - 1.5) < 0.05
    poster = browser.execute_script("""const img = new Image(); img.src = document.getElementById('video').poster;
        return img.decode().then(() => img.naturalWidth)""")
    assert poster == W


def test_the_statistics_count_videos_and_animations_with_their_play_time(library, tmp_path):
    from exifdata_analytics.analysis import AnalysisOptions, analyse
    from exifdata_analytics.reports import write_text_reports
    _, db_path, _, _ = library
    con = db.connect(db_path, readonly=True)
    try:
        analysis = analyse(con, AnalysisOptions(topics=0))
    finally:
        con.close()
    v = analysis.videos
    # five video files (the broken MP4 too: a container without a readable header still is one), three
    # animations (GIF, WebP, APNG with 10 frames); the still PNG does not move
    assert (v.images, v.videos, v.animations, v.moving) == (9, 5, 3, 8)
    by_format = {f.format: (f.kind, f.files, f.with_duration, f.play_time_s) for f in v.formats}
    assert by_format == {"MP4": ("video", 3, 2, 3.0), "MOV": ("video", 1, 1, 1.5), "WEBM": ("video", 1, 1, 1.5),
                         "WEBP": ("animation", 1, 1, 1.25), "APNG": ("animation", 1, 0, 0.0),
                         "GIF": ("animation", 1, 1, 0.5)}
    assert (v.with_duration, v.play_time_s, v.shortest_s, v.longest_s, v.median_duration_s) == (6, 7.75, 0.5, 1.5, 1.5)
    assert dict(v.durations) == {"under 2 s": 6, "2-5 s": 0, "5-10 s": 0, "10-30 s": 0, "30 s or more": 0}
    assert v.frame_rates[0] == (8.0, 4) and (20.0, 1) in v.frame_rates
    assert (v.with_frame_count, v.median_frames, v.most_frames) == (2, 10.0, 10)
    # what made them: the six saver files carry a ComfyUI graph (Wan 2.2's model, one name per thing)
    assert v.generators.items == (("ComfyUI", 6),) and v.models.items[0][1] == 6
    written = write_text_reports(analysis, tmp_path / "out")
    text = (tmp_path / "out" / "videos.txt").read_text(encoding="utf-8")
    assert any(p.name == "videos.txt" for p in map(Path, written))
    assert text.startswith("Videos and animations: 8 of 9 images (88.9%): 5 video files")
    assert "Play time: 7.75 s in all; median 1.5 s, shortest 0.5 s, longest 1.5 s (6 files record a play time)." in text


def test_no_videos_no_videos_report_and_an_old_database_counts_videos_by_format(library, tmp_path):
    import shutil
    from exifdata_analytics.analysis import AnalysisOptions, Filters, analyse
    from exifdata_analytics.reports import text_reports
    _, db_path, _, _ = library
    old = tmp_path / "old.db"
    shutil.copy(db_path, old)
    con = sqlite3.connect(old)
    as_schema_4(con)
    con.close()
    # as a reader that cannot upgrade it (a read-only copy) sees it: without the motion columns
    con = sqlite3.connect(f"{old.resolve().as_uri()}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        stills = analyse(con, AnalysisOptions(topics=0, filters=Filters(where=("format:png -format:apng",))))
        old_db = analyse(con, AnalysisOptions(topics=0))
    finally:
        con.close()
    assert stills.images == 1 and stills.videos.moving == 0 and "videos.txt" not in text_reports(stills)
    # no play times in a database from before them: the video files are still counted, by their format
    assert (old_db.videos.videos, old_db.videos.animations, old_db.videos.with_duration) == (5, 0, 0)
