"""Which model files the images used, and which never: ``parameter_statistic_DB.py unused DIR``.

Every checkpoint, LoRA, embedding, VAE … file under a models folder is matched to the images two
ways, and an image counts once however it matched:

* **by name**: the file's stem names the same entity as the images' model or resource names
  (``names.entities``: folders, extension and case dropped; the entity a renamed copy joined by
  its hash);
* **by hash**, every scheme images carry, computed from the file:
  - A1111's old model hash (AutoV1): SHA-256 of the 64 KiB at offset 1 MiB, first 8 hex digits;
  - AutoV2 (A1111's ``Model hash``, Civitai, ComfyUI save nodes): SHA-256 of the file, 10 digits;
  - ``TI hashes`` (A1111 embeddings) and ``Lora hashes`` of non-safetensors files: the file's
    SHA-256, 12 digits;
  - ``Lora hashes`` of safetensors files (the additional-networks hash, Civitai's AutoV3): SHA-256
    of what follows the safetensors header (8 bytes of length, then the JSON header), 12 digits;
  - full SHA-256 values as Civitai writes them.

Hashing reads every byte once (the whole-file and after-header hashes are fed from the same reads).
The hashes are cached in the database by path, size and modification time, so a second run over
the same files reads nothing. The models folder is only read, never written.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from .errors import InputError
from .names.entities import LORA_FAMILY, file_stem, name_key

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes hashed so far, bytes to hash)

MODEL_FILE_EXTENSIONS = frozenset({".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf"})
# folder names (any case) that say what a file is, nearest folder first: A1111/Forge and ComfyUI layouts
KIND_OF_FOLDER = {
    "stable-diffusion": "checkpoint", "checkpoints": "checkpoint", "unet": "checkpoint",
    "diffusion_models": "checkpoint",
    "lora": "lora", "loras": "lora", "lycoris": "lora", "locon": "lora",
    "embeddings": "embedding", "textual_inversion": "embedding",
    "vae": "vae", "hypernetworks": "hypernetwork",
}
_CHUNK = 1 << 20
_AUTOV1_OFFSET, _AUTOV1_LENGTH = 0x100000, 0x10000


@dataclass(frozen=True)
class FileHashes:
    sha256: str
    autov1: str
    addnet: Optional[str]  # safetensors only: the SHA-256 of what follows the header


@dataclass(frozen=True)
class ModelFile:
    path: str
    kind: str  # 'checkpoint', 'lora', 'embedding', 'vae', 'hypernetwork' or 'unknown'
    name: str  # the file's stem
    size_bytes: int
    images: int  # images that used it
    last_used: Optional[str]  # newest created_at of those images
    matched_by: tuple[str, ...]  # 'name', 'hash'
    sha256: Optional[str] = None


@dataclass(frozen=True)
class UnusedReport:
    root: str
    files: tuple[ModelFile, ...]  # most used first
    hashed: int  # files whose hashes were computed in this run (the rest came from the cache)
    hashed_bytes: int
    cache_used: bool  # False when the database could not be written (hashes not kept)
    elapsed: float

    @property
    def unused(self) -> tuple[ModelFile, ...]:
        return tuple(f for f in self.files if not f.images)

    @property
    def unused_bytes(self) -> int:
        return sum(f.size_bytes for f in self.unused)


def model_kind(path: Path, root: Path) -> str:
    """What a file is, from the nearest folder between it and the root that names a kind."""
    for folder in reversed(path.relative_to(root).parts[:-1]):
        kind = KIND_OF_FOLDER.get(folder.lower())
        if kind:
            return kind
    kind = KIND_OF_FOLDER.get(root.name.lower())
    return kind or "unknown"


def iter_model_files(root: Path) -> Iterable[tuple[Path, os.stat_result]]:
    """Regular files with a model extension under ``root`` (symlinked folders are not followed)."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() not in MODEL_FILE_EXTENSIONS:
                continue
            path = Path(folder) / name
            try:
                st = path.stat()
            except OSError as exc:
                logger.warning("cannot read %s: %s", path, exc)
                continue
            if stat.S_ISREG(st.st_mode):
                yield path, st


def hash_model_file(path: Path, progress: Optional[Callable[[int], None]] = None) -> FileHashes:
    """Every hash scheme of one file from one pass over its bytes."""
    whole = hashlib.sha256()
    after_header = hashlib.sha256() if path.suffix.lower() == ".safetensors" else None
    with open(path, "rb") as fh:
        head = fh.read(8)
        header_end = 8 + int.from_bytes(head, "little") if len(head) == 8 else None
        fh.seek(_AUTOV1_OFFSET)
        autov1 = hashlib.sha256(fh.read(_AUTOV1_LENGTH)).hexdigest()[:8]
        fh.seek(0)
        position = 0
        while chunk := fh.read(_CHUNK):
            whole.update(chunk)
            if after_header is not None and header_end is not None and position + len(chunk) > header_end:
                after_header.update(chunk[max(0, header_end - position):])
            position += len(chunk)
            if progress:
                progress(len(chunk))
    addnet = after_header.hexdigest() if after_header is not None and header_end is not None \
        and header_end <= position else None
    return FileHashes(whole.hexdigest(), autov1, addnet)


def _cached_hashes(con: sqlite3.Connection, path: str, st: os.stat_result) -> Optional[FileHashes]:
    row = con.execute("SELECT sha256, autov1, addnet FROM model_file_hashes WHERE path = ? AND size_bytes = ? "
                      "AND mtime_ns = ?", (path, st.st_size, st.st_mtime_ns)).fetchone()
    return FileHashes(*row) if row else None


