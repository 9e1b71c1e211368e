"""Hostile file contents through the real DB_filler.py.

Every file gets exactly one row (error, no_metadata or unparsed with a reason, or ok where
the data is valid), the run finishes with exit 0, the database passes its integrity check,
and the peak memory of DB_filler.py and its ExifTool processes stays bounded (os.wait4).
"""
from __future__ import annotations

import json
import random
import struct
import zlib
from pathlib import Path

import pytest

from exifdata_analytics.samples import (a1111_infotext, build_exif, comfyui_graph, make_pixels, write_jpeg,
                                        write_png, write_webp)
from tests.robust_support import db_rows, integrity, run_measured, summary_count, write_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GOOD = a1111_infotext("a cat", "dog", {"Steps": 20, "Sampler": "Euler", "CFG scale": 7})
ANY_FAILURE = {"error", "no_metadata", "unparsed"}
# Generous bounds on the peak resident set (measured on the 2-core CI machine: ~60 MB for
# the broken files, ~300 MB with an 8K decompression bomb, ~520 MB for a 50 MB text chunk).
PEAK_SMALL_MB = 600
PEAK_50MB_TEXT_MB = 1200


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, color_type: int, idat: bytes, text: dict | None = None) -> bytes:
    out = PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
    for key, value in (text or {}).items():
        out += _png_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    return out + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _zero_rows_bomb(side: int) -> bytes:
    """An RGBA PNG of side x side transparent-black pixels: ~1,000:1 compression, so a file
    of a few hundred KB decodes to side*side*4 bytes."""
    comp = zlib.compressobj(9)
    row = b"\0" * (side * 4 + 1)
    return _png(side, side, 6, b"".join(comp.compress(row) for _ in range(side)) + comp.flush())


