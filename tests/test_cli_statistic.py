"""parameter_statistic.py as users run it: the original's prompts with piped answers, the
flags, messages and exit codes, and runs on databases with nothing or little in them."""
from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest

from conftest import PEER_CORPUS, PROJECT_DIR, run_script
from exifdata_analytics import db
from exifdata_analytics.cli import statistic
from exifdata_analytics.reports import ORIGINAL_REPORTS
from test_analysis import build_small_db, record

CAT_BLOCK = ("Keyword: cat\nCount: 3\nTop Models: dreamshaper_8 (2), sdxl_base (1)\n"
             "Top Samplers: DPM++ 2M (1), Euler a (1)\n")


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    return build_small_db(tmp_path_factory.mktemp("cli") / "small.db")


@pytest.fixture
def config_for(tmp_path):
    """A config.ini whose default database is ``db``; logs go to tmp."""
    def make(db_file: Path) -> Path:
        path = tmp_path / "config.ini"
        path.write_text(f"[Paths]\nlogging_dir = {tmp_path / 'logs'}\n\n[Database]\ndb_name = {db_file} # default\n",
                        encoding="utf-8")
        return path
    return make


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """Run the CLI in this process (fast: pandas and matplotlib are imported once), with a
    config.ini in tmp (logs there, default database tmp/nope.db) unless --config is given."""
    config = tmp_path / "cli_config.ini"
    config.write_text(f"[Paths]\nlogging_dir = {tmp_path / 'logs'}\n\n[Database]\ndb_name = {tmp_path / 'nope.db'}\n",
                      encoding="utf-8")

    def run(*args: str, answers: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(answers))
        argv = list(args) if "--config" in args else ["--config", str(config), *args]
        argv += ["--workers", "1"]  # no helper process: the subprocess tests cover it
        code = statistic.main(argv)
        out, err = capsys.readouterr()
        return code, out, err
    return run


# -- prompts ---------------------------------------------------------------------------------

def test_piped_answers_to_the_original_prompts(small_db, config_for, tmp_path):
    out = tmp_path / "out"
    answers = f"{small_db}\n1\ncat, long hair\n2\n\n"  # database, typed keywords, top 2 models, default samplers
    # as users run it: a separate process, with the helper process (--workers 2) and the plots
    done = run_script("parameter_statistic.py", "--config", str(config_for(tmp_path / "nope.db")), "--out", str(out),
                      "--workers", "2", input=answers)
    assert done.returncode == 0, done.stderr
    for prompt in ("Enter the path to the database file (press Enter to use the default 'nope.db'):",
                   "Enter '1' to input keywords manually or '2' to load from a file",
                   "Enter keywords (comma-separated):",
                   "Enter the number of top models to display (default is 3):",
                   "Enter the number of top samplers to display (default is 3):"):
        assert prompt in done.stdout
    report = (out / "keyword_analysis.txt").read_text(encoding="utf-8")
    assert report.startswith(CAT_BLOCK)
    assert "Keyword: long hair\nCount: 2\nTop Models: dreamshaper_8 (1), sdxl_base (1)\n" \
           "Top Samplers: Euler (1), Euler a (1)\n" in report
    names = {p.name for p in out.iterdir()}
    assert names >= set(ORIGINAL_REPORTS) | {"Sampler_counts.png", "trends_by_month.png", "tfidf_analysis.png"}
    assert len([n for n in names if n.endswith(".png")]) == 24  # parameter_distributions.png and model_cards.png too
    assert "Analysis complete. Results saved in" in done.stdout and not done.stderr


def test_enter_takes_the_default_database_keywords_file_and_top_three(cli, small_db, config_for,
                                                                     tmp_path):
    code, out, _ = cli("--config", str(config_for(small_db)), "--out", str(tmp_path / "o"),
                        "--no-plots", answers="\n\n\n\n")
    assert code == 0
    assert re.search(r"^Keywords: \d+ from keywords\.txt$", out, re.M)
    report = (tmp_path / "o" / "keyword_analysis.txt").read_text(encoding="utf-8")
    assert report.startswith(CAT_BLOCK)  # 'cat' is in the project's keywords.txt, and is the top keyword here


