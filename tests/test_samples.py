"""The sample-image writer: determinism, and that real ExifTool reads back what was written."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from exifdata_analytics.cli import make_samples
from exifdata_analytics.samples import (
    SampleImage,
    Verbatim,
    a1111_infotext,
    a1111_quote,
    build_exif,
    comfyui_graph,
    make_sample_folder,
    png_chunks,
    sample_by_case,
    write_jpeg,
    XMP_PNG_KEYWORD,
    write_png,
    write_webp,
    xmp_packet,
)

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool not installed")

JAPANESE = "傑作, 1人の女の子,\n桜の木の下, テスト"
MULTILINE = "masterpiece, 1girl,\nforest\nBREAK\nwatercolor\nNegative prompt: lowres\nSteps: 20, Sampler: Euler a"


def exiftool_json(*paths: Path, extra: tuple[str, ...] = ()) -> dict[str, dict]:
    """ExifTool's ``-j -G1:4`` output, keyed by absolute path."""
    proc = subprocess.run(
        ["exiftool", "-j", "-G1:4", "-charset", "filename=utf8", *extra, *(str(p.resolve()) for p in paths)],
        capture_output=True, check=False, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return {str(Path(d["SourceFile"])): d for d in json.loads(proc.stdout.decode("utf-8"))}


def one(path: Path, extra: tuple[str, ...] = ()) -> dict:
    return exiftool_json(path, extra=extra)[str(path.resolve())]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def as_exiftool_shows_raw_utf8(text: str) -> str:
    """What ExifTool 12.57 returns for UTF-8 bytes stored in a tEXt chunk: each byte read as
    Windows-1252, with the five bytes cp1252 leaves undefined passed through as U+0080-U+009F."""
    out = []
    for b in text.encode("utf-8"):
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


# EXIF tag / PNG keyword (as SampleImage.written names them) -> ExifTool -G1 key
EXIFTOOL_KEY = {
    "parameters": "PNG:Parameters",
    "prompt": "PNG:Prompt",
    "workflow": "PNG:Workflow",
    "Software": "PNG:Software",
    "UserComment": "ExifIFD:UserComment",
    "Make": "IFD0:Make",
    "Model": "IFD0:Model",
    "DateTimeOriginal": "ExifIFD:DateTimeOriginal",
}


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory) -> tuple[Path, list[SampleImage]]:
    root = tmp_path_factory.mktemp("samples")
    return root, make_sample_folder(root, seed=0)


@pytest.fixture(scope="module")
def sample_tags(sample_folder) -> dict[str, dict]:
    """ExifTool JSON of every sample, keyed by the sample's relative path (one ExifTool call)."""
    if shutil.which("exiftool") is None:
        pytest.skip("ExifTool not installed")
    root, samples = sample_folder
    by_abs = exiftool_json(*(root / s.path for s in samples))
    return {s.path: by_abs[str((root / s.path).resolve())] for s in samples}


# ---------------------------------------------------------------------------------------------
# make_sample_folder
# ---------------------------------------------------------------------------------------------

def test_make_sample_folder_same_seed_gives_byte_identical_trees(tmp_path, sample_folder):
    root, samples = sample_folder
    again = make_sample_folder(tmp_path / "again", seed=0)
    assert again == samples
    assert tree_bytes(tmp_path / "again") == tree_bytes(root)
    mtimes = {s.path: (tmp_path / "again" / s.path).stat().st_mtime_ns for s in again}
    assert mtimes == {s.path: (root / s.path).stat().st_mtime_ns for s in samples}


def test_make_sample_folder_other_seed_gives_different_files(tmp_path, sample_folder):
    root, samples = sample_folder
    other = make_sample_folder(tmp_path / "other", seed=1)
    assert [s.case for s in other] == [s.case for s in samples]  # same structure…
    assert tree_bytes(tmp_path / "other") != tree_bytes(root)  # …different content
    assert [s.prompt for s in other] != [s.prompt for s in samples]


