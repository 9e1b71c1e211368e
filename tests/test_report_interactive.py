"""report.html is interactive and still one self-contained file: every table complete, sortable by
any column, filterable; numeric parameters switch between value and count order; bars and example
thumbnails with their prompt on hover; a table of contents that stays in view. Checked on the
file itself and in a real headless Chromium (Selenium)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.reports.html_parts import MAX_TABLE_ROWS, html_table
from exifdata_analytics.samples import a1111_infotext, write_png
from tests.conftest import PROJECT_DIR

PLANTED = 'a <script>alert("x")</script> fox'
SAMPLERS = ["Euler a"] * 9 + ["DPM++ 2M"] * 5 + ["DDIM"] * 3 + ["UniPC"] * 2 + ["Heun"]
STEPS = [20] * 6 + [30] * 4 + [25] * 10  # by count: 25 first; by value: 20 first


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("interactive")
    images = root / "images"
    images.mkdir()
    for i, (sampler, steps) in enumerate(zip(SAMPLERS, STEPS)):
        prompt = PLANTED if i == 0 else f"a knight {i}, castle, tag{i % 7} <lora:detail{i % 3}:0.{i % 9 + 1}>"
        write_png(images / f"{i:02d}.png", {"parameters": a1111_infotext(prompt, "blurry", {
            "Steps": steps, "Sampler": sampler, "CFG scale": 4 + i % 5, "Seed": i, "Size": "512x768",
            "Model": f"model{i % 4}", "Version": "v1.10.1"})}, size=(40, 60))
    db_path = root / "r.db"
    fill(FillOptions(root=str(images), recursive=False, db_path=db_path, workers=1))
    config = root / "config.ini"
    config.write_text(f"[Paths]\nlogging_dir = {root / 'logs'}\nthumbnail_dir = {root / 'thumbs'}\n", encoding="utf-8")
    out = root / "report"
    done = subprocess.run([sys.executable, str(PROJECT_DIR / "parameter_statistic.py"), "-y", "--db", str(db_path),
                           "--out", str(out), "--html", "--no-plots", "--config", str(config), "--workers", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out / "report.html"


def _thumbs(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="thumbs">(.*?)</script>', page, re.S).group(1))


def test_the_file_is_self_contained_and_every_value_escaped(report):
    page = report.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)  # nothing from the network
    assert "<script>alert" not in page and "a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; fox" in page
    thumbs = _thumbs(page)
    assert thumbs and all(v.startswith("data:image/jpeg;base64,") for v in thumbs.values())
    # each example image is embedded once, however many values it illustrates
    assert len(thumbs) == len(set(re.findall(r'data-thumb="(\d+)"', page)))
    assert page.count("data:image/jpeg;base64,") == len(thumbs)


def test_tables_are_complete_with_up_to_four_examples_per_top_value(report):
    page = report.read_text(encoding="utf-8")
    block = page[page.index("<h3>Sampler</h3>"):]
    table = block[:block.index("</table>")]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=n", table)
    assert rows == ["Euler a", "DPM++ 2M", "DDIM", "UniPC", "Heun"]  # all of them, most used first
    for row in re.findall(r"<tr>.*?</tr>", table):
        assert len(re.findall(r"<img class=\"ex\"", row)) <= 4
    euler = next(r for r in re.findall(r"<tr>.*?</tr>", table) if r.startswith("<tr><td>Euler a</td>"))
    assert len(re.findall(r'data-thumb="\d+"', euler)) == 4 and 'title="Euler a: 9 images (45.0%)"' in euler
    # the planted prompt is a title (hover), escaped
    assert 'title="a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; fox"' in page


def test_a_table_past_the_cap_says_how_many_rows_it_leaves_to_the_text_report():
    rows = [(f"word{i}", 5000 - i) for i in range(MAX_TABLE_ROWS + 5)]
    out = html_table(["word", "count"], rows, "prompt_word_counts.txt")
    assert out.count("<tr>") == MAX_TABLE_ROWS + 1
    assert f"The top {MAX_TABLE_ROWS:,} of {MAX_TABLE_ROWS + 5:,} rows; prompt_word_counts.txt has all." in out


def _column(browser, table, col: int) -> list[str]:
    return browser.execute_script(
        "return [...arguments[0].tBodies[0].rows].filter(r => !r.hidden).map(r => r.cells[arguments[1]].textContent)",
        table, col)


def test_tables_sort_and_filter_in_a_browser(browser, report):
    browser.get(report.as_uri())
    sampler = browser.find_element("xpath", "//h3[text()='Sampler']/following-sibling::table[1]")
    names = browser.find_element("xpath", "//h3[text()='Sampler']/following-sibling::table[1]//th[1]")
    names.click()  # text: ascending first
    assert _column(browser, sampler, 0) == sorted(_column(browser, sampler, 0), key=str.lower)
    assert names.get_attribute("aria-sort") == "ascending"
    names.click()
    assert _column(browser, sampler, 0) == sorted(_column(browser, sampler, 0), key=str.lower, reverse=True)
    images = browser.find_element("xpath", "//h3[text()='Sampler']/following-sibling::table[1]//th[2]")
    images.click()  # numbers: largest first
    assert _column(browser, sampler, 1) == ["9", "5", "3", "2", "1"]
    images.click()
    assert _column(browser, sampler, 1) == ["1", "2", "3", "5", "9"]
    # the filter box of a long table (the prompt tags: 20 images' tags) hides what does not match
    tags = browser.find_element("xpath", "//h3[text()='prompt tags']/following-sibling::table[1]")
    box = browser.find_element("xpath", "//h3[text()='prompt tags']/following-sibling::input[@class='filter']")
    box.send_keys("tag3")
    assert _column(browser, tags, 0) == ["tag3"]
    box.clear()
    box.send_keys("zzz-nothing")
    assert _column(browser, tags, 0) == []


def test_numeric_parameters_switch_between_value_and_count_order(browser, report):
    browser.get(report.as_uri())
    table = browser.find_element("xpath", "//h3[text()='Steps']/following-sibling::table[1]")
    assert _column(browser, table, 0) == ["25", "20", "30"]  # count order, as written
    browser.find_element("xpath", "//h3[text()='Steps']/following-sibling::div[@class='order']/button[1]").click()
    assert _column(browser, table, 0) == ["20", "25", "30"]
    browser.find_element("xpath", "//h3[text()='Steps']/following-sibling::div[@class='order']/button[2]").click()
    assert _column(browser, table, 0) == ["25", "20", "30"]


def test_thumbnails_show_and_the_contents_stay_in_view(browser, report):
    browser.get(report.as_uri())
    widths = browser.execute_script("return [...document.querySelectorAll('img.ex')].map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths)
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    top = browser.execute_script("return document.querySelector('nav').getBoundingClientRect().top")
    assert top == 0  # sticky: still at the top of the window after scrolling to the end
    logs = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert logs == []