def test_keyword_file_prompt_asks_again_for_a_missing_file(cli, small_db, tmp_path):
    keywords = tmp_path / "mine.txt"
    keywords.write_text("# mine\ndog\nunicorn\n", encoding="utf-8")
    code, out, _ = cli("--db", str(small_db), "--out", str(tmp_path / "o"), "--no-plots",
                        answers=f"2\n{tmp_path / 'missing.txt'}\n'{keywords}'\n0\nthree\n1\n\n")
    assert code == 0
    assert "Keyword file not found" in out
    assert "Please enter a number of at least 1." in out and "Please enter a whole number" in out
    report = (tmp_path / "o" / "keyword_analysis.txt").read_text(encoding="utf-8")
    assert report == ("Keyword: dog\nCount: 1\nTop Models: sdxl_base (1)\nTop Samplers: Euler (1)\n\n"
                      "Keyword: unicorn\nCount: 0\nTop Models: (none)\nTop Samplers: (none)\n")


def test_the_interactive_run_offers_the_html_report(cli, small_db, tmp_path):
    code, out, _ = cli("--db", str(small_db), "--out", str(tmp_path / "yes"), "--no-plots",
                       answers="1\ncat\n\n\nyes\n")
    assert code == 0
    assert "Also write the HTML report, report.html?" in out
    assert (tmp_path / "yes" / "report.html").is_file() and "HTML report:" in out
    # no, or the end of the piped answers, or an answer given as flags: no report.html
    for name, answers, flags in (("no", "1\ncat\n\n\nno\n", ()), ("eof", "1\ncat\n\n\n", ()),
                                 ("flags", "1\ncat\n\n", ("--top-samplers", "3"))):
        code, out, _ = cli("--db", str(small_db), "--out", str(tmp_path / name), "--no-plots", *flags, answers=answers)
        assert code == 0, name
        assert not (tmp_path / name / "report.html").exists(), name
        assert ("Also write the HTML report" in out) == (name != "flags"), name


def test_end_of_input_at_a_prompt_is_a_usage_error(cli, small_db):
    code, _, err = cli("--db", str(small_db), "--no-plots", answers="1\n")
    assert code == 2
    assert "standard input ended" in err and "--help" in err


def test_a_typed_database_path_that_does_not_exist_is_asked_again(cli, tmp_path):
    code, out, err = cli(answers="/no/such.db\n/no/other.db\n/no/third.db\n")
    assert code == 2
    assert out.count("Database file not found") == 3


# -- flags, messages, exit codes ---------------------------------------------------------------------

def test_missing_database_exits_1_and_names_the_fix(cli, tmp_path):
    code, _, err = cli("-y", "--db", str(tmp_path / "none.db"))
    assert code == 1
    assert "database not found" in err and "DB_filler.py" in err


def test_missing_keyword_file_exits_1_with_a_clear_message(cli, small_db, tmp_path):
    code, _, err = cli("-y", "--db", str(small_db), "--keywords-file", str(tmp_path / "k.txt"))
    assert code == 1
    assert "keyword file not found" in err and "--keywords" in err


def test_a_database_file_without_our_tables_exits_1(cli, tmp_path):
    empty_file = tmp_path / "blank.db"
    sqlite3.connect(empty_file).close()
    code, _, err = cli("-y", "--db", str(empty_file))
    assert code == 1 and "DB_filler.py" in err


@pytest.mark.parametrize("args", [["--since", "2024/01/01"], ["--top-models", "0"],
                                  ["--compare", "folder=/a"]])
def test_bad_flags_are_usage_errors(cli, small_db, args):
    with pytest.raises(SystemExit) as exc:  # argparse
        cli("-y", "--db", str(small_db), "--no-plots", *args)
    assert exc.value.code == 2


def test_bad_compare_subset_is_a_usage_error(cli, small_db, tmp_path):
    code, _, err = cli("-y", "--db", str(small_db), "--no-plots", "--out", str(tmp_path),
                        "--compare", "folder=/lib/a", "colour=red")
    assert code == 2 and "KEY=VALUE" in err


def test_flags_filter_and_count_as_asked(cli, small_db, tmp_path):
    out = tmp_path / "o"
    code, stdout, _ = cli("-y", "--db", str(small_db), "--out", str(out), "--no-plots",
                           "--keywords", "cat, dog", "--top-models", "1", "--top-samplers", "1",
                           "--folder", "/lib/a", "--folder", "/backup", "--no-dedupe")
    assert code == 0
    assert "4 images analysed (4 of 8 rows match the filters, duplicates counted (--no-dedupe))" in stdout
    report = (out / "keyword_analysis.txt").read_text(encoding="utf-8")
    assert report.startswith("Keyword: cat\nCount: 3\nTop Models: dreamshaper_8 (3)\nTop Samplers: Euler a (2)\n")
    counts = (out / "parameter_counts.txt").read_text(encoding="utf-8")
    assert counts.startswith("Analysis for Sampler:\nSampler\nEuler a    3\n\n")
    assert not list(out.glob("*.png"))