def test_make_sample_folder_writes_every_kind_with_consistent_truth(sample_folder):
    root, samples = sample_folder
    assert 24 <= len(samples) <= 40
    assert len({s.path for s in samples}) == len(samples)
    assert len({s.case for s in samples}) == len(samples)
    kinds = Counter(s.kind for s in samples)
    for kind in ("a1111_png", "a1111_jpeg", "a1111_webp", "forge_png", "civitai_png", "comfyui_png",
                 "none_png", "none_jpeg", "camera_jpeg"):
        assert kinds[kind] >= 1, kind
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == {s.path for s in samples}
    for s in samples:
        assert s.has_generation_data == (s.generator is not None)
        if s.has_generation_data:
            assert s.prompt and s.steps and s.seed is not None and s.sampler and s.cfg_scale
            assert s.width and s.height
        else:
            assert s.prompt is None and s.steps is None
    assert {s.generator for s in samples} == {"A1111", "Forge", "Civitai", "ComfyUI", None}


def test_make_sample_folder_covers_the_documented_edge_cases(sample_folder):
    _, samples = sample_folder
    assert sample_by_case(samples, "a1111_no_negative").negative_prompt is None
    assert "Negative prompt:" not in sample_by_case(samples, "a1111_no_negative").written[0][1]
    assert "\n" in sample_by_case(samples, "a1111_multiline_prompt").prompt
    lora = sample_by_case(samples, "a1111_lora")
    assert "<lora:add_detail:0.8>" in lora.prompt and dict(lora.settings)["Lora hashes"].startswith('"')
    assert sample_by_case(samples, "a1111_multiline_prompt").scheduler is not None
    assert "Hires upscaler" in dict(sample_by_case(samples, "a1111_hires_adetailer").settings)
    civitai = sample_by_case(samples, "civitai_png")
    assert civitai.model == "Pony Diffusion V6 XL" and "Model:" not in civitai.written[0][1]
    assert "Civitai resources: [{" in civitai.written[0][1]
    assert dict(sample_by_case(samples, "forge_flux").settings)["Version"].startswith("f2.0.1v1.10.1-previous-")
    assert "テスト" in sample_by_case(samples, "a1111_japanese_itxt").prompt
    camera = sample_by_case(samples, "camera_jpeg")
    assert not camera.has_generation_data and camera.camera and all(camera.camera)


def test_same_base_name_exists_in_two_folders_with_different_parameters(sample_folder):
    root, samples = sample_folder
    by_name: dict[str, list[SampleImage]] = {}
    for s in samples:
        by_name.setdefault(Path(s.path).name, []).append(s)
    pairs = {name: group for name, group in by_name.items() if len(group) > 1}
    assert len(pairs) >= 2
    for name, group in pairs.items():
        assert len({str(Path(s.path).parent) for s in group}) == len(group)
        assert all((root / s.path).is_file() for s in group)
        assert all(s.has_generation_data for s in group)
        a, b = group[:2]
        assert (a.steps, a.sampler, a.prompt) != (b.steps, b.sampler, b.prompt)
        assert (root / a.path).read_bytes() != (root / b.path).read_bytes()
    basic, img2img = sample_by_case(samples, "a1111_basic"), sample_by_case(samples, "a1111_img2img_same_name")
    assert Path(basic.path).name == Path(img2img.path).name and basic.seed == img2img.seed


@needs_exiftool
def test_exiftool_reads_every_sample_metadata_exactly_as_written(sample_folder, sample_tags):
    _, samples = sample_folder
    for s in samples:
        tags = sample_tags[s.path]
        assert tags["File:FileType"].endswith(s.format), s.path  # WebP: "Extended WEBP"
        if s.case == "a1111_japanese_raw_utf8":
            continue  # mojibake, see the next test
        assert s.written or not s.has_generation_data
        for name, text in s.written:
            assert tags.get(EXIFTOOL_KEY[name]) == text, (s.path, name)
        generation_keys = {"PNG:Parameters", "PNG:Prompt", "PNG:Workflow", "ExifIFD:UserComment"}
        assert bool(generation_keys & tags.keys()) == s.has_generation_data, s.path


