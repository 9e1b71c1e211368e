"""Types shared by every generator parser.

A parser is a pure function over one file's ExifTool tag dict (keys such as
``PNG:Parameters`` or ``ExifIFD:UserComment``; values as ExifTool's JSON gives them)
that returns ``GenerationParams`` when it recognises its generator's format and
``None`` otherwise. Parsers never read files and never know where the tags came from.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

# the record types live with the column declaration; parsers import them from here
from ..models import (STATUS_ERROR, STATUS_NO_METADATA, STATUS_OK, STATUS_UNPARSED,  # noqa: F401
                      GenerationParams, Resource)

logger = logging.getLogger(__name__)

Tags = Mapping[str, Any]


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