def test_compare_writes_a_side_by_side_report(cli, small_db, tmp_path):
    out = tmp_path / "o"
    assert cli("-y", "--db", str(small_db), "--out", str(out), "--no-plots")[0] == 0  # an earlier run
    assert (out / "camera_photos.txt").exists()
    code, _, _ = cli("-y", "--db", str(small_db), "--out", str(out), "--no-plots",
                      "--generator", "A1111", "--generator", "Forge",
                      "--compare", "folder=/lib/a", "since=2024-02-01")
    assert code == 0
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    assert text.startswith("Comparison of A = folder=/lib/a (3 images)\n          and B = since=2024-02-01 (1 image)")
    assert re.search(r"^Euler a\s+2\s+66\.7%\s+0\s+0\.0%$", text, re.M)
    assert re.search(r"^DPM\+\+ 2M\s+0\s+0\.0%\s+1\s+100\.0%$", text, re.M)
    assert not (out / "camera_photos.txt").exists()  # the earlier run's file would mislead


# -- little or nothing in the database ---------------------------------------------------------------

def test_empty_database_writes_empty_reports_and_plots(cli, tmp_path):
    path = tmp_path / "empty.db"
    db.connect(path).close()
    out = tmp_path / "o"
    code, stdout, _ = cli("-y", "--db", str(path), "--out", str(out), "--html")
    assert code == 0
    assert "The database holds no images yet" in stdout
    names = {p.name for p in out.iterdir()}
    assert set(ORIGINAL_REPORTS) | {"Sampler_counts.png", "tfidf_analysis.png", "report.html"} <= names


def test_database_of_photos_without_prompts_does_not_fail(cli, tmp_path):
    path = tmp_path / "photos.db"
    con = db.connect(path)
    db.write_batch(con, [(record(f"/p/IMG_{i}.jpg", generator=None, format="JPEG", parse_status="no_metadata",
                                 sha256=f"{i:064d}", raw_json='{"IFD0:Make": "SONY", "IFD0:Model": "ILCE-7M3"}'), ())
                         for i in range(4)])
    con.close()
    out = tmp_path / "o"
    code, stdout, _ = cli("-y", "--db", str(path), "--out", str(out), "--no-plots",
                           "--keywords", "cat")
    assert code == 0
    assert "None of the selected images has a prompt" in stdout
    assert (out / "tfidf_analysis.txt").read_text(encoding="utf-8") == "TF-IDF Analysis of Prompts:\n"
    assert "SONY ILCE-7M3    4" in (out / "camera_photos.txt").read_text(encoding="utf-8")


def test_default_output_folder_is_output_plots_next_to_the_scripts():
    assert statistic.DEFAULT_OUT_DIR == PROJECT_DIR / "output_plots"
    assert statistic.DEFAULT_KEYWORDS_FILE == PROJECT_DIR / "keywords.txt"
    assert statistic.DEFAULT_KEYWORDS_FILE.exists()


def test_missing_default_keywords_file_is_a_note_not_an_error(cli, monkeypatch, small_db, tmp_path):
    monkeypatch.setattr(statistic, "DEFAULT_KEYWORDS_FILE", tmp_path / "keywords.txt")
    code, out, _ = cli("-y", "--db", str(small_db), "--out", str(tmp_path / "o"), "--no-plots")
    assert code == 0 and "No default keyword file keywords.txt" in out
    assert (tmp_path / "o" / "keyword_analysis.txt").read_text(encoding="utf-8").startswith("No keywords were given")


@pytest.mark.skipif(not PEER_CORPUS.is_dir(), reason="needs ../shared/corpus/peer")
def test_peer_corpus_end_to_end_every_report_and_plot(tmp_path):
    database = tmp_path / "peer.db"
    filled = run_script("DB_filler.py", str(PEER_CORPUS), "-r", "-y", "--db", str(database), "--no-progress")
    assert filled.returncode == 0, filled.stderr
    out = tmp_path / "report"
    done = run_script("parameter_statistic.py", "-y", "--db", str(database), "--out", str(out), "--html",
                      "--no-plots", "--keywords", "1girl, hatsune miku, duck")  # plots: test_reports
    assert done.returncode == 0, done.stderr
    names = {p.name for p in out.iterdir()}
    assert set(ORIGINAL_REPORTS) <= names and "report.html" in names
    keyword = (out / "keyword_analysis.txt").read_text(encoding="utf-8")
    assert "Keyword: 1girl\nCount: " in keyword and "Keyword: hatsune miku\n" in keyword
    coverage = (out / "coverage.txt").read_text(encoding="utf-8")
    assert "A1111" in coverage and "ComfyUI" in coverage