@needs_exiftool
def test_exiftool_keeps_newlines_japanese_and_comfyui_json(sample_folder, sample_tags):
    _, samples = sample_folder
    itxt = sample_by_case(samples, "a1111_japanese_itxt")
    assert itxt.prompt + "\nNegative prompt: " in sample_tags[itxt.path]["PNG:Parameters"]
    jpeg = sample_by_case(samples, "a1111_jpeg_japanese")
    assert "\n" in jpeg.prompt and sample_tags[jpeg.path]["ExifIFD:UserComment"].startswith(jpeg.prompt + "\n")
    multi = sample_by_case(samples, "a1111_multiline_prompt")
    assert sample_tags[multi.path]["PNG:Parameters"].startswith(multi.prompt + "\nNegative prompt: ")
    comfy = sample_by_case(samples, "comfyui_sdxl_japanese")
    graph = json.loads(sample_tags[comfy.path]["PNG:Prompt"])
    texts = {n["inputs"]["text"] for n in graph.values() if n["class_type"] == "CLIPTextEncode"}
    assert comfy.prompt in texts and "猫耳" in comfy.prompt
    workflow = json.loads(sample_tags[comfy.path]["PNG:Workflow"])
    assert {n["type"] for n in workflow["nodes"]} >= {"KSampler", "SaveImage"}


@needs_exiftool
def test_exiftool_shows_mojibake_for_raw_utf8_sample(sample_folder, sample_tags):
    _, samples = sample_folder
    s = sample_by_case(samples, "a1111_japanese_raw_utf8")
    (_, written), = s.written
    shown = sample_tags[s.path]["PNG:Parameters"]
    assert shown != written
    assert shown == as_exiftool_shows_raw_utf8(written)
    assert "ãƒ†ã‚¹ãƒˆ" in shown  # テスト: UTF-8 read as Latin-1
    assert "テスト" in s.prompt  # the truth is the repaired text


def test_sample_pixel_sizes_are_small_and_match_the_files(sample_folder):
    from PIL import Image

    root, samples = sample_folder
    for s in samples:
        with Image.open(root / s.path) as im:
            assert im.size == (s.pixel_width, s.pixel_height)
            assert max(im.size) <= 128


# ---------------------------------------------------------------------------------------------
# write_png
# ---------------------------------------------------------------------------------------------

def test_write_png_is_deterministic_and_seed_changes_pixels(tmp_path):
    a = write_png(tmp_path / "a.png", {"parameters": "x"}, seed=5)
    b = write_png(tmp_path / "b.png", {"parameters": "x"}, seed=5)
    c = write_png(tmp_path / "c.png", {"parameters": "x"}, seed=6)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_write_png_chooses_text_itxt_ztxt_chunks(tmp_path):
    latin = write_png(tmp_path / "latin.png", {"parameters": "café, 1girl"})
    uni = write_png(tmp_path / "uni.png", {"parameters": JAPANESE})
    forced = write_png(tmp_path / "forced.png", {"parameters": "ascii"}, itxt=True)
    zipped = write_png(tmp_path / "z.png", {"parameters": "ascii"}, compress=True)
    types = {p.name: [k for k, _ in png_chunks(p.read_bytes())] for p in (latin, uni, forced, zipped)}
    assert types["latin.png"] == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]
    assert b"iTXt" in types["uni.png"] and b"iTXt" in types["forced.png"]
    assert b"zTXt" in types["z.png"]
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", {"parameters": JAPANESE}, itxt=False)
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", {"": "x"})


@needs_exiftool
def test_write_png_text_chunks_read_back_by_exiftool(tmp_path):
    latin = write_png(tmp_path / "latin.png", {"parameters": "café,\n1girl"})
    uni = write_png(tmp_path / "uni.png", {"parameters": JAPANESE}, mode="RGBA")
    zipped = write_png(tmp_path / "z.png", {"parameters": MULTILINE}, compress=True, mode="P")
    zipped_uni = write_png(tmp_path / "zu.png", {"parameters": JAPANESE}, compress=True, mode="L")
    tags = exiftool_json(latin, uni, zipped, zipped_uni)
    assert tags[str(latin.resolve())]["PNG:Parameters"] == "café,\n1girl"
    assert tags[str(uni.resolve())]["PNG:Parameters"] == JAPANESE
    assert tags[str(zipped.resolve())]["PNG:Parameters"] == MULTILINE
    assert tags[str(zipped_uni.resolve())]["PNG:Parameters"] == JAPANESE


