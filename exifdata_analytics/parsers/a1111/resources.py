"""The resources of an infotext: LoRAs, LyCORIS, embeddings, hypernetworks and checkpoints from
the prompt's ``<lora:…>`` calls, ``Lora hashes``, ``TI hashes``, ``Hashes`` and ``Civitai
resources``, de-duplicated into one entry per network with its weight, hash and sources."""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Optional

from ..base import Resource
from .tokens import to_float

logger = logging.getLogger(__name__)

# <lora:name:weight>, <lyco:name:te:unet>, <hypernet:name:weight>, <lora:name:te=0.5:unet=1>
_PROMPT_NET_RE = re.compile(r"<(lora|lyco|lycoris|locon|loha|lokr|hypernet)[ \t]*:([^:<>]+)(?::([^<>]*))?>",
                            re.IGNORECASE)

_NET_KINDS = {
    "lora": "lora", "lyco": "lycoris", "lycoris": "lycoris", "locon": "lycoris", "loha": "lycoris",
    "lokr": "lycoris", "hypernet": "hypernetwork", "hypernetwork": "hypernetwork",
    "embed": "embedding", "embedding": "embedding", "ti": "embedding", "textualinversion": "embedding",
    "textual inversion": "embedding", "checkpoint": "checkpoint", "model": "checkpoint",
    "dora": "lora", "vae": "vae",
}
# Kinds that name the same family of networks when de-duplicating (A1111 >= 1.5 lists LyCORIS
# networks under 'Lora hashes' while the prompt says <lyco:…>).
_KIND_FAMILY = {"lycoris": "lora"}


class _Resources:
    """Ordered, de-duplicated resources: same kind family + name -> one entry that collects
    weight, hash and every source it was seen in."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], dict[str, Any]] = {}

    @staticmethod
    def _norm(name: str) -> str:
        # A1111 writes aliases in 'Lora hashes' with ':' and ',' removed.
        return re.sub(r"[:,]", "", name).strip().lower()

    def add(self, kind: str, name: Any, hash_: Any = None, weight: Optional[float] = None,
            source: str = "") -> None:
        if not isinstance(name, str):
            name = "" if name is None else str(name)
        name = name.strip()
        hash_ = hash_.strip() if isinstance(hash_, str) and hash_.strip() else None
        if not name and not hash_:
            return
        family = _KIND_FAMILY.get(kind, kind)
        key = (family, self._norm(name) if name else "#" + (hash_ or "").lower())
        item = self._items.get(key)
        if item is None:
            self._items[key] = {"kind": kind, "name": name or hash_, "hash": hash_, "weight": weight,
                                "sources": [source] if source else []}
            return
        if item["hash"] is None:
            item["hash"] = hash_
        if item["weight"] is None:
            item["weight"] = weight
        if source and source not in item["sources"]:
            item["sources"].append(source)

    def result(self) -> tuple[Resource, ...]:
        return tuple(Resource(kind=i["kind"], name=i["name"], hash=i["hash"], weight=i["weight"],
                              source=", ".join(i["sources"])) for i in self._items.values())


def _prompt_networks(text: Optional[str]) -> Iterable[tuple[str, str, Optional[float]]]:
    if not text or "<" not in text:
        return
    for m in _PROMPT_NET_RE.finditer(text):
        kind = _NET_KINDS.get(m.group(1).lower(), m.group(1).lower())
        weight = None
        args = [a.strip() for a in (m.group(3) or "").split(":") if a.strip()]
        for arg in args:
            name, sep, val = arg.partition("=")
            if sep and name.strip().lower() not in ("te", "multiplier"):
                continue  # unet=/dyn= are not the network's main weight
            weight = to_float(val if sep else arg)
            break
        yield kind, m.group(2).strip(), weight


def _hash_list(value: Any) -> list[tuple[str, Optional[str]]]:
    """'alias: hash, alias2: hash2' -> [(alias, hash), …]; 'h1, h2' -> [('', h1), …]."""
    if isinstance(value, dict):
        return [(str(k), v if isinstance(v, str) else None) for k, v in value.items()]
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if not isinstance(value, str):
        return []
    out = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, hash_ = part.rpartition(":")
        out.append((name.strip(), hash_.strip() or None) if sep else ("", part))
    return out


def _name_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def collect_resources(prompt: Optional[str], negative: Optional[str],
               lower: dict[str, Any]) -> tuple[Resource, ...]:
    res = _Resources()
    for text, source in ((prompt, "prompt"), (negative, "negative prompt")):
        for kind, name, weight in _prompt_networks(text):
            res.add(kind, name, None, weight, source)

    # A1111: 'Lora hashes: "alias: hash, …"'; SD.Next: 'LoRA networks: a, b' + 'LoRA hashes: h1, h2'
    lora_hashes = _hash_list(lower.get("lora hashes"))
    networks = _name_list(lower.get("lora networks"))
    if networks:
        unnamed = [h for n, h in lora_hashes if not n]
        for i, name in enumerate(networks):
            res.add("lora", name, unnamed[i] if i < len(unnamed) and len(unnamed) == len(networks) else None,
                    None, "LoRA networks")
    for name, hash_ in lora_hashes:
        if name:
            res.add("lora", name, hash_, None, "Lora hashes")
        elif not networks:
            res.add("lora", "", hash_, None, "Lora hashes")

    # 'TI hashes: "name: hash, name: hash"' (A1111 may repeat entries)
    for name, hash_ in _hash_list(lower.get("ti hashes")):
        res.add("embedding", name, hash_, None, "TI hashes")

    # old A1111 'Hypernet: name, Hypernet hash: …, Hypernet strength: …'
    hypernet = lower.get("hypernet")
    if isinstance(hypernet, str) and hypernet.strip():
        strength = lower.get("hypernet strength")
        res.add("hypernetwork", hypernet, lower.get("hypernet hash"),
                to_float(strength) if isinstance(strength, str) else None, "Hypernet")

    # 'Hashes: {"model": …, "vae": …, "lora:name": …, "embed:name": …}' (resource-hash extensions)
    hashes = lower.get("hashes")
    if isinstance(hashes, dict):
        for key, hash_ in hashes.items():
            prefix, sep, name = str(key).partition(":")
            if not sep or not name.strip():
                continue
            kind = _NET_KINDS.get(prefix.strip().lower(), prefix.strip().lower() or "unknown")
            res.add(kind, name, hash_ if isinstance(hash_, str) else None, None, "Hashes")

    # 'Civitai resources: [{"type", "modelName", "modelVersionName", "modelVersionId", "weight"}, …]'
    civitai = lower.get("civitai resources")
    if isinstance(civitai, list):
        for item in civitai:
            if not isinstance(item, dict):
                continue
            rtype = str(item.get("type") or "").strip().lower()
            kind = _NET_KINDS.get(rtype, rtype or "unknown")
            name = item.get("modelName") or item.get("name") or item.get("air")
            if not (isinstance(name, str) and name.strip()):
                version_id = item.get("modelVersionId")
                name = f"civitai:{version_id}" if version_id is not None else ""
            weight = item.get("weight", item.get("strength"))
            weight = None if isinstance(weight, bool) or not isinstance(weight, (int, float, str)) \
                else to_float(str(weight))
            hash_ = item.get("hash") if isinstance(item.get("hash"), str) else None
            res.add(kind, name, hash_, weight, "Civitai resources")
    return res.result()
