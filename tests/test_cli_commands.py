"""What is generated from parameter_statistic_DB.py's command table, and the options every
script shares."""
from __future__ import annotations

import builtins

import pytest

from exifdata_analytics.cli import db_filler, db_tool, statistic
from exifdata_analytics.cli.commands import Confirmation, menu_items


def test_every_command_has_a_sub_parser_and_the_menu_numbers_run_from_one():
    parser = db_tool.build_parser()
    for command in db_tool.COMMANDS:
        assert parser.parse_args([command.name, *(["x"] * _required_positionals(command))]).command == command.name
    keys = [item.key for _, item in menu_items(db_tool.COMMANDS)]
    assert keys == [str(i) for i in range(1, len(keys) + 1)]


def _required_positionals(command) -> int:
    return sum(1 for a in command.args if a.positional and "nargs" not in a.options)


def test_destructive_commands_take_yes_and_only_they_do():
    parser = db_tool.build_parser()
    for command in db_tool.COMMANDS:
        argv = [command.name, *(["x"] * _required_positionals(command)), "--yes"]
        if command.confirm is not None:
            assert parser.parse_args(argv).yes is True
        elif not command.takes_query:  # a query command would read '--yes' as a word of the query
            with pytest.raises(SystemExit):
                parser.parse_args(argv)


def test_query_commands_are_those_with_free_words():
    assert sorted(c.name for c in db_tool.COMMANDS if c.takes_query) == ["export", "export-sidecars", "search"]
    assert {c.name: c.positionals_before_query for c in db_tool.COMMANDS if c.takes_query}["export"] == 1


def test_a_confirmation_asks_unless_yes_and_says_when_it_was_declined(monkeypatch, capsys):
    asked = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": asked.append(prompt) or "no")
    question = Confirmation("Delete {count} rows? (yes/no):", declined="Nothing deleted.")
    assert question.granted(True, count="3") is True and asked == []
    assert question.granted(False, count="3") is False
    assert asked == ["Delete 3 rows? (yes/no): "] and capsys.readouterr().out == "Nothing deleted.\n"


@pytest.mark.parametrize("parser, progress", [(db_filler.build_parser(), True), (statistic.build_parser(), False),
                                              (db_tool.build_parser(), True)])
def test_every_script_takes_the_shared_options(parser, progress):
    args = parser.parse_args(["--db", "a.db", "--config", "c.ini", "-v"] + (["--no-progress"] if progress else []))
    assert (args.db, args.config, args.verbose) == ("a.db", "c.ini", True)
    defaults = parser.parse_args([])
    assert (defaults.db, defaults.config, defaults.verbose) == (None, None, False)
    assert getattr(defaults, "no_progress", None) is (False if progress else None)


def test_shared_options_given_before_the_db_command_survive_its_sub_parser():
    args = db_tool.build_parser().parse_args(["--db", "a.db", "-v", "--no-progress", "stats"])
    assert (args.db, args.verbose, args.no_progress) == ("a.db", True, True)
    args = db_tool.build_parser().parse_args(["stats", "--db", "b.db"])
    assert (args.db, args.verbose, args.no_progress) == ("b.db", False, False)
