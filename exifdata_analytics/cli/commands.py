"""Subcommands declared once, as rows of a table, and what is generated from the table: the
argparse sub-parsers, the dispatch of a parsed command line, and the items of a numbered menu.

A row names its action (``action(db_path, **kwargs) -> exit code``) and two ways to get the
keyword arguments: ``from_args`` reads them from the parsed command line, the menu item's
``gather`` asks for them (None: the user went back). A destructive command declares its
confirmation; the command then also takes -y/--yes, and the action gets ``confirm``.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from ..config import Settings
from .common import ask_yes_no

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What every action of one run works on."""
    db: Path
    settings: Settings


@dataclass(frozen=True)
class Arg:
    """One argument of a subcommand, as argparse's add_argument takes it."""
    flags: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Confirmation:
    """The question a destructive action asks before it acts; -y/--yes answers it in advance.
    ``question`` names (str.format) the values the action fills in, such as a count."""
    question: str
    declined: Optional[str] = None  # said when the answer is no

    def granted(self, yes: bool, **values: Any) -> bool:
        if yes or ask_yes_no(self.question.format(**values)):
            return True
        if self.declined:
            print(self.declined)
        return False


YES = arg("-y", "--yes", action="store_true", help="do not ask")
# the positional (nargs="*") of a command whose free words form a search query: those words
# also include the ones that look like options ('-hat': images without hats)
QUERY = "query"


def no_questions(context: Context) -> Optional[dict]:
    return {}


@dataclass(frozen=True)
class MenuItem:
    """A command's line on the numbered menu; ``gather`` asks for the action's arguments."""
    key: str  # what the user types: "1", "2", …
    label: str
    gather: Callable[[Context], Optional[dict]] = no_questions


def no_arguments(args: argparse.Namespace, context: Context) -> dict:
    return {}


@dataclass(frozen=True)
class Command:
    """One row of the table: a subcommand's name and help, its action, its keyword arguments from
    the command line, its argparse arguments, its menu item (None: not on the menu) and its
    confirmation (None: nothing to confirm)."""
    name: str
    help: str
    action: Callable[..., int]
    from_args: Callable[[argparse.Namespace, Context], dict] = no_arguments
    args: tuple[Arg, ...] = ()
    menu: Optional[MenuItem] = None
    confirm: Optional[Confirmation] = None

    @property
    def arguments(self) -> tuple[Arg, ...]:
        return ((YES,) if self.confirm else ()) + self.args

    @property
    def takes_query(self) -> bool:
        return any(a.flags == (QUERY,) for a in self.args)

    @property
    def positionals_before_query(self) -> int:
        """How many positional arguments (a file name) come before the query's words."""
        names = [a.flags[0] for a in self.args if a.positional]
        return names.index(QUERY) if QUERY in names else 0


def add_subcommands(parser: argparse.ArgumentParser, commands: Sequence[Command],
                    parents: Sequence[argparse.ArgumentParser]) -> None:
    """One sub-parser per command, in the table's order; ``parents`` give each its shared options."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        sp = sub.add_parser(command.name, help=command.help, description=command.help, parents=list(parents))
        for a in command.arguments:
            sp.add_argument(*a.flags, **a.options)


def run_command(command: Command, context: Context, kwargs: dict, yes: bool = False) -> int:
    """The command's action on the context's database; ``yes`` answers its confirmation."""
    if command.confirm is not None:
        kwargs = {**kwargs, "confirm": partial(command.confirm.granted, yes)}
    return command.action(context.db, **kwargs)


def run_from_args(commands: Sequence[Command], args: argparse.Namespace, context: Context) -> int:
    command = next(c for c in commands if c.name == args.command)
    return run_command(command, context, command.from_args(args, context), yes=getattr(args, "yes", False))


def menu_items(commands: Sequence[Command]) -> list[tuple[Command, MenuItem]]:
    """The commands that are on the menu, in the menu's order."""
    return sorted(((c, c.menu) for c in commands if c.menu is not None), key=lambda pair: int(pair[1].key))