@needs_exiftool
def test_write_png_repeated_keywords_all_visible_with_G1_4(tmp_path):
    path = write_png(tmp_path / "rep.png", [("prompt", "first"), ("prompt", "second"), ("parameters", "p")])
    keywords = [body.split(b"\0", 1)[0] for kind, body in png_chunks(path.read_bytes()) if kind == b"tEXt"]
    assert keywords == [b"prompt", b"prompt", b"parameters"]
    tags = one(path)
    # ExifTool 12.57: the LAST chunk is the plain key, earlier ones get Copy1, Copy2…
    assert tags["PNG:Prompt"] == "second"
    assert tags["PNG:Copy1:Prompt"] == "first"
    assert tags["PNG:Parameters"] == "p"


@needs_exiftool
def test_write_png_text_after_idat_is_read_without_fast2(tmp_path):
    path = write_png(tmp_path / "after.png", {"parameters": MULTILINE}, text_after_idat=True)
    kinds = [k for k, _ in png_chunks(path.read_bytes())]
    assert kinds.index(b"tEXt") > kinds.index(b"IDAT") and kinds[-1] == b"IEND"
    tags = one(path)
    assert tags["PNG:Parameters"] == MULTILINE
    assert "after PNG IDAT" in tags.get("ExifTool:Warning", "")
    assert "PNG:Parameters" not in one(path, extra=("-fast2",))  # why the project never uses -fast2


@needs_exiftool
def test_write_png_time_chunk_is_utc_before_idat_and_read_by_exiftool(tmp_path):
    from datetime import datetime, timedelta, timezone
    plus_two = timezone(timedelta(hours=2))
    path = write_png(tmp_path / "time.png", {"parameters": "p"}, modified=datetime(2024, 3, 15, 14, 30, 45, tzinfo=plus_two))
    kinds = [k for k, _ in png_chunks(path.read_bytes())]
    assert kinds.count(b"tIME") == 1 and kinds.index(b"tIME") < kinds.index(b"IDAT")
    assert one(path)["PNG:ModifyDate"] == "2024:03:15 12:30:45"  # the spec's UTC, as ExifTool shows it
    assert b"tIME" not in [k for k, _ in png_chunks(write_png(tmp_path / "none.png", {"parameters": "p"}).read_bytes())]


@needs_exiftool
def test_write_png_raw_utf8_in_text_shows_mojibake_in_exiftool(tmp_path):
    path = write_png(tmp_path / "raw.png", {"parameters": "テスト\nSteps: 20"}, raw_utf8_in_text=True)
    (kind, body), = [(k, b) for k, b in png_chunks(path.read_bytes()) if k in (b"tEXt", b"iTXt", b"zTXt")]
    assert kind == b"tEXt" and body == b"parameters\0" + "テスト\nSteps: 20".encode("utf-8")
    shown = one(path)["PNG:Parameters"]
    assert shown == "ãƒ†ã‚¹ãƒˆ\nSteps: 20"
    assert shown == as_exiftool_shows_raw_utf8("テスト\nSteps: 20")
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", {"parameters": "x"}, raw_utf8_in_text=True, itxt=True)


# ---------------------------------------------------------------------------------------------
# write_jpeg / write_webp / build_exif
# ---------------------------------------------------------------------------------------------

@needs_exiftool
@pytest.mark.parametrize("byte_order, utf16, shown", [("MM", "utf-16-be", "Big-endian (Motorola, MM)"),
                                                      ("II", "utf-16-le", "Little-endian (Intel, II)")])
