"""Types shared by every generator parser.

A parser is a pure function over one file's ExifTool tag dict (keys such as
``PNG:Parameters`` or ``ExifIFD:UserComment``; values as ExifTool's JSON gives them)
that returns ``GenerationParams`` when it recognises its generator's format and
``None`` otherwise. Parsers never read files and never know where the tags came from.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

logger = logging.getLogger(__name__)

Tags = Mapping[str, Any]

# parse_status values (DESIGN.md §4)
STATUS_OK = "ok"
STATUS_NO_METADATA = "no_metadata"
STATUS_UNPARSED = "unparsed"
STATUS_ERROR = "error"


@dataclass(frozen=True)
class Resource:
    """A network or model an image was made with (LoRA, embedding, checkpoint, …)."""

    kind: str  # 'lora', 'lycoris', 'embedding', 'hypernetwork', 'checkpoint', 'vae', …
    name: str
    hash: Optional[str] = None
    weight: Optional[float] = None
    source: str = ""  # where it was found: 'prompt', 'Lora hashes', 'Civitai resources', …


@dataclass(frozen=True)
class GenerationParams:
    """The generation recipe of one image, in the database's column vocabulary."""

    generator: str
    prompt: Optional[str] = None
    negative_prompt: Optional[str] = None
    steps: Optional[int] = None
    seed: Optional[int] = None
    sampler: Optional[str] = None
    scheduler: Optional[str] = None
    cfg_scale: Optional[float] = None
    denoising_strength: Optional[float] = None
    width: Optional[int] = None  # generation size, not pixel size
    height: Optional[int] = None
    model: Optional[str] = None
    model_hash: Optional[str] = None
    vae: Optional[str] = None
    clip_skip: Optional[int] = None
    # every parsed key/value, including the long tail (hires, ADetailer, …)
    params: Mapping[str, Any] = field(default_factory=dict)
    resources: tuple[Resource, ...] = ()


@dataclass(frozen=True)
class ParseOutcome:
    """What the registry concluded about one file's tags."""

    status: str
    params: Optional[GenerationParams] = None
    error: Optional[str] = None
    parser: Optional[str] = None  # name of the parser that produced params


@dataclass(frozen=True)
class Parser:
    """One registry entry: a name, a function from tags to params (or None), and the tag
    names (any case) of which a file must have at least one for the parser to look at it;
    ``None`` means every file. The registry skips the others without calling ``parse``:
    most of a file's tag look-ups were parsers asking for tags it does not have."""

    name: str
    parse: Callable[[Tags], Optional[GenerationParams]]
    tag_names: Optional[frozenset[str]] = None

    def __post_init__(self) -> None:
        if self.tag_names is not None:
            object.__setattr__(self, "tag_names", frozenset(n.lower() for n in self.tag_names))