def _keys(h: FileHashes) -> set[str]:
    """The hash values images may carry for this file (lower case)."""
    keys = {h.autov1, h.sha256, h.sha256[:10], h.sha256[:12]}
    if h.addnet:
        keys |= {h.addnet, h.addnet[:10], h.addnet[:12]}
    return keys


def find_unused(con: sqlite3.Connection, models_dir: os.PathLike | str, progress: Optional[Progress] = None,
                cache: bool = True) -> UnusedReport:
    """Every model file under ``models_dir`` with the images that used it. ``con`` is our database:
    read for the images, written (when ``cache``) for the hash cache only."""
    started = time.monotonic()
    root = Path(models_dir).expanduser()
    if not root.is_dir():
        raise InputError(f"models folder not found: {root}; pass the folder that holds your checkpoints, LoRAs, …")
    root = root.resolve()
    found = list(iter_model_files(root))
    hashes: dict[str, FileHashes] = {}
    todo = []
    for path, st in found:
        cached = _cached_hashes(con, str(path), st)
        if cached:
            hashes[str(path)] = cached
        else:
            todo.append((path, st))
    total = sum(st.st_size for _, st in todo)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    cache_used = cache
    for path, st in todo:
        try:
            h = hash_model_file(path, advance)
        except OSError as exc:
            logger.warning("cannot hash %s: %s", path, exc)
            continue
        hashes[str(path)] = h
        if cache_used:
            cache_used = _store(con, str(path), st, h)
    usage = _Usage(con)
    files = []
    for path, st in found:
        kind = model_kind(path, root)
        h = hashes.get(str(path))
        by_name = usage.by_name(kind, path.name)
        by_hash = usage.by_hash(_keys(h)) if h else set()
        ids = by_name | by_hash
        files.append(ModelFile(
            path=str(path), kind=kind, name=file_stem(path.name) or path.name, size_bytes=st.st_size,
            images=len(ids), last_used=usage.last_used(ids),
            matched_by=tuple(m for m, hit in (("name", by_name), ("hash", by_hash)) if hit),
            sha256=h.sha256 if h else None))
    files.sort(key=lambda f: (-f.images, f.path))
    return UnusedReport(str(root), tuple(files), len(todo), total, cache_used, time.monotonic() - started)


def _store(con: sqlite3.Connection, path: str, st: os.stat_result, h: FileHashes) -> bool:
    try:
        con.execute("INSERT INTO model_file_hashes (path, size_bytes, mtime_ns, sha256, autov1, addnet) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET size_bytes = excluded.size_bytes, "
                    "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, autov1 = excluded.autov1, "
                    "addnet = excluded.addnet", (path, st.st_size, st.st_mtime_ns, h.sha256, h.autov1, h.addnet))
        return True
    except sqlite3.OperationalError as exc:  # a read-only database: the hashes are not kept
        logger.info("hash cache not written (%s)", exc)
        return False


class _Usage:
    """The images' names and hashes, read once: which images name an entity, carry a hash."""

    def __init__(self, con: sqlite3.Connection):
        self.created: dict[int, Optional[str]] = {}
        self.entities: dict[tuple[str, str], set[str]] = {}  # (kind, name key) -> canonical names
        for kind, spelling, canonical in con.execute("SELECT kind, spelling, canonical FROM spellings"):
            key = name_key(spelling)
            if key:
                self.entities.setdefault((kind, key), set()).add(canonical)
        self.images_of: dict[tuple[str, str], set[int]] = {}  # (kind, canonical) -> image ids
        self.hash_images: dict[str, set[int]] = {}
        for image_id, model, model_hash, vae, created in con.execute(
                "SELECT id, canonical_model, model_hash, canonical_vae, created_at FROM images "
                "WHERE canonical_model IS NOT NULL OR model_hash IS NOT NULL OR canonical_vae IS NOT NULL"):
            self.created[image_id] = created
            if model:
                self.images_of.setdefault(("checkpoint", model), set()).add(image_id)
            if vae:
                self.images_of.setdefault(("vae", vae), set()).add(image_id)
            if model_hash:
                self.hash_images.setdefault(model_hash.strip().lower(), set()).add(image_id)
        for image_id, kind, canonical, hash_, created in con.execute(
                "SELECT r.image_id, lower(r.kind), r.canonical_name, r.hash, i.created_at FROM resources r "
                "JOIN images i ON i.id = r.image_id"):
            self.created[image_id] = created
            family = "lora" if kind in LORA_FAMILY else kind
            if canonical:
                self.images_of.setdefault((family, canonical), set()).add(image_id)
            if hash_:
                self.hash_images.setdefault(hash_.strip().lower(), set()).add(image_id)

    def by_name(self, kind: str, file_name: str) -> set[int]:
        key = name_key(file_name)
        kinds = (kind,) if kind != "unknown" else tuple({k for k, _ in self.images_of})
        ids: set[int] = set()
        for k in kinds:
            for canonical in self.entities.get((k, key), ()):
                ids |= self.images_of.get((k, canonical), set())
        return ids

    def by_hash(self, keys: set[str]) -> set[int]:
        ids: set[int] = set()
        for key in keys:
            ids |= self.hash_images.get(key, set())
        return ids

    def last_used(self, ids: set[int]) -> Optional[str]:
        dates = [d for d in (self.created.get(i) for i in ids) if d]
        return max(dates) if dates else None