def test_write_jpeg_user_comment_decodes_in_both_byte_orders(tmp_path, byte_order, utf16, shown):
    path = write_jpeg(tmp_path / f"{byte_order}.jpg", user_comment=JAPANESE, byte_order=byte_order)
    data = path.read_bytes()
    assert b"UNICODE\0" + JAPANESE.encode(utf16) in data
    assert data[data.index(b"Exif\0\0") + 6:][:2] == byte_order.encode()
    tags = one(path)
    assert tags["File:ExifByteOrder"] == shown
    assert tags["ExifIFD:UserComment"] == JAPANESE


@needs_exiftool
def test_write_jpeg_camera_fields_and_no_exif(tmp_path):
    cam = write_jpeg(tmp_path / "cam.jpg", camera=("Canon", "Canon EOS R5", "2024:03:10 14:22:05"),
                     user_comment=MULTILINE, byte_order="II")
    bare = write_jpeg(tmp_path / "bare.jpg")
    tags = exiftool_json(cam, bare)
    t = tags[str(cam.resolve())]
    assert (t["IFD0:Make"], t["IFD0:Model"], t["ExifIFD:DateTimeOriginal"]) == \
        ("Canon", "Canon EOS R5", "2024:03:10 14:22:05")
    assert t["ExifIFD:UserComment"] == MULTILINE
    assert not any(k.startswith(("IFD0:", "ExifIFD:")) for k in tags[str(bare.resolve())])
    assert b"Exif\0\0" not in bare.read_bytes()


@needs_exiftool
def test_write_webp_user_comment_read_back(tmp_path):
    path = write_webp(tmp_path / "x.webp", user_comment=MULTILINE)
    other = write_webp(tmp_path / "y.webp", user_comment=JAPANESE, byte_order="II", size=(40, 24))
    tags = exiftool_json(path, other)
    assert tags[str(path.resolve())]["ExifIFD:UserComment"] == MULTILINE
    assert tags[str(other.resolve())]["ExifIFD:UserComment"] == JAPANESE
    assert tags[str(other.resolve())]["File:FileType"] == "Extended WEBP"


@needs_exiftool
def test_star_ratings_read_back_as_exiftool_shows_them(tmp_path):
    """XMP in a PNG's iTXt chunk and EXIF IFD0 Rating in a JPEG, as photo managers and Windows write them."""
    png = write_png(tmp_path / "r.png", [("parameters", "a cat\nSteps: 20"), (XMP_PNG_KEYWORD, xmp_packet(5))])
    rejected = write_png(tmp_path / "x.png", {XMP_PNG_KEYWORD: xmp_packet(-1)})
    jpeg = write_jpeg(tmp_path / "r.jpg", user_comment="a dog", rating=3, byte_order="II")
    tags = exiftool_json(png, rejected, jpeg)
    assert tags[str(png.resolve())]["XMP-xmp:Rating"] == 5
    assert tags[str(png.resolve())]["PNG:Parameters"] == "a cat\nSteps: 20"
    assert tags[str(rejected.resolve())]["XMP-xmp:Rating"] == -1
    assert tags[str(jpeg.resolve())]["IFD0:Rating"] == 3
    assert tags[str(jpeg.resolve())]["ExifIFD:UserComment"] == "a dog"
    with pytest.raises(ValueError):
        xmp_packet(6)
    with pytest.raises(ValueError):
        build_exif(rating=-1)


def test_build_exif_layout():
    assert build_exif() is None
    mm = build_exif(user_comment="hi", byte_order="MM")
    ii = build_exif(user_comment="hi", byte_order="II")
    assert mm.startswith(b"Exif\0\0MM\0\x2a") and mm.endswith(b"UNICODE\0\0h\0i")
    assert ii.startswith(b"Exif\0\0II\x2a\0") and ii.endswith(b"UNICODE\0h\0i\0")
    with pytest.raises(ValueError):
        build_exif(user_comment="x", byte_order="XX")


def test_write_jpeg_is_deterministic(tmp_path):
    a = write_jpeg(tmp_path / "a.jpg", user_comment="x", seed=3)
    b = write_jpeg(tmp_path / "b.jpg", user_comment="x", seed=3)
    assert a.read_bytes() == b.read_bytes()


# ---------------------------------------------------------------------------------------------
# payload builders
# ---------------------------------------------------------------------------------------------

