"""parameter_statistic_DB.py as people use it: subcommands, the menu with piped answers,
confirmations, bad input, end of input, Ctrl-C, and the seed's functions by name."""
from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exifdata_analytics.cli.db_format import format_table
from exifdata_analytics.cli.db_tool import main, split_query_argv, build_parser
from exifdata_analytics.filler import FillOptions, fill
from tests.conftest import PROJECT_DIR, rows, run_script
from tests.test_legacy import LEGACY_SCHEMA
from tests.test_maintenance import make_images

SCRIPT = "parameter_statistic_DB.py"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    images = make_images(tmp / "imgs")
    dbp = tmp / "cli.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=dbp, workers=1))
    return images, dbp


@pytest.fixture
def fresh_db(indexed, tmp_path) -> Path:
    """A private copy of the module's database, for commands that change it."""
    _, dbp = indexed
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(dbp)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    return copy


def run(capsys, config_path, *args) -> tuple[int, str, str]:
    code = main(["--config", str(config_path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- subcommands ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["stats"], ["images:", "with generation data:", "A1111", "dreamshaper_8"]),
    (["sample", "2"], ["Random sample of 2 of 4 images", "Path", "Prompt"]),
    (["integrity"], ["SQLite integrity check:", "ok", "Database integrity check passed."]),
    (["size"], ["database file:", "images"]),
    (["last-modified"], ["Database last modified:", "Last image indexed:"]),
    (["search", "cat"], ["1 image match 'cat'", "cat.png", "Euler a", "dreamshaper_8"]),
    (["duplicates"], ["No duplicates"]),
    (["coverage"], ["A1111", "ok", "no_metadata"]),
])
def test_read_only_commands_print_their_report(capsys, config_path, indexed, args, expected):
    _, dbp = indexed
    before = rows(dbp, "SELECT COUNT(*) AS n FROM images")[0]["n"]
    code, out, err = run(capsys, config_path, *args, "--db", str(dbp))
    assert code == 0, err
    for text in expected:
        assert text in out
    assert rows(dbp, "SELECT COUNT(*) AS n FROM images")[0]["n"] == before


@pytest.mark.parametrize("args", [["stats", "--json"], ["sample", "3", "--json"], ["integrity", "--json"],
                                  ["size", "--json"], ["search", "a", "--json"], ["duplicates", "--json"],
                                  ["coverage", "--json"]])
def test_json_output_is_valid_json(capsys, config_path, indexed, args):
    code, out, err = run(capsys, config_path, *args, "--db", str(indexed[1]))
    assert code == 0, err
    json.loads(out)


def test_db_before_or_after_the_command_and_the_config_default(capsys, tmp_path, indexed):
    _, dbp = indexed
    cfg = tmp_path / "config.ini"
    cfg.write_text(f"[Paths]\nlogging_dir = {tmp_path / 'logs'}\n[Database]\ndb_name = {dbp} # default\n")
    assert main(["--db", str(dbp), "stats", "--config", str(cfg)]) == 0
    assert main(["stats", "--config", str(cfg)]) == 0  # from config.ini
    out = capsys.readouterr().out
    assert out.count(f"Database: {dbp}") == 2
    assert (tmp_path / "logs" / "process_logDB.txt").exists()


def test_search_words_fields_and_dashes_reach_the_query(capsys, config_path, indexed):
    _, dbp = indexed
    code, out, _ = run(capsys, config_path, "search", "(a", "OR", "an)", "-cat", "--limit", "5", "steps>=20",
                       "--db", str(dbp))
    assert code == 0
    assert "2 images match '(a OR an) -cat steps>=20'" in out and "dog.png" in out and "owl.jpg" in out
    code, out, _ = run(capsys, config_path, "search", "--in", "negative", "blurry", "--db", str(dbp), "--json")
    assert [h["file_name"] for h in json.loads(out)["hits"]] == ["cat.png"]
    code, out, _ = run(capsys, config_path, "search", "--db", str(dbp), "--", "-cat")
    assert "3 images match '-cat'" in out


def test_split_query_argv_keeps_options_for_argparse():
    parser = build_parser()
    argv, words = split_query_argv(parser, ["--db", "x", "search", "cat", "-hat", "--limit", "3", "--json", "(a", "OR", "b)"])
    assert argv == ["--db", "x", "search", "--limit", "3", "--json"]
    assert words == ["cat", "-hat", "(a", "OR", "b)"]
    argv, words = split_query_argv(parser, ["export", "out.csv", "-neg:blurry", "--force"])
    assert argv == ["export", "out.csv", "--force"] and words == ["-neg:blurry"]
    assert split_query_argv(parser, ["stats"]) == (["stats"], None)


