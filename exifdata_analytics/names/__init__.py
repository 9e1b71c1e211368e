"""Canonical names for what generators spell many ways: samplers and noise schedules.

Data tables (CSV, beside the modules) plus resolvers that read them once; nothing here prints.
"""
from __future__ import annotations

import logging

from .samplers import (NameTableError, SamplerName, automatic_schedules, canonical_sampler,
                       canonical_samplers, canonical_schedules, sampler_spellings, schedule_spellings,
                       spelling_key)

logger = logging.getLogger(__name__)

__all__ = ["NameTableError", "SamplerName", "automatic_schedules", "canonical_sampler", "canonical_samplers",
           "canonical_schedules", "sampler_spellings", "schedule_spellings", "spelling_key"]
