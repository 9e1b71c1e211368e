#!/usr/bin/env python3
"""parameter_statistic_DB.py: maintain and search the image metadata database.

Run without arguments for a numbered menu, or see `python parameter_statistic_DB.py --help`
for the subcommands (stats, search, export, backup, integrity, prune, duplicates, …).
`import parameter_statistic_DB` offers the original's functions by name.
"""
from exifdata_analytics.cli.db_tool import main
from exifdata_analytics.cli.seed_api import (  # noqa: F401 - re-exported for scripts
    backup_database,
    check_database_integrity,
    clear_database,
    database_size,
    database_stats,
    last_modified,
    list_models_in_directory,
    metadata_sample,
    optimize_database,
    search_metadata,
)

if __name__ == "__main__":
    raise SystemExit(main())
