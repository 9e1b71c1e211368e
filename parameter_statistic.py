#!/usr/bin/env python3
"""parameter_statistic.py: statistics, text reports and plots of the indexed images.

Run without arguments to be asked for the database, keywords and top-N, or see
`python parameter_statistic.py --help`.
"""
from exifdata_analytics.cli.statistic import main

if __name__ == "__main__":
    raise SystemExit(main())
