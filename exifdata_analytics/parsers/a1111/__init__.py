"""The A1111-family "infotext" parser (AUTOMATIC1111, Forge and its forks, SD.Next, Civitai, …):
``infotext`` (where the text is, its structure, the recipe and the generator), ``tokens`` (the
settings line as pairs), ``resources`` (LoRAs, embeddings, … and their hashes)."""
from __future__ import annotations

from .infotext import PARSER, parse, parse_infotext

__all__ = ["PARSER", "parse", "parse_infotext"]
