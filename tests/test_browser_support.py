"""The browser the UI tests drive is real: it runs the page's JavaScript and reports what it shows."""
from __future__ import annotations


def test_chromium_runs_javascript_on_a_local_page(browser, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><title>t</title><ul id=l><li>b<li>a</ul>"
                    "<script>const l=document.getElementById('l');"
                    "[...l.children].sort((x,y)=>x.textContent.localeCompare(y.textContent)).forEach(c=>l.append(c));"
                    "document.title='sorted'</script>", encoding="utf-8")
    browser.get(page.as_uri())
    assert browser.title == "sorted"
    assert [li.text for li in browser.find_elements("css selector", "#l li")] == ["a", "b"]
