"""``python -m exifdata_analytics``: the ``exifdata`` command."""
from .cli.exifdata import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m exifdata_analytics"))