@pytest.mark.parametrize("query", ["' OR 1=1 --", "'; DROP TABLE images; --", '"', "NEAR(", "(((", "steps>=x", "*"])
def test_hostile_search_never_shows_a_traceback_and_changes_nothing(tmp_path, config_path, indexed, query):
    _, dbp = indexed
    before = digest(dbp)
    out = run_script(SCRIPT, "search", query, "--db", str(dbp), "--config", str(config_path))
    assert out.returncode in (0, 2), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    if out.returncode == 2:
        assert "error: 'steps' needs a number" in out.stderr
    assert digest(dbp) == before


def test_a_missing_database_is_a_fatal_error_and_is_not_created(capsys, config_path, tmp_path):
    missing = tmp_path / "none.db"
    for cmd in (["stats"], ["search", "cat"], ["clear", "--yes"], ["backup", str(tmp_path / "bk")]):
        code, _, err = run(capsys, config_path, *cmd, "--db", str(missing))
        assert code == 1 and "database not found" in err
    assert not missing.exists()


def test_backup_command_writes_a_verified_copy(capsys, config_path, indexed, tmp_path):
    code, out, _ = run(capsys, config_path, "backup", str(tmp_path / "bk"), "--db", str(indexed[1]))
    assert code == 0 and "Database backup created at" in out and "verified (integrity ok)" in out
    assert len(list((tmp_path / "bk").glob("cli_backup_*.db"))) == 1


def test_optimize_and_clear_with_yes(capsys, config_path, fresh_db):
    code, out, _ = run(capsys, config_path, "optimize", "--db", str(fresh_db))
    assert code == 0 and "Database optimization completed" in out
    code, out, _ = run(capsys, config_path, "clear", "--yes", "--db", str(fresh_db))
    assert code == 0 and "Database cleared: 4 images" in out
    assert rows(fresh_db) == []


def test_clear_asks_and_a_no_or_end_of_input_deletes_nothing(config_path, fresh_db):
    out = run_script(SCRIPT, "clear", "--db", str(fresh_db), "--config", str(config_path), input="no\n")
    assert out.returncode == 0 and "Delete all 4 images" in out.stdout and "Nothing deleted." in out.stdout
    out = run_script(SCRIPT, "clear", "--db", str(fresh_db), "--config", str(config_path), input="")
    assert out.returncode == 2 and "standard input ended" in out.stderr
    assert len(rows(fresh_db)) == 4
    out = run_script(SCRIPT, "clear", "--db", str(fresh_db), "--config", str(config_path), input="yes\n")
    assert out.returncode == 0 and rows(fresh_db) == []


def test_prune_lists_asks_and_removes(capsys, config_path, tmp_path):
    images = make_images(tmp_path / "imgs")
    dbp = tmp_path / "p.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=dbp, workers=1))
    (images / "cat.png").unlink()
    code, out, _ = run(capsys, config_path, "prune", "--dry-run", "--db", str(dbp))
    assert code == 0 and "1 of 4 rows point to files that no longer exist" in out and "Dry run" in out
    out = run_script(SCRIPT, "prune", "--db", str(dbp), "--config", str(config_path), "--no-progress", input="n\n")
    assert "Nothing removed." in out.stdout and len(rows(dbp)) == 4
    code, out, _ = run(capsys, config_path, "prune", "--yes", "--db", str(dbp))
    assert code == 0 and "Removed 1 rows" in out and len(rows(dbp)) == 3
    code, out, _ = run(capsys, config_path, "integrity", "--db", str(dbp))
    assert "files missing:               0" in out


def test_integrity_fails_with_exit_1_on_a_damaged_index(capsys, config_path, fresh_db):
    con = sqlite3.connect(fresh_db)
    con.execute("DROP TRIGGER images_fts_delete")
    con.execute("DELETE FROM images WHERE file_name = 'cat.png'")
    con.commit()
    con.close()
    code, out, _ = run(capsys, config_path, "integrity", "--db", str(fresh_db))
    assert code == 1 and "FAILED" in out


