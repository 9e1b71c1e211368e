"""The search behind a number: one home for turning a shown value into the query of the search
language that finds exactly the images it counts (the dashboard's bars, table rows and model
cards, the facets, the image page's "same …" links)."""
from __future__ import annotations

import calendar
import logging
from typing import Optional
from urllib.parse import urlencode

logger = logging.getLogger(__name__)

# a parameter of the statistics (analysis.counts.PARAMETERS) -> its field in the search language
PARAMETER_FIELDS = {"Sampler": "sampler", "CFG scale": "cfg", "Size": "size", "Model": "model", "VAE": "vae",
                    "Denoising strength": "denoise", "Steps": "steps", "Scheduler": "scheduler",
                    "Generator": "generator", "LoRA": "lora"}
NUMBER_FIELDS = frozenset({"cfg", "denoise", "steps", "seed", "width", "height"})


def quoted(value: str) -> str:
    """A value as one term of the search language: in double quotes, a quote doubled."""
    return '"' + str(value).replace('"', '""') + '"'


def condition(field: str, value: object) -> str:
    """The condition that selects the images with ``value`` in ``field``: equality (``=``,
    which also matches every spelling of a canonical sampler, model, VAE or LoRA), a number,
    or a size ``WxH``."""
    if field == "size":
        return f"size:{value}"
    if field == "month":  # 'YYYY-MM'
        year, month = (int(part) for part in str(value).split("-"))
        return f"since:{year:04d}-{month:02d}-01 until:{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
    if field in NUMBER_FIELDS:
        return f"{field}={value}"
    return f"{field}={quoted(str(value))}"


def narrowed(query: str, extra: str) -> str:
    """``query`` with one more condition (AND): what clicking a facet does."""
    query = (query or "").strip()
    return f"({query}) {extra}" if query and " OR " in f" {query.upper()} " else f"{query} {extra}".strip()


def search_url(query: str, offset: int = 0) -> str:
    params = {"q": query}
    if offset:
        params["offset"] = str(offset)
    return "/search?" + urlencode(params)


def parameter_url(parameter: str, value: str, base: str = "") -> Optional[str]:
    field = PARAMETER_FIELDS.get(parameter)
    return search_url(narrowed(base, condition(field, value))) if field else None
