"""Finding image files: extensions, order, recursion, symlink loops, unreadable folders."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exifdata_analytics.scan import ScanProblems, is_image_name, iter_image_files


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _names(root: Path, recursive: bool) -> list[str]:
    problems = ScanProblems()
    return [os.path.relpath(e.path, root) for e in iter_image_files(str(root), recursive, problems)]


def test_extensions_match_case_insensitively_and_skip_other_files(tmp_path):
    for name in ["a.PNG", "b.Jpg", "c.jpeg", "d.WEBP", "e.avif", "f.txt", "g.json", "h.png.txt", "noext"]:
        _touch(tmp_path / name)
    assert _names(tmp_path, False) == ["a.PNG", "b.Jpg", "c.jpeg", "d.WEBP", "e.avif"]
    assert is_image_name("X.JFIF") and not is_image_name("x.psd")


def test_order_is_sorted_files_before_subfolders_and_recursion_is_optional(tmp_path):
    for rel in ["b.png", "a.png", "sub2/z.png", "sub1/y.png", "sub1/deeper/x.png"]:
        _touch(tmp_path / rel)
    assert _names(tmp_path, False) == ["a.png", "b.png"]
    assert _names(tmp_path, True) == ["a.png", "b.png", "sub1/y.png", "sub1/deeper/x.png", "sub2/z.png"]
    assert _names(tmp_path, True) == _names(tmp_path, True)


def test_symlink_loops_are_reported_not_followed_forever(tmp_path):
    _touch(tmp_path / "a" / "one.png")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    problems = ScanProblems()
    found = list(iter_image_files(str(tmp_path), True, problems))
    assert [os.path.basename(e.path) for e in found] == ["one.png"]
    assert problems.symlink_loops


def test_symlinked_files_and_broken_links(tmp_path):
    real = _touch(tmp_path / "real.png")
    os.symlink(real, tmp_path / "link.png")
    os.symlink(tmp_path / "gone.png", tmp_path / "broken.png")
    problems = ScanProblems()
    found = [os.path.basename(e.path) for e in iter_image_files(str(tmp_path), False, problems)]
    assert found == ["link.png", "real.png"]
    assert any(p.endswith("broken.png") for p in problems.vanished)


def test_sizes_and_mtimes_come_from_stat(tmp_path):
    p = _touch(tmp_path / "a.png", b"12345")
    os.utime(p, ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    (entry,) = iter_image_files(str(tmp_path), False, ScanProblems())
    assert (entry.size, entry.mtime_ns) == (5, 1_700_000_000_123_456_789)
    assert entry.path == str(p)


def test_unreadable_folder_is_reported_and_the_rest_is_scanned(tmp_path):
    # root reads everything, so when run as root the scan runs as 'nobody' in a child process
    base = Path("/tmp") / f"scan-perm-{os.getpid()}" if os.geteuid() == 0 else tmp_path
    _touch(base / "ok" / "a.png")
    _touch(base / "locked" / "b.png")
    os.chmod(base / "locked", 0)
    try:
        code = (
            "import sys; from exifdata_analytics.scan import *; p = ScanProblems(); "
            f"found = [e.path for e in iter_image_files({str(base)!r}, True, p)]; "
            "print(len(found), len(p.unreadable_dirs))"
        )
        kwargs = {}
        python = sys.executable
        if os.geteuid() == 0:
            os.chmod(base, 0o755)
            os.chmod(base / "ok", 0o755)
            os.chmod(base / "ok" / "a.png", 0o644)
            kwargs["user"] = "nobody"
            # scan.py needs only the standard library; the system interpreter is readable by all
            python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        out = subprocess.run([python, "-c", code], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[1], **kwargs)
        if out.returncode != 0 and "user" in kwargs and "Permission" in out.stderr:
            pytest.skip(f"cannot run as nobody here: {out.stderr.strip()[-200:]}")
        assert out.stdout.split() == ["1", "1"], out.stderr
    finally:
        os.chmod(base / "locked", 0o755)
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)
