"""Write the package's deterministic sample image folder.

    python -m exifdata_analytics.cli.make_samples --out DIR [--seed N] [--manifest FILE]

Prints one summary line; exit 0 on success, 1 when the files cannot be written, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from typing import Optional, Sequence

from ..safe_files import atomic_write
from ..samples import make_sample_folder

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m exifdata_analytics.cli.make_samples",
        description="Write ~30 small images with real generation metadata (A1111/Forge/Civitai PNG, "
                    "JPEG and WebP, ComfyUI PNG, images without metadata) into DIR. Deterministic "
                    "for a given seed.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="variation seed (default 0)")
    p.add_argument("--manifest", metavar="FILE",
                   help="also write the ground truth of every file as JSON lines to FILE")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seed < 0:
        print("error: --seed must be 0 or more", file=sys.stderr)
        return 2
    try:
        samples = make_sample_folder(args.out, seed=args.seed)
        if args.manifest:
            with atomic_write(args.manifest, encoding="utf-8") as fh:
                for s in samples:
                    fh.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    except OSError as exc:
        print(f"error: cannot write the samples: {exc}", file=sys.stderr)
        return 1
    kinds = Counter(s.kind for s in samples)
    print(f"wrote {len(samples)} sample images to {args.out} (seed {args.seed}): "
          + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
