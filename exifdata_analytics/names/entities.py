"""One entity per file: checkpoints, VAEs, LoRAs, embeddings, … as the statistics count them.

Tools spell one file many ways: A1111 writes ``dreamshaper_8``, ComfyUI
``SD1.5/dreamshaper_8.safetensors``, Windows front ends ``SD1.5\\dreamshaper_8.safetensors``,
A1111's checkpoint title ``dreamshaper_8.safetensors [879db523]``. Two rules make them one:

1. **Names**: equal after dropping folders (``/`` and ``\\``), the model-file extension, a
   trailing ``[hash]`` and case (``name_key``).
2. **Hashes**: names that any image links to the same file hash are one entity, so a checkpoint
   renamed on disk stays one model. Hashes are compared by ``hash_key``: A1111's short hash
   (AutoV2, the first 10 hex digits of the file's SHA-256), a full SHA-256 (Civitai) and the
   12-digit LoRA hashes all compare on their first 10 hex digits; A1111's old 8-digit hash
   (AutoV1, another algorithm) only with itself; a Civitai AIR URN
   (``urn:air:sdxl:checkpoint:civitai:101055@128078``) by its model version.

An entity is shown under its most used spelling (the name's stem, as written, with the most
images). ``resolve_entities`` is pure: it takes (name, hash, images) observations and returns
name -> display name; ``names.refresh`` applies it to a database.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

logger = logging.getLogger(__name__)

MODEL_EXTENSIONS = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft|onnx)$", re.IGNORECASE)
# the look-behind starts a match only where a run of blanks starts (a search from inside the
# run would rescan it: quadratic in its length)
_TRAILING_HASH = re.compile(r"(?<!\s)\s*\[[0-9a-fA-F]{8,64}\]\s*$")
_HEX = re.compile(r"^[0-9a-f]+$")
_AIR = re.compile(r"^urn:air:[^:]*:[^:]*:civitai:(\d+)@(\d+)$", re.IGNORECASE)

# resource kinds that are one family of networks (A1111 lists LyCORIS networks under 'Lora
# hashes' while the prompt says <lyco:…>): their names are resolved together
LORA_FAMILY = frozenset({"lora", "lycoris", "locon", "loha", "lokr", "dora"})


def file_stem(name: Optional[str]) -> Optional[str]:
    """'loras/sdxl/add_detail.safetensors' -> 'add_detail'; 'x.ckpt [abc12345]' -> 'x'.
    The text itself when nothing is left (a name that is only an extension)."""
    if name is None:
        return None
    text = name.strip()
    if not text:
        return None
    text = _TRAILING_HASH.sub("", text) or text
    base = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return MODEL_EXTENSIONS.sub("", base).strip() or text


def name_key(name: Optional[str]) -> Optional[str]:
    """What makes two spellings of a file's name the same name."""
    stem = file_stem(name)
    return stem.casefold() if stem else None


def hash_key(value: Optional[str]) -> Optional[str]:
    """What makes two written hashes the same file (None: not a usable hash)."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    m = _AIR.match(text)
    if m:
        return f"civitai:{m.group(2)}"
    if text.startswith("0x"):
        text = text[2:]
    if len(text) < 8 or not _HEX.match(text) or set(text) == {"0"}:
        return None
    return f"v1:{text}" if len(text) < 10 else text[:10]


@dataclass(frozen=True)
class Sighting:
    """A name as written, with the hash written beside it (if any), in ``images`` images."""

    name: str
    hash: Optional[str]
    images: int


def resolve_entities(sightings: Iterable[Sighting]) -> Mapping[str, str]:
    """Every written name -> the display name of its entity."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    spellings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # key -> stem -> images
    keys: dict[str, str] = {}
    for s in sightings:
        key = name_key(s.name)
        if key is None:
            continue
        keys[s.name] = key
        node = "n:" + key
        find(node)
        spellings[node][file_stem(s.name) or s.name] += s.images
        h = hash_key(s.hash)
        if h is not None:
            union(node, "h:" + h)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for node, stems in spellings.items():
        for stem, n in stems.items():
            totals[find(node)][stem] += n
    display = {root: min(stems.items(), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))[0]
               for root, stems in totals.items()}
    return {name: display[find("n:" + key)] for name, key in keys.items()}