def test_export_by_extension_with_a_query(capsys, config_path, indexed, tmp_path):
    _, dbp = indexed
    for name in ("x.csv", "x.json", "x.jsonl"):
        code, out, _ = run(capsys, config_path, "export", str(tmp_path / name), "steps>=25", "--db", str(dbp))
        assert code == 0 and f"Exported 2 images to {tmp_path / name}" in out
    assert len(json.loads((tmp_path / "x.json").read_text())) == 2
    code, _, err = run(capsys, config_path, "export", str(tmp_path / "x.csv"), "--db", str(dbp))
    assert code == 1 and "already exists" in err
    code, _, err = run(capsys, config_path, "export", str(tmp_path / "x.xlsx"), "--db", str(dbp))
    assert code == 1 and ".csv, .json, .jsonl or .parquet" in err


def test_export_sidecars_command(capsys, config_path, tmp_path):
    images = make_images(tmp_path / "imgs")
    dbp = tmp_path / "s.db"
    fill(FillOptions(root=str(images), recursive=True, db_path=dbp, workers=1))
    code, out, _ = run(capsys, config_path, "export-sidecars", "--dry-run", "--db", str(dbp))
    assert code == 0 and "would be written:" in out and not list(images.rglob("*.json"))
    code, out, _ = run(capsys, config_path, "export-sidecars", "-neg:blurry", "--db", str(dbp))
    assert code == 0
    assert sorted(p.name for p in images.rglob("*.json")) == ["dog.png.json", "owl.jpg.json"]


def test_import_legacy_command(capsys, config_path, tmp_path):
    old = tmp_path / "old.db"
    con = sqlite3.connect(old)
    con.execute(LEGACY_SCHEMA)
    con.execute("INSERT INTO file_metadata VALUES (?, ?, ?, ?, ?)", (
        "x.png", str(tmp_path / "x.png"), 1.7e9, "file type: PNG\nparameters: a heron.",
        "muddy.Steps: 20, Sampler: Euler, Seed: 4, Size: 512x512"))
    con.commit()
    con.close()
    new = tmp_path / "new.db"
    code, out, err = run(capsys, config_path, "import-legacy", str(old), "--db", str(new))
    assert code == 0, err
    assert re.search(r"files gone: parsed from stored text: +1\n", out)
    row = rows(new)[0]
    assert (row["prompt"], row["negative_prompt"], row["steps"]) == ("a heron", "muddy", 20)
    code, _, err = run(capsys, config_path, "import-legacy", str(new), "--db", str(tmp_path / "n2.db"))
    assert code == 1 and "no file_metadata table" in err


# -- the menu ------------------------------------------------------------------------------

def test_menu_driven_by_piped_answers(config_path, indexed, tmp_path):
    _, dbp = indexed
    answers = "\n".join(["1", "2", "red hair", "99", "hello", "", "3", "x", "3", "2", "5", str(tmp_path / "bk"),
                         "7", "0"]) + "\n"
    out = run_script(SCRIPT, "--db", str(dbp), "--config", str(config_path), input=answers)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "ExifData Analytics - database tools" in text and "15  Clear the database" in text
    assert "with generation data:" in text  # 1
    assert "1 image match 'red hair'" in text and "cat.png" in text  # 2
    assert "'99' is not on the menu" in text and "'hello' is not on the menu" in text
    assert text.count("ExifData Analytics - database tools") == 2  # Enter shows the menu again
    assert "Please enter a whole number." in text and "Random sample of 2 of 4 images" in text  # 3
    assert "Database backup created at" in text and list((tmp_path / "bk").glob("*.db"))  # 5
    assert "Database last modified:" in text and text.rstrip().endswith("Bye.")
    assert "Traceback" not in out.stderr


def test_menu_clear_asks_first(config_path, fresh_db):
    out = run_script(SCRIPT, "--db", str(fresh_db), "--config", str(config_path), input="15\nno\n0\n")
    assert "Nothing deleted." in out.stdout and len(rows(fresh_db)) == 4
    out = run_script(SCRIPT, "--db", str(fresh_db), "--config", str(config_path), input="15\nmaybe\nyes\n0\n")
    assert "Please answer yes or no." in out.stdout and "Database cleared: 4 images" in out.stdout
    assert rows(fresh_db) == []


def test_menu_survives_errors_and_ends_cleanly_at_end_of_input(config_path, indexed, tmp_path):
    _, dbp = indexed
    blocker = tmp_path / "file"
    blocker.write_text("x")
    answers = f"2\nsteps>=lots\n5\n{blocker / 'bk'}\n9\nout.xlsx\n1\n"  # no 0: input just ends
    out = run_script(SCRIPT, "--db", str(dbp), "--config", str(config_path), input=answers)
    assert out.returncode == 0
    assert "error: 'steps' needs a number" in out.stdout
    assert "error: cannot create the backup folder" in out.stdout
    assert "error: cannot tell the export format" in out.stdout
    assert "with generation data:" in out.stdout  # the session went on after the errors
    assert "End of input: bye." in out.stdout and "Traceback" not in out.stderr


