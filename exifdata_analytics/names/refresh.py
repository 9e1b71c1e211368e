"""The canonical columns of a database brought up to date with its rows.

A row gets its canonical values when it is written (``canonical_row``): the sampler and schedule
from the tables, the model's, VAE's and resources' names as their file stems. Which names are one
entity, and under which spelling it is shown, depends on all the rows (a new image can link two
names by their hash, or make another spelling the most used), so after every run that wrote rows
``refresh`` resolves them again over the whole database and rewrites only the values that
changed. It runs inside the caller's transaction (the filler's, a migration's) and never
commits by itself.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

from .entities import LORA_FAMILY, Sighting, file_stem, resolve_entities
from .samplers import canonical_sampler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshSummary:
    sampler_rows: int = 0  # rows whose canonical sampler or schedule changed
    model_rows: int = 0
    vae_rows: int = 0
    resource_rows: int = 0

    @property
    def changed(self) -> int:
        return self.sampler_rows + self.model_rows + self.vae_rows + self.resource_rows


def canonical_row(sampler: Optional[str], scheduler: Optional[str], model: Optional[str], vae: Optional[str]
                  ) -> dict[str, Optional[str]]:
    """The canonical columns of one new row, before ``refresh`` links it to the others."""
    name = canonical_sampler(sampler, scheduler)
    return {"canonical_sampler": name.sampler, "canonical_scheduler": name.schedule,
            "canonical_model": file_stem(model), "canonical_vae": file_stem(vae)}


def note_spellings(con: sqlite3.Connection, records: Iterable[tuple[Any, Sequence[Any]]]) -> None:
    """Add the names of newly written rows ((ImageRecord, resources) pairs) to ``spellings``,
    each naming itself (its stem) until ``refresh`` links it; a known spelling keeps its entity."""
    rows = set()
    for record, resources in records:
        for kind, spelling in (("checkpoint", record.model), ("vae", record.vae)):
            if spelling and (stem := file_stem(spelling)):
                rows.add((kind, spelling, stem))
        for r in resources:
            if r.name and (stem := file_stem(r.name)):
                rows.add((resource_family(r.kind), r.name, stem))
    con.executemany("INSERT OR IGNORE INTO spellings (kind, spelling, canonical) VALUES (?, ?, ?)", sorted(rows))


def resource_family(kind: str) -> str:
    """The kinds whose names are resolved together."""
    kind = (kind or "").lower()
    return "lora" if kind in LORA_FAMILY else kind


def refresh(con: sqlite3.Connection) -> RefreshSummary:
    """Re-resolve every canonical column; returns how many rows changed. Every query groups by
    the columns of one index (images_sampler, images_model, images_vae, resources_kind_name),
    so it reads indexes only (about 0.1 s per 100,000 images when nothing changed)."""
    models = _column_values(con, "model", "model_hash", "canonical_model")
    vaes = _column_values(con, "vae", "NULL", "canonical_vae")
    resources = con.execute("SELECT kind, name, hash, canonical_name, COUNT(*) FROM resources "
                            "GROUP BY 1, 2, 3, 4").fetchall()
    families: dict[str, list[Sighting]] = {}
    for kind, name, hash_, _, n in resources:
        if isinstance(name, str):
            families.setdefault(resource_family(kind), []).append(Sighting(name, hash_, n))
    # a checkpoint or VAE named in a resource list (Civitai's link names to hashes) is the same
    # entity as in the columns
    model_names = resolve_entities([*_sightings(models), *families.pop("checkpoint", [])])
    vae_names = resolve_entities([*_sightings(vaes), *families.pop("vae", [])])
    display = {**{f: resolve_entities(s) for f, s in families.items()}, "checkpoint": model_names, "vae": vae_names}
    _rewrite_spellings(con, display)
    summary = RefreshSummary(
        sampler_rows=_refresh_samplers(con),
        model_rows=_rewrite(con, "images", "model", "canonical_model", models, model_names),
        vae_rows=_rewrite(con, "images", "vae", "canonical_vae", vaes, vae_names),
        resource_rows=sum(
            con.execute("UPDATE resources SET canonical_name = ? WHERE kind IS ? AND name IS ? AND hash IS ? "
                        "AND canonical_name IS ?", (wanted, kind, name, hash_, stored)).rowcount
            for kind, name, hash_, stored, _ in resources
            if (wanted := display.get(resource_family(kind), {}).get(name) if isinstance(name, str) else None)
            != stored),
    )
    if summary.changed:
        logger.info("canonical names refreshed: %s", summary)
    return summary


def _rewrite_spellings(con: sqlite3.Connection, display: Mapping[str, Mapping[str, str]]) -> None:
    """The table of every name as written -> its entity (for searches: any spelling finds all)."""
    con.execute("DELETE FROM spellings")
    con.executemany("INSERT INTO spellings (kind, spelling, canonical) VALUES (?, ?, ?)",
                    sorted((kind, spelling, canonical) for kind, names in display.items()
                           for spelling, canonical in names.items()))


def _refresh_samplers(con: sqlite3.Connection) -> int:
    changed = 0
    pairs = con.execute("SELECT sampler, scheduler, canonical_sampler, canonical_scheduler FROM images "
                        "GROUP BY 1, 2, 3, 4").fetchall()
    for sampler, scheduler, stored_sampler, stored_schedule in pairs:
        name = canonical_sampler(sampler, scheduler)
        if (name.sampler, name.schedule) != (stored_sampler, stored_schedule):
            changed += con.execute(
                "UPDATE images SET canonical_sampler = ?, canonical_scheduler = ? WHERE sampler IS ? AND "
                "scheduler IS ? AND canonical_sampler IS ? AND canonical_scheduler IS ?",
                (name.sampler, name.schedule, sampler, scheduler, stored_sampler, stored_schedule)).rowcount
    return changed


def _column_values(con: sqlite3.Connection, column: str, hash_column: str, canonical: str) -> list[tuple]:
    """(value, hash, stored canonical value, images) of one column."""
    return con.execute(f"SELECT {column}, {hash_column}, {canonical}, COUNT(*) FROM images "
                       f"WHERE {column} IS NOT NULL OR {canonical} IS NOT NULL GROUP BY 1, 2, 3").fetchall()


def _sightings(values: list[tuple]) -> list[Sighting]:
    return [Sighting(value, hash_, n) for value, hash_, _, n in values if isinstance(value, str)]


def _rewrite(con: sqlite3.Connection, table: str, column: str, canonical: str, values: list[tuple],
             display: Mapping[str, str]) -> int:
    changed = 0
    for value, _, stored, _ in values:
        wanted = display.get(value) if isinstance(value, str) else None
        if wanted != stored:
            changed += con.execute(f"UPDATE {table} SET {canonical} = ? WHERE {column} IS ? AND {canonical} IS ?",
                                   (wanted, value, stored)).rowcount
    return changed
