"""The seed's functions by name, for people who script against ``import parameter_statistic_DB``.

The seed's names and signatures; the database of config.ini unless ``db_path`` is given;
results as the seed returned them where that is cheap (bool-like integrity, (file_name, path)
pairs from search, {model: [paths]}).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

from .. import maintenance
from ..config import load_settings
from ..search import SearchHit

logger = logging.getLogger(__name__)


def _seed_db(db_path: Optional[os.PathLike | str]) -> Path:
    return Path(db_path) if db_path is not None else load_settings().db_path


def database_stats(db_path: Optional[os.PathLike | str] = None) -> maintenance.DatabaseStats:
    return maintenance.database_stats(_seed_db(db_path))


def optimize_database(db_path: Optional[os.PathLike | str] = None) -> maintenance.OptimizeResult:
    return maintenance.optimize_database(_seed_db(db_path))


def metadata_sample(n: int = 5, db_path: Optional[os.PathLike | str] = None) -> tuple[SearchHit, ...]:
    return maintenance.metadata_sample(_seed_db(db_path), n)


def check_database_integrity(db_path: Optional[os.PathLike | str] = None,
                             check_files: bool = True) -> maintenance.IntegrityReport:
    return maintenance.check_database_integrity(_seed_db(db_path), check_files=check_files)


def backup_database(backup_dir: os.PathLike | str, db_path: Optional[os.PathLike | str] = None
                    ) -> maintenance.BackupResult:
    return maintenance.backup_database(_seed_db(db_path), backup_dir)


def database_size(db_path: Optional[os.PathLike | str] = None) -> maintenance.DatabaseSize:
    return maintenance.database_size(_seed_db(db_path))


def last_modified(db_path: Optional[os.PathLike | str] = None) -> maintenance.LastModified:
    return maintenance.last_modified(_seed_db(db_path))


def clear_database(db_path: Optional[os.PathLike | str] = None) -> maintenance.ClearResult:
    return maintenance.clear_database(_seed_db(db_path))


def search_metadata(keyword: str, db_path: Optional[os.PathLike | str] = None,
                    limit: Optional[int] = None) -> list[tuple[str, str]]:
    result = maintenance.search_metadata(_seed_db(db_path), keyword, limit=limit, scope="any")
    return [(h.file_name, h.path) for h in result.hits]


def list_models_in_directory(directory: os.PathLike | str, db_path: Optional[os.PathLike | str] = None
                             ) -> dict[str, list[str]]:
    return {u.model: list(u.paths) for u in maintenance.list_models_in_directory(_seed_db(db_path), directory)}


SEED_FUNCTIONS = ("database_stats", "optimize_database", "metadata_sample", "check_database_integrity",
                  "backup_database", "database_size", "last_modified", "clear_database", "search_metadata",
                  "list_models_in_directory")