def test_menu_with_a_missing_database_still_runs(config_path, tmp_path):
    missing = tmp_path / "none.db"
    out = run_script(SCRIPT, "--db", str(missing), "--config", str(config_path), input="1\n0\n")
    assert out.returncode == 0 and "not found yet" in out.stdout and "error: database not found" in out.stdout
    assert not missing.exists()


def test_ctrl_c_in_an_action_returns_to_the_menu(capsys, config_path, indexed, monkeypatch):
    _, dbp = indexed
    answers = iter(["2", KeyboardInterrupt, "7", "0"])

    def fake_input(prompt=""):
        print(prompt, end="")
        answer = next(answers)
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt  # the user pressing Ctrl-C at the search prompt
        return answer

    monkeypatch.setattr(builtins, "input", fake_input)
    code, out, _ = run(capsys, config_path, "--db", str(dbp))
    assert code == 0 and "Cancelled." in out and "Database last modified:" in out and "Bye." in out


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_ctrl_c_at_the_menu_prompt_leaves_with_130(config_path, indexed):
    _, dbp = indexed
    proc = subprocess.Popen([sys.executable, str(PROJECT_DIR / SCRIPT), "--db", str(dbp), "--config", str(config_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(PROJECT_DIR))
    try:
        deadline = time.monotonic() + 20
        seen = b""
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        while b"Choose 0-16" not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(fd, 65536)
            except BlockingIOError:
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)  # stdin stays open: only the signal can end the session
        os.set_blocking(fd, True)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and b"Interrupted" in seen + out and b"Traceback" not in err


# -- the seed's functions ------------------------------------------------------------------

def test_the_seed_functions_are_importable_by_name_and_work(indexed, tmp_path):
    images, dbp = indexed
    sys.path.insert(0, str(PROJECT_DIR))
    try:
        import parameter_statistic_DB as seed
    finally:
        sys.path.remove(str(PROJECT_DIR))
    for name in ("database_stats", "optimize_database", "metadata_sample", "check_database_integrity",
                 "backup_database", "database_size", "last_modified", "clear_database", "search_metadata",
                 "list_models_in_directory"):
        assert callable(getattr(seed, name)), name
    assert seed.database_stats(dbp).total_records == 4
    assert seed.check_database_integrity(dbp) is not None and bool(seed.check_database_integrity(dbp))
    assert seed.search_metadata("owl", dbp) == [("owl.jpg", str(images / "sub" / "owl.jpg"))]
    assert seed.list_models_in_directory(images, dbp)["dreamshaper_8"] == [str(images / "cat.png"),
                                                                           str(images / "sub" / "owl.jpg")]
    assert int(seed.database_size(dbp)) > 0 and float(seed.last_modified(dbp)) > 0
    assert len(seed.metadata_sample(2, dbp)) == 2
    assert Path(seed.backup_database(tmp_path / "bk", dbp).backup_path).exists()


def test_tables_align_wide_characters_and_clip_long_cells():
    table = format_table(["Name", "N"], [("猫の絵", "5"), ("a" * 50, "12")], numeric=(1,), max_widths={0: 10})
    lines = table.splitlines()
    assert lines[2] == "猫の絵       5"  # CJK characters take two columns each
    assert lines[3] == "aaaaaaaaa…  12"


def test_search_paths_for_scripts_and_notes_on_stderr(capsys, config_path, indexed):
    images, dbp = indexed
    code, out, err = run(capsys, config_path, "search", "--paths", "--db", str(dbp), "a", "OR")
    everything = run(capsys, config_path, "search", "--all", "--json", "--db", str(dbp), "a")[1]
    expected = [h["path"] for h in json.loads(everything)["hits"]]
    assert code == 0 and out.splitlines() == expected and len(expected) > 1  # every match: no limit of 50
    assert "Note:" in err and "Note:" not in out
    code, out, _ = run(capsys, config_path, "search", "--paths", "-0", "--limit", "1", "--db", str(dbp), "a")
    assert code == 0 and out == expected[0] + "\0"
    code, out, err = run(capsys, config_path, "search", "--db", str(dbp), "a", "OR")
    assert code == 0 and "Note:" in err and "Note:" not in out and "images match" in out
    for bad in (["-0"], ["--paths", "--json"]):
        code, _, err = run(capsys, config_path, "search", *bad, "--db", str(dbp), "a")
        assert code == 2 and err.startswith("error:")