def _exif_with_user_comment_bytes(payload: bytes) -> bytes:
    """An EXIF block whose UserComment holds exactly ``payload`` (prefix included): built with
    a placeholder of the same length, then patched, so every offset stays right."""
    filler = "Q" * ((len(payload) - 8 + 1) // 2)
    blob = build_exif(user_comment=filler)
    marker = b"UNICODE\0" + filler.encode("utf-16-be")
    assert blob.count(marker) == 1
    return blob.replace(marker, payload.ljust(len(marker), b"\0"))


USER_COMMENTS = {
    # name: (UserComment bytes, expected status set, expected prompt start or None)
    "uc_ascii_invalid_utf8": (b"ASCII\0\0\0a cat \xff\xfe\xc3\x28 \xe2\x82\nSteps: 20, Sampler: Euler, CFG scale: 7",
                              {"ok"}, "a cat"),
    "uc_undefined_invalid_utf8": (b"\0" * 8 + b"\xc3\x28\xa0\xa1 prompt \xf0\x28\x8c\xbc", ANY_FAILURE, None),
    "uc_utf16_lone_surrogate": (b"UNICODE\0" + "a cat ".encode("utf-16-be") + b"\xd8\x00\x00x"
                                + "\nSteps: 20, Sampler: Euler, CFG scale: 7".encode("utf-16-be"), {"ok"}, "a cat"),
    "uc_utf16_odd_length": (b"UNICODE\0" + GOOD.encode("utf-16-be") + b"\x41", {"ok"}, "a cat"),
    "uc_utf16_wrong_byte_order": (b"UNICODE\0" + GOOD.encode("utf-16-le"), {"ok"}, "a cat"),
    "uc_utf16_bom_le": (b"UNICODE\0\xff\xfe" + GOOD.encode("utf-16-le"), {"ok"}, "a cat"),
    "uc_utf16_nul_inside": (b"UNICODE\0" + "a\0cat\0\0\nSteps: 20, Sampler: Euler".encode("utf-16-be"),
                            ANY_FAILURE | {"ok"}, None),
    "uc_jis": (b"JIS\0\0\0\0\0\x1b$B%F%9%H\x1b(B", ANY_FAILURE, None),
    "uc_prefix_only": (b"UNICODE\0", {"no_metadata"}, None),
    "uc_all_ff": (b"\xff" * 48, ANY_FAILURE, None),
}


@pytest.fixture
def broken_files(tmp_path: Path) -> tuple[Path, dict]:
    """Broken, random, truncated, bomb and hostile-UserComment files; name -> (statuses, prompt)."""
    root = tmp_path / "hostile"
    root.mkdir()
    expect: dict[str, tuple[set, str | None]] = {}
    for ext in ("png", "jpg", "webp"):
        (root / f"zero.{ext}").write_bytes(b"")
        expect[f"zero.{ext}"] = ({"error"}, None)
    data = write_png(root / "full.png", {"parameters": GOOD}, size=(256, 256)).read_bytes()
    (root / "full.png").unlink()
    (root / "trunc_half.png").write_bytes(data[: len(data) // 2])  # text chunk before IDAT survives
    expect["trunc_half.png"] = ({"ok"}, "a cat")
    (root / "trunc_signature.png").write_bytes(data[:5])
    expect["trunc_signature.png"] = (ANY_FAILURE, None)
    (root / "trunc_in_chunk.png").write_bytes(data[:60])
    expect["trunc_in_chunk.png"] = (ANY_FAILURE, None)
    data = write_jpeg(root / "full.jpg", user_comment=GOOD, size=(256, 256)).read_bytes()
    (root / "full.jpg").unlink()
    (root / "trunc_half.jpg").write_bytes(data[: len(data) // 2])  # EXIF sits at the front
    expect["trunc_half.jpg"] = ({"ok"}, "a cat")
    (root / "trunc_head.jpg").write_bytes(data[:40])
    expect["trunc_head.jpg"] = (ANY_FAILURE, None)
    data = write_webp(root / "full.webp", user_comment=GOOD, size=(256, 256)).read_bytes()
    (root / "full.webp").unlink()
    for name, part in (("trunc_half.webp", data[: len(data) // 2]), ("trunc_head.webp", data[:30])):
        (root / name).write_bytes(part)
        expect[name] = (ANY_FAILURE, None)
    rnd = random.Random(6)
    for ext in ("png", "jpg", "jpeg", "webp", "tiff", "gif", "heic", "avif", "jxl"):
        (root / f"random.{ext}").write_bytes(rnd.randbytes(4096))
        expect[f"random.{ext}"] = ({"error"}, None)
    (root / "random_after_signature.png").write_bytes(PNG_SIGNATURE + rnd.randbytes(4096))
    expect["random_after_signature.png"] = (ANY_FAILURE, None)
    # PNG bombs: huge declared sizes (with alpha, so the stealth reader is tempted), and real ones
    tiny = zlib.compress(b"\0" * 1000)
    (root / "bomb_declared_2g_rgb.png").write_bytes(_png(2**31 - 1, 2**31 - 1, 2, tiny))
    (root / "bomb_declared_100k_rgba.png").write_bytes(_png(100_000, 100_000, 6, tiny))
    (root / "bomb_declared_with_text.png").write_bytes(_png(100_000, 100_000, 6, tiny, {"parameters": GOOD}))
    (root / "bomb_9000_rgba.png").write_bytes(_zero_rows_bomb(9000))  # 324 MB of pixels: past the stealth limit
    (root / "bomb_8000_rgba.png").write_bytes(_zero_rows_bomb(8000))  # 256 MB of pixels: decoded once, in columns
    for name in ("bomb_declared_2g_rgb.png", "bomb_declared_100k_rgba.png", "bomb_9000_rgba.png", "bomb_8000_rgba.png"):
        expect[name] = (ANY_FAILURE, None)
    expect["bomb_declared_with_text.png"] = ({"ok"}, "a cat")
    for name, (payload, statuses, prompt) in USER_COMMENTS.items():
        make_pixels((32, 32), seed=len(name)).save(root / f"{name}.jpg", "JPEG",
                                                   exif=_exif_with_user_comment_bytes(payload))
        expect[f"{name}.jpg"] = (statuses, prompt)
    make_pixels((32, 32)).save(root / "uc_utf16_lone_surrogate.webp", "WEBP",
                               exif=_exif_with_user_comment_bytes(USER_COMMENTS["uc_utf16_lone_surrogate"][0]))
    expect["uc_utf16_lone_surrogate.webp"] = ({"ok"}, "a cat")
    return root, expect


def _check_rows(db: Path, expect: dict) -> dict:
    rows = {r["file_name"]: r for r in db_rows(db, "SELECT * FROM images")}
    assert sorted(rows) == sorted(expect)  # exactly one row per file
    for name, (statuses, prompt) in expect.items():
        row = rows[name]
        assert row["parse_status"] in statuses, (name, row["parse_status"], row["error"])
        if row["parse_status"] in ("error", "unparsed"):
            assert row["error"], name  # a reason is recorded
        if prompt is not None:
            assert (row["prompt"] or "").startswith(prompt), (name, row["prompt"])
    return rows


def test_broken_random_truncated_and_bomb_files_each_get_a_row(broken_files, tmp_path):
    root, expect = broken_files
    db = tmp_path / "broken.db"
    config = write_config(tmp_path)
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(config), "--no-progress",
                       tmp_path=tmp_path)
    print(f"\npeak RSS, broken files and PNG bombs: {run.peak_rss_mb:.0f} MB in {run.elapsed:.1f} s")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert summary_count(run.stdout, "new (added)") == len(expect)
    rows = _check_rows(db, expect)
    assert rows["zero.png"]["error"] == "ExifTool: File is empty"
    assert "format error" in rows["random.jpg"]["error"].lower()
    assert integrity(db) == "ok"
    assert run.peak_rss_mb < PEAK_SMALL_MB
    # the stored JSON parses again without ExifTool, just as safely
    again = run_measured("DB_filler.py", "--reparse", "-y", "--db", str(db), "--config", str(config), "--no-progress",
                         tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    _check_rows(db, expect)


def test_comfyui_graphs_that_are_huge_deep_long_or_cyclic(tmp_path):
    root = tmp_path / "comfy"
    root.mkdir()
    prompt_json, workflow_json, _ = comfyui_graph("a cat on a mat", "dog", seed=5, steps=22)
    api = json.loads(prompt_json)
    big = dict(api)
    for i in range(40_000):  # ~13 MB of JSON: unused text-encode nodes
        big[str(100_000 + i)] = {"inputs": {"text": "x" * 200, "clip": ["4", 1]}, "class_type": "CLIPTextEncode"}
    write_png(root / "graph_13mb.png", {"prompt": json.dumps(big), "workflow": workflow_json})
    write_png(root / "nested_lists.png", {"prompt": "[" * 200_000 + "]" * 200_000})
    write_png(root / "nested_objects.png", {"prompt": '{"1":' * 100_000 + "1" + "}" * 100_000})
    chain = json.loads(prompt_json)  # sampler -> 50,000 ConditioningCombine nodes -> text encoder
    chain["3"]["inputs"]["positive"] = ["200000", 0]
    for i in range(50_000):
        nxt = ["6", 0] if i == 49_999 else [str(200_001 + i), 0]
        chain[str(200_000 + i)] = {"inputs": {"conditioning_1": nxt, "conditioning_2": nxt},
                                   "class_type": "ConditioningCombine"}
    write_png(root / "chain_50k.png", {"prompt": json.dumps(chain)})
    cycle = json.loads(prompt_json)
    cycle["3"]["inputs"]["positive"] = ["300", 0]
    cycle["300"] = {"inputs": {"conditioning_1": ["301", 0], "conditioning_2": ["6", 0]},
                    "class_type": "ConditioningCombine"}
    cycle["301"] = {"inputs": {"conditioning_1": ["300", 0], "conditioning_2": ["3", 0]},
                    "class_type": "ConditioningCombine"}
    cycle["3"]["inputs"]["model"] = ["3", 0]  # the sampler feeds itself
    write_png(root / "cycle.png", {"prompt": json.dumps(cycle)})
    write_png(root / "not_json.png", {"prompt": "{" + "\x01\x02 not json" * 1000})
    # half an emoji escaped in the JSON: json.loads yields a lone surrogate, which UTF-8 cannot hold
    lone = prompt_json.replace('"a cat on a mat"', '"a cat \\ud83d on a mat"')
    write_png(root / "lone_surrogate.png", {"prompt": lone})
    expect = {
        "graph_13mb.png": ({"ok"}, "a cat on a mat"),
        "nested_lists.png": (ANY_FAILURE, None),
        "nested_objects.png": (ANY_FAILURE, None),
        "chain_50k.png": ({"ok"} | ANY_FAILURE, None),
        "cycle.png": ({"ok"} | ANY_FAILURE, None),
        "not_json.png": (ANY_FAILURE, None),
        "lone_surrogate.png": ({"ok"}, "a cat \ufffd on a mat"),
    }
    db = tmp_path / "comfy.db"
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(write_config(tmp_path)),
                       "--no-progress", tmp_path=tmp_path)
    print(f"\npeak RSS, ComfyUI graphs (13 MB, 200k-deep, 50k chain, cycle): {run.peak_rss_mb:.0f} MB "
          f"in {run.elapsed:.1f} s")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    rows = _check_rows(db, expect)
    assert rows["graph_13mb.png"]["generator"] == "ComfyUI" and rows["graph_13mb.png"]["steps"] == 22
    assert integrity(db) == "ok"
    assert run.peak_rss_mb < PEAK_SMALL_MB


def test_a_50_mb_text_chunk_is_stored_whole_with_bounded_memory(tmp_path):
    root = tmp_path / "big"
    root.mkdir()
    prompt = "masterpiece, " * (50 * 1024 * 1024 // 13)
    write_png(root / "text_50mb.png", {"parameters": prompt + "\nSteps: 20, Sampler: Euler, CFG scale: 7"})
    write_png(root / "small.png", {"parameters": GOOD})
    db = tmp_path / "big.db"
    try:
        run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(write_config(tmp_path)),
                           "--no-progress", tmp_path=tmp_path)
        print(f"\npeak RSS, 50 MB text chunk: {run.peak_rss_mb:.0f} MB in {run.elapsed:.1f} s")
        assert run.returncode == 0, run.stderr
        (big,) = db_rows(db, "SELECT length(prompt), steps, sampler, parse_status FROM images "
                             "WHERE file_name = 'text_50mb.png'")
        assert tuple(big) == (len(prompt), 20, "Euler", "ok")
        assert db_rows(db, "SELECT prompt FROM images WHERE file_name = 'small.png'")[0][0] == "a cat"
        assert integrity(db) == "ok"
        assert run.peak_rss_mb < PEAK_50MB_TEXT_MB
    finally:  # a few hundred MB; do not leave them in pytest's kept tmp folders
        for p in [*root.iterdir(), *tmp_path.glob("big.db*")]:
            p.unlink()
