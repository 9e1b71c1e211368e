"""Finding image files: deterministic order, case-insensitive extensions, safe recursion.

The walk stays inside the folder it was given: a symlinked folder is followed only when it
leads to a place under the root (a link to ``/`` or to another drive is skipped and
reported), and folders on another file system (a drive mounted inside the tree) are
entered only when asked. Rows under skipped folders are not "gone": a prune keeps them.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

logger = logging.getLogger(__name__)

# Containers that image generators write and ExifTool reads metadata from. GIF, WebP and PNG
# may be animated; the video containers are those ComfyUI's savers write (SaveVideo, VHS Video
# Combine: MP4/MOV with QuickTime tags, WebM/MKV with Matroska tags).
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})
IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".avif", ".heic", ".heif",
    ".jxl", ".tif", ".tiff", ".gif",
}) | VIDEO_EXTENSIONS


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
    links_out: list[str] = field(default_factory=list)  # symlinked folders leading out of the root
    other_filesystems: list[str] = field(default_factory=list)  # folders on another file system

    @property
    def count(self) -> int:
        return len(self.unreadable_dirs) + len(self.symlink_loops) + len(self.bad_names) + len(self.vanished)

    @property
    def skipped_folders(self) -> list[str]:
        """Folders deliberately not entered (their rows are kept as they are)."""
        return self.links_out + self.other_filesystems

    @property
    def not_scanned(self) -> list[str]:
        """Folders whose files the scan did not see, for whatever reason."""
        return self.unreadable_dirs + self.skipped_folders


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_video_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def normalize_path(path: str) -> str:
    """The form stored in the database: absolute, with '.', '..' and doubled separators
    removed; symlinks are not resolved, so a linked folder keeps the name the user sees."""
    return os.path.abspath(os.path.expanduser(path))


_WINDOWS_PATH_RE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def is_foreign_windows_path(path: str) -> bool:
    """A Windows path (``C:\\…``, ``\\\\server\\…``) met on a system that does not use them
    (brought in from the original's database): not a path of this machine."""
    return os.sep != "\\" and bool(_WINDOWS_PATH_RE.match(path))


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both absolute and normalized)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def iter_image_files(root: str, recursive: bool, problems: ScanProblems,
                     cross_filesystems: bool = False) -> Iterator[FileEntry]:
    """Image files under ``root`` in a deterministic order (names sorted, files of a folder
    before its subfolders). Symlinked folders are followed once, and only when they lead to
    a place under the root; loops are detected by (device, inode); folders on another file
    system are entered only with ``cross_filesystems``. Unreadable, skipped folders and
    undecodable names are recorded in ``problems``."""
    root = normalize_path(root)
    real_root = os.path.realpath(root)
    root_device: Optional[int] = None
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
        if root_device is None:
            root_device = st.st_dev
        elif st.st_dev != root_device and not cross_filesystems:
            problems.other_filesystems.append(folder)
            logger.warning("skipping %s: it is on another file system (a mounted drive?); index it on its own "
                           "or pass --cross-filesystems", folder)
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
                if recursive and not _link_out_of(entry, real_root, problems):
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


def entries_of(paths: Sequence[str], root: str, recursive: bool, problems: ScanProblems) -> list[FileEntry]:
    """The image files among ``paths`` (watch mode's changed files) that the scan of ``root``
    would yield: under the root (directly in it unless ``recursive``), with an image name that
    is valid UTF-8, and a regular file now. A path that is gone is left out, silently (the
    caller knows it from its event)."""
    root = normalize_path(root)
    out = []
    for path in sorted(set(map(normalize_path, paths))):
        if not is_image_name(path) or path == root or not is_within(path, root):
            continue
        if not recursive and os.path.dirname(path) != root:
            continue
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            problems.bad_names.append(os.fsencode(path).decode("utf-8", "backslashreplace"))
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out.append(FileEntry(path, st.st_size, st.st_mtime_ns))
    return out


_LOOK_AT_MOST = 20_000  # entries looked at before a folder is taken to hold images


def holds_image_files(folder: str) -> bool:
    """Whether ``folder`` (or any folder below it on the same file system, links not followed)
    holds an image file. Stops at the first one; a folder too big to look through, or one
    that cannot be read, counts as holding images (a prune is refused only when sure)."""
    try:
        device = os.stat(folder).st_dev
    except FileNotFoundError:
        return False
    except OSError:
        return True
    stack, seen = [folder], 0
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    seen += 1
                    if seen > _LOOK_AT_MOST:
                        return True
                    if entry.is_dir(follow_symlinks=False):
                        if entry.stat(follow_symlinks=False).st_dev == device:
                            stack.append(entry.path)
                    elif is_image_name(entry.name):
                        return True
        except OSError:
            return True
    return False


def _existing_ancestor(folder: str) -> str:
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def empty_roots(missing: Sequence[str], root: Optional[str] = None) -> tuple[str, ...]:
    """The folders that held the ``missing`` files and now hold no image file at all (an
    unmounted drive's empty mount point looks so): ``root`` when given, else the nearest
    existing folder above each missing file."""
    if not missing:
        return ()
    candidates = {root} if root is not None else {_existing_ancestor(os.path.dirname(p)) for p in missing}
    return tuple(sorted(c for c in candidates if not holds_image_files(c)))


def empty_root_message(roots: Sequence[str], missing: Sequence[str], how_to_force: str) -> str:
    """Why a prune under ``roots`` is refused, and what to do."""
    rows = sum(1 for p in missing if any(is_within(p, r) for r in roots))
    more = f" (and {len(roots) - 1} more folders)" if len(roots) > 1 else ""
    return (f"not pruning: {roots[0]}{more} holds no image files at all, but the database has {rows:,} rows under "
            f"it; if it is a drive that is not mounted, mount it first. To remove those rows anyway, {how_to_force}")


def _link_out_of(entry: os.DirEntry, real_root: str, problems: ScanProblems) -> bool:
    """True (and recorded) when ``entry`` is a symlinked folder leading out of the root."""
    try:
        if not entry.is_symlink():
            return False
    except OSError:
        return False
    target = os.path.realpath(entry.path)
    if is_within(target, real_root):
        return False
    problems.links_out.append(entry.path)
    logger.warning("not following %s: the link leads out of the folder being indexed (to %s); index that "
                   "folder on its own if you mean it", entry.path, target)
    return True
