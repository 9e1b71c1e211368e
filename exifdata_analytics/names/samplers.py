"""One canonical sampler algorithm and one canonical noise schedule per image, whatever the tool
called them: ``Euler a`` (A1111), ``euler_ancestral`` (ComfyUI), ``euler_a`` (InvokeAI) and
``k_euler_ancestral`` (NovelAI) are one sampler; ``DPM++ 2M Karras`` (A1111 before 1.9),
``DPM++ 2M`` + ``Karras`` (A1111 1.9+), ``dpmpp_2m`` + ``karras`` (ComfyUI) and ``dpmpp_2m_k``
(InvokeAI) are one sampler plus one schedule. Canonical values use A1111's display names.

The data is three CSV files beside this module, read once on first use:

- ``samplers.csv``: spelling -> sampler, and the schedule the spelling implies (empty if none);
- ``schedules.csv``: spelling -> schedule;
- ``automatic.csv``: what A1111's ``Automatic`` schedule type computes for each sampler.

A spelling matches case-insensitively after trimming and folding runs of blanks. A row with an
empty canonical value is a placeholder (``Undefined``, ``None``): it names nothing. Every
canonical value is also a spelling of itself, so resolving a result again gives the same result.

Where the spellings come from (extend the CSVs from the same places):

- A1111 ``sd_samplers_kdiffusion``/``sd_samplers_timesteps``/``sd_schedulers`` from 1.0 to 1.10:
  display names, the ``k_`` aliases, the combined names before 1.9 (``DPM++ 2M Karras``, the
  ``… Exponential`` ones of 1.6-1.8) and the ``Schedule type`` labels of 1.9+;
  Forge, reForge and Forge Neo/Classic add theirs (CFG++, ``… Turbo``, ``… SGMUniform``,
  ``… Comfy``, Res Multistep, ER SDE, SEEDS, and reForge's extra schedules).
- ComfyUI ``comfy/samplers.py`` (KSAMPLER_NAMES, SCHEDULER_NAMES) up to 2025, its early 2023
  k-diffusion function names (``sample_dpmpp_2m``), and the sampler/scheduler node classes the
  way our ComfyUI parser names them (``SDTurboScheduler`` -> ``sd_turbo``). SwarmUI and Fooocus
  write ComfyUI's names, plus a few schedules of their own (``turbo``, ``ltxv``, ``tcd``…).
- ComfyUI Image Saver (and its forks) writes ``<sampler>_<scheduler>`` (``euler_simple``) or an
  A1111 name plus a schedule label (``Euler a SGM Uniform``): an unknown spelling made of a known
  sampler and a known schedule joined by a blank or ``_`` resolves to both.
- InvokeAI 3-6 scheduler names (``euler_a``, ``dpmpp_2m_k``: ``_k`` is Karras sigmas) and the
  ``k_``/``plms`` names of InvokeAI 2; NovelAI's API names and ``noise_schedule`` values;
  diffusers' scheduler classes and SD.Next's diffusers sampler labels; Draw Things' sampler list;
  Easy Diffusion's sdkit names; Civitai's on-site sampler list.

Decisions the tables encode (each row's ``note`` says it where it applies): ``_gpu`` (Brownian
noise drawn on the GPU), ``_RF`` (the rectified-flow form ComfyUI picks by itself for flow models)
and UniPC's ``bh2`` are the same algorithm; CFG++, SDE, ancestral and ``_pece`` variants are
not. Draw Things' ``Trailing`` is diffusers' trailing timestep spacing, i.e. SGM Uniform.
A1111's ``Uniform`` computes exactly ComfyUI's ``normal``.
``Automatic`` means the sampler's default: A1111/Forge 1.9+ declare Karras or Exponential for
some samplers and take the model's own sigmas (Normal) for the others; for samplers without an
entry in ``automatic.csv`` (DDIM, UniPC… ignore the setting) it stays ``Automatic``.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional

from ..errors import ExifDataError

logger = logging.getLogger(__name__)

AUTOMATIC = "Automatic"
KARRAS = "Karras"

# What joins a sampler and a schedule in one combined spelling ("dpmpp_2m_karras", "Euler a Beta").
_JOINERS = frozenset(" _")


class NameTableError(ExifDataError):
    """samplers.csv, schedules.csv or automatic.csv is malformed (the message names file and line)."""


@dataclass(frozen=True)
class SamplerName:
    """The canonical reading of one (sampler, scheduler) pair."""

    sampler: Optional[str]  # canonical algorithm, or the trimmed spelling when unknown
    schedule: Optional[str]  # canonical schedule, or the trimmed spelling when unknown
    sampler_known: bool
    schedule_known: bool


@dataclass(frozen=True)
class _Tables:
    samplers: Mapping[str, tuple[Optional[str], Optional[str]]]  # key -> (sampler, implied schedule)
    schedules: Mapping[str, Optional[str]]  # key -> schedule
    automatic: Mapping[str, str]  # canonical sampler -> what Automatic computes for it
    sampler_rows: Mapping[str, tuple[Optional[str], Optional[str]]]  # spelling as in the CSV -> ...
    schedule_rows: Mapping[str, Optional[str]]
    longest_sampler: int  # the longest key of samplers (a combined spelling's head is one)
    longest_schedule: int  # the longest key of schedules (its tail is one)


def spelling_key(text: str) -> str:
    """How spellings are compared: trimmed, runs of blanks folded to one space, case-folded."""
    return " ".join(text.split()).casefold()


def canonical_sampler(sampler: Optional[str], scheduler: Optional[str] = None,
                      karras: Optional[bool] = None) -> SamplerName:
    """The canonical sampler and schedule for what a tool wrote.

    ``scheduler`` wins when it names a schedule (known or not, so an unknown one reaches the
    coverage report); otherwise the schedule the sampler spelling implies; otherwise Karras when
    ``karras`` is true (diffusers' ``use_karras_sigmas``); an ``Automatic`` scheduler resolves
    to the sampler's default. Blank inputs count as None."""
    return _resolve(_trimmed(sampler), _trimmed(scheduler), bool(karras))


def sampler_spellings() -> Mapping[str, tuple[Optional[str], Optional[str]]]:
    """samplers.csv as spelling -> (sampler, implied schedule); a placeholder maps to (None, None)."""
    return _tables().sampler_rows


def schedule_spellings() -> Mapping[str, Optional[str]]:
    """schedules.csv as spelling -> schedule; a placeholder maps to None."""
    return _tables().schedule_rows


def automatic_schedules() -> Mapping[str, str]:
    """automatic.csv: canonical sampler -> the schedule A1111's ``Automatic`` computes for it."""
    return _tables().automatic


def canonical_samplers() -> frozenset[str]:
    return frozenset(s for s, _ in _tables().samplers.values() if s)


def canonical_schedules() -> frozenset[str]:
    return frozenset(s for s in _tables().schedules.values() if s)


def _trimmed(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@lru_cache(maxsize=65536)
def _resolve(sampler: Optional[str], scheduler: Optional[str], karras: bool) -> SamplerName:
    tables = _tables()
    name, implied, sampler_known = sampler, None, False
    if sampler is not None:
        key = spelling_key(sampler)
        entry = tables.samplers.get(key) or _split_combined(key, tables)
        if entry is not None:
            (name, implied), sampler_known = entry, entry[0] is not None

    explicit, explicit_known = scheduler, False  # an unknown scheduler passes through as written
    if scheduler is not None and spelling_key(scheduler) in tables.schedules:
        explicit, explicit_known = tables.schedules[spelling_key(scheduler)], True
    if explicit is not None and explicit != AUTOMATIC:  # None here: absent, blank or a placeholder
        return SamplerName(name, explicit, sampler_known, explicit_known)
    if implied is not None:
        schedule = implied
    elif karras:
        schedule = KARRAS
    elif explicit == AUTOMATIC:
        schedule = tables.automatic.get(name, AUTOMATIC) if sampler_known else AUTOMATIC
    else:
        return SamplerName(name, None, sampler_known, False)
    return SamplerName(name, schedule, sampler_known, True)


def _split_combined(key: str, tables: _Tables) -> Optional[tuple[str, str]]:
    """'dpmpp_2m_sde_karras' -> ('DPM++ 2M SDE', 'Karras'): a known sampler spelling that implies
    no schedule, a joiner, and a known schedule spelling. The longest schedule is tried first.
    Only the joiners where both parts can be known are tried: a long spelling made of joiners
    would otherwise cost a slice and a look-up of its whole length at each (quadratic)."""
    n = len(key)
    for i in range(max(1, n - 1 - tables.longest_schedule), min(n - 1, tables.longest_sampler + 1)):
        if key[i] not in _JOINERS:
            continue
        head = tables.samplers.get(key[:i])
        if head is None or head[0] is None or head[1] is not None:
            continue
        schedule = tables.schedules.get(key[i + 1:])
        if schedule is not None and schedule != AUTOMATIC:
            return head[0], schedule
    return None


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    schedule_rows = {row["spelling"]: row["schedule"] or None
                     for row in _read("schedules.csv", ("spelling", "schedule"))}
    schedules = _keyed("schedules.csv", schedule_rows, canonical_of=lambda v: v, itself=lambda name: name)
    schedule_names = {s for s in schedules.values() if s}
    sampler_rows = {row["spelling"]: (row["sampler"] or None, row["schedule"] or None)
                    for row in _read("samplers.csv", ("spelling", "sampler", "schedule"))}
    for spelling, (sampler, schedule) in sampler_rows.items():
        if schedule is not None and (schedule not in schedule_names or sampler is None):
            raise NameTableError(f"samplers.csv: {spelling!r} implies {schedule!r}, which is not a "
                                 "schedule of schedules.csv (or the row names no sampler); fix the row")
    samplers = _keyed("samplers.csv", sampler_rows, canonical_of=lambda v: v[0], itself=lambda name: (name, None))
    sampler_names = {s for s, _ in samplers.values() if s}
    automatic = {}
    for row in _read("automatic.csv", ("sampler", "schedule")):
        if row["sampler"] not in sampler_names or row["schedule"] not in schedule_names:
            raise NameTableError(f"automatic.csv: {row['sampler']!r} -> {row['schedule']!r} is not a "
                                 "canonical sampler and schedule of samplers.csv/schedules.csv; fix the row")
        automatic[row["sampler"]] = row["schedule"]
    logger.debug("name tables: %d sampler and %d schedule spellings", len(samplers), len(schedules))
    return _Tables(MappingProxyType(samplers), MappingProxyType(schedules), MappingProxyType(automatic),
                   MappingProxyType(sampler_rows), MappingProxyType(schedule_rows),
                   max(map(len, samplers)), max(map(len, schedules)))


def _keyed(file: str, rows: Mapping[str, Any], canonical_of: Callable[[Any], Optional[str]],
           itself: Callable[[str], Any]) -> dict[str, Any]:
    """rows keyed by spelling_key, plus each canonical value as a spelling of itself; refuses a
    spelling listed twice and a canonical value spelled two ways."""
    keyed: dict[str, Any] = {}
    for spelling, value in rows.items():
        if spelling_key(spelling) in keyed:
            raise NameTableError(f"{file}: {spelling!r} is listed twice (spellings match regardless of "
                                 "case and blanks); keep one row")
        keyed[spelling_key(spelling)] = value
    spelled: dict[str, str] = {}
    for name in {canonical_of(value) for value in keyed.values()} - {None}:
        if spelled.setdefault(spelling_key(name), name) != name:
            raise NameTableError(f"{file}: {name!r} and {spelled[spelling_key(name)]!r} are one "
                                 "canonical value spelled two ways; use one spelling")
        own = canonical_of(keyed.setdefault(spelling_key(name), itself(name)))
        if own != name:
            raise NameTableError(f"{file}: the canonical value {name!r} is also listed as a spelling "
                                 f"of {own!r}; rename one")
    return keyed


def _read(file: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(file).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise NameTableError(f"{file}: missing column(s) {', '.join(missing)}; restore the header line")
    rows = []
    for line, row in enumerate(reader, start=2):
        cleaned = {c: (row.get(c) or "").strip() for c in columns}
        if not cleaned[columns[0]]:
            raise NameTableError(f"{file} line {line}: the {columns[0]} column is empty; fill it or drop the row")
        rows.append(cleaned)
    return rows
