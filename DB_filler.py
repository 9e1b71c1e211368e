#!/usr/bin/env python3
"""DB_filler.py: read the generation parameters of a folder of AI images into SQLite.

Run without arguments to be asked for the folder, or see `python DB_filler.py --help`.
"""
from exifdata_analytics.cli.db_filler import main

if __name__ == "__main__":
    raise SystemExit(main())