def test_a1111_infotext_quotes_values_like_a1111():
    text = a1111_infotext(
        "a cat,\nBREAK\nforest", "lowres, blurry",
        {"Steps": 20, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 7, "Seed": 1,
         "Size": "512x768", "VAE": None, "Lora hashes": "add_detail: 7c6bad76eb54, x: 123",
         "ADetailer prompt": "line one\nline two", "Hashes": {"model": "abc"},
         "Civitai resources": Verbatim('[{"type":"lora"}]'), "Template": "Template"},
    )
    assert text.split("\n") == [
        "a cat,", "BREAK", "forest", "Negative prompt: lowres, blurry",
        'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x768, '
        'Lora hashes: "add_detail: 7c6bad76eb54, x: 123", ADetailer prompt: "line one\\nline two", '
        'Hashes: {"model": "abc"}, Civitai resources: [{"type":"lora"}], Template',
    ]
    assert a1111_infotext("p", "", {"Steps": 20}) == "p\nSteps: 20"
    assert a1111_infotext("p", None, {"Steps": 20}) == "p\nSteps: 20"
    assert a1111_quote("猫: 1") == '"猫: 1"'  # ensure_ascii=False, as A1111


def test_comfyui_graph_is_a_linked_api_graph_and_ui_workflow():
    prompt_json, workflow_json, truth = comfyui_graph(
        "a fox, 桜", "lowres", model="dreamshaper_8.safetensors", seed=42, steps=25, cfg=6.5,
        sampler_name="dpmpp_2m", scheduler="karras", width=832, height=1216,
        loras=[("add_detail.safetensors", 0.8), ("film_grain.safetensors", 0.3)])
    assert "\\u685c" in prompt_json  # json.dumps default ensure_ascii, as ComfyUI writes it
    api = json.loads(prompt_json)
    by_class = Counter(n["class_type"] for n in api.values())
    assert by_class == {"KSampler": 1, "CheckpointLoaderSimple": 1, "EmptyLatentImage": 1,
                        "CLIPTextEncode": 2, "VAEDecode": 1, "SaveImage": 1, "LoraLoader": 2}
    for node in api.values():  # every link points at an existing node
        for value in node["inputs"].values():
            if isinstance(value, list):
                assert isinstance(value[0], str) and value[0] in api and isinstance(value[1], int)
    ks = next(n for n in api.values() if n["class_type"] == "KSampler")
    assert api[ks["inputs"]["positive"][0]]["inputs"]["text"] == "a fox, 桜"
    assert api[ks["inputs"]["negative"][0]]["inputs"]["text"] == "lowres"
    assert api[ks["inputs"]["model"][0]]["class_type"] == "LoraLoader"
    workflow = json.loads(workflow_json)
    node_ids = {n["id"] for n in workflow["nodes"]}
    link_ids = {lk[0] for lk in workflow["links"]}
    for lk in workflow["links"]:
        assert lk[1] in node_ids and lk[3] in node_ids and len(lk) == 6
    for n in workflow["nodes"]:
        for inp in n["inputs"]:
            assert inp["link"] in link_ids
    assert workflow["last_link_id"] == len(workflow["links"])
    assert truth == {"generator": "ComfyUI", "prompt": "a fox, 桜", "negative_prompt": "lowres", "steps": 25,
                     "seed": 42, "sampler": "dpmpp_2m", "scheduler": "karras", "cfg_scale": 6.5,
                     "width": 832, "height": 1216, "model": "dreamshaper_8.safetensors",
                     "denoising_strength": 1.0,
                     "loras": (("add_detail.safetensors", 0.8), ("film_grain.safetensors", 0.3))}


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def test_make_samples_cli_prints_one_summary_line(tmp_path, capsys):
    manifest = tmp_path / "truth.jsonl"
    assert make_samples.main(["--out", str(tmp_path / "out"), "--seed", "2", "--manifest", str(manifest)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wrote ") and "comfyui_png=" in lines[0]
    records = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    assert len(records) == sum(1 for p in (tmp_path / "out").rglob("*") if p.is_file())
