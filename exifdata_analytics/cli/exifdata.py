"""The ``exifdata`` command (and ``python -m exifdata_analytics``): one entry point for the three
scripts. ``exifdata fill`` is DB_filler.py, ``exifdata stats`` parameter_statistic.py, ``exifdata db``
parameter_statistic_DB.py, with the same arguments, prompts, output and exit codes; the words
after the subcommand go to it unchanged."""
from __future__ import annotations

import importlib
import logging
import sys
from typing import Optional, Sequence

from .. import __version__
from .common import EXIT_OK, EXIT_USAGE

logger = logging.getLogger(__name__)

PROG = "exifdata"

# subcommand -> (module of cli whose main(argv, prog) runs it, the script it stands for, what it does)
SUBCOMMANDS = {
    "fill": ("db_filler", "DB_filler.py", "read the generation parameters of a folder of images into the database"),
    "stats": ("statistic", "parameter_statistic.py", "text reports, plots and the HTML report of the indexed images"),
    "db": ("db_tool", "parameter_statistic_DB.py", "database maintenance: stats, search, export, sidecars, backup, …"),
    "serve": ("db_tool", "parameter_statistic_DB.py serve", "the local browser over the database (read only)"),
}
# subcommands that are a command of another script: the word goes before the arguments
PREFIXED = {"serve": ("serve",)}


def usage(prog: str = PROG) -> str:
    width = max(map(len, SUBCOMMANDS))
    lines = [f"usage: {prog} [--version] COMMAND [ARGS...]", "",
             "ExifData Analytics: index the generation parameters of AI images and analyse them.", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {text} (as {script})" for name, (_, script, text) in SUBCOMMANDS.items()]
    lines += ["", f"'{prog} COMMAND --help' shows a command's arguments."]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None, prog: str = PROG) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage(prog), file=sys.stderr)
        return EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if command in ("-h", "--help"):
        print(usage(prog))
        return EXIT_OK
    if command == "--version":
        print(f"{prog} (ExifData Analytics) {__version__}")
        return EXIT_OK
    if command not in SUBCOMMANDS:
        print(f"{usage(prog)}\n\n{prog}: error: unknown command {command!r} "
              f"(choose from {', '.join(SUBCOMMANDS)})", file=sys.stderr)
        return EXIT_USAGE
    module = importlib.import_module(f"{__package__}.{SUBCOMMANDS[command][0]}")
    if command in PREFIXED:  # 'exifdata serve ARGS' is 'exifdata db serve ARGS', shown as 'exifdata serve'
        return module.main([*PREFIXED[command], *rest], prog=prog)
    return module.main(rest, prog=f"{prog} {command}")
