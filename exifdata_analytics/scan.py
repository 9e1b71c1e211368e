"""Finding image files: deterministic order, case-insensitive extensions, safe recursion."""
from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from typing import Iterator

logger = logging.getLogger(__name__)

# Containers that image generators write and ExifTool reads metadata from.
IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".avif", ".heic", ".heif",
    ".jxl", ".tif", ".tiff", ".gif",
})


@dataclass(frozen=True)
class FileEntry:
    path: str  # absolute, normalized
    size: int
    mtime_ns: int


@dataclass
class ScanProblems:
    """What the scan could not look at; reported, never fatal."""

    unreadable_dirs: list[str] = field(default_factory=list)
    symlink_loops: list[str] = field(default_factory=list)
    bad_names: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.unreadable_dirs) + len(self.symlink_loops) + len(self.bad_names) + len(self.vanished)


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def normalize_path(path: str) -> str:
    """The form stored in the database: absolute, with '.', '..' and doubled separators
    removed; symlinks are not resolved, so a linked folder keeps the name the user sees."""
    return os.path.abspath(os.path.expanduser(path))


def iter_image_files(root: str, recursive: bool, problems: ScanProblems) -> Iterator[FileEntry]:
    """Image files under ``root`` in a deterministic order (names sorted, files of a folder
    before its subfolders). Symlinked folders are followed once; loops are detected by
    (device, inode). Unreadable folders and undecodable names are recorded in ``problems``."""
    root = normalize_path(root)
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            problems.unreadable_dirs.append(folder)
            logger.warning("cannot read folder %s: %s", folder, exc)
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            problems.symlink_loops.append(folder)
            logger.warning("skipping %s: already scanned through another path (symlink loop?)", folder)
            continue
        visited.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.unreadable_dirs.append(folder)
            logger.warning("cannot read folder %s: %s", folder, exc)
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                if recursive:
                    subdirs.append(entry.path)
                continue
            if not is_image_name(entry.name):
                continue
            try:
                # the whole path: a folder with a non-UTF-8 name cannot be stored either
                entry.path.encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(entry.path).decode("utf-8", "backslashreplace")
                problems.bad_names.append(shown)
                logger.warning("skipping a file whose name is not valid UTF-8: %s", shown)
                continue
            try:
                est = entry.stat()  # follows symlinks: a broken link is reported, not indexed
            except OSError as exc:
                problems.vanished.append(entry.path)
                logger.warning("cannot stat %s: %s", entry.path, exc)
                continue
            if not stat.S_ISREG(est.st_mode):
                continue
            yield FileEntry(entry.path, est.st_size, est.st_mtime_ns)
        stack.extend(reversed(subdirs))
