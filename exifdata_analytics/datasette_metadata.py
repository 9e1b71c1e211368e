"""The Datasette metadata shipped with the package (``data/datasette-metadata.json``): facets,
the searchable ``images_browse`` view, canned queries. Datasette keys a database's metadata by
the database's name (its file name without the extension), so the shipped file names the
default database and ``metadata_for`` renames it for any other."""
from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any, Union

logger = logging.getLogger(__name__)

METADATA_FILE = "datasette-metadata.json"


def shipped_metadata() -> dict[str, Any]:
    """The metadata file as shipped (for the default database, statistics_image_metadata.db)."""
    text = resources.files(__package__).joinpath("data", METADATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def database_name(db_path: Union[str, os.PathLike]) -> str:
    """The name Datasette gives the database at ``db_path``."""
    return Path(db_path).stem


def metadata_for(db_path: Union[str, os.PathLike]) -> dict[str, Any]:
    """The shipped metadata, keyed by the name Datasette gives ``db_path``."""
    data = shipped_metadata()
    (settings,) = data["databases"].values()
    data["databases"] = {database_name(db_path): settings}
    return data
