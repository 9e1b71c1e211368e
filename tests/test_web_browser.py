"""The local browser in a real headless Chromium (Selenium, Debian's chromium-driver): clicking a
dashboard bar narrows the grid to those images, a typed search shows the right count, a facet
narrows it further, an image page shows its parameters and copies its infotext."""
from __future__ import annotations

import pytest

from tests.test_web import Served, _library, _total

from exifdata_analytics.filler import FillOptions, fill


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("webui")
    _library(root / "images")
    db_path = root / "ui.db"
    fill(FillOptions(root=str(root / "images"), recursive=True, db_path=db_path, workers=1))
    served = Served(db_path, root / "thumbs")
    yield served, db_path
    served.close()


def _url(served, path: str = "/") -> str:
    return f"http://127.0.0.1:{served.port}{path}"


def _navigate(browser, action) -> None:
    """Do what leaves the page (a submit, a click on a link) and wait until the next one has loaded:
    Selenium does not wait for a form submit, so reading the page at once may read the old one."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import WebDriverException

    old_page = browser.find_element("tag name", "html")
    action()

    def left(b) -> bool:
        try:
            return expected_conditions.staleness_of(old_page)(b)
        except WebDriverException as exc:  # Chromium may say the old node left the document instead
            if "does not belong to the document" in str(exc):
                return True
            raise

    WebDriverWait(browser, 10).until(left)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _count(browser) -> int:
    return int(browser.find_element("id", "result-count").get_attribute("data-total"))


def test_clicking_a_bar_narrows_the_grid_to_its_images(browser, site):
    served, db_path = site
    browser.get(_url(served))
    bar = browser.find_element("css selector", '#sampler a.bar-link[title^="Euler a:"]')
    expected = int(bar.get_attribute("data-images"))
    assert expected == 3
    _navigate(browser, bar.click)
    assert _count(browser) == expected
    tiles = browser.find_elements("css selector", ".grid .tile")
    assert len(tiles) == expected
    assert browser.find_element("id", "q").get_attribute("value") == 'sampler="Euler a"'
    # the thumbnails really load (real JPEGs from the server)
    widths = browser.execute_script("return [...document.querySelectorAll('.tile img')].map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths)


def test_a_typed_search_shows_its_count_and_a_facet_narrows_it(browser, site):
    served, db_path = site
    browser.get(_url(served))
    box = browser.find_element("id", "q")
    box.send_keys("knight")
    _navigate(browser, box.submit)
    assert _count(browser) == _total(db_path, "knight") == 6
    facet = browser.find_element("css selector", '.facet[data-facet="model"] a.facet-link[title="juggernautXL_v9"]')
    expected = int(facet.get_attribute("data-images"))
    _navigate(browser, facet.click)
    assert _count(browser) == expected == _total(db_path, 'knight model="juggernautXL_v9"') == 2
    assert len(browser.find_elements("css selector", ".grid .tile")) == 2


def test_an_image_page_shows_its_parameters_and_copies_the_infotext(browser, site):
    served, _ = site
    browser.get(_url(served, "/search?q=castle"))
    _navigate(browser, browser.find_element("css selector", ".grid .tile").click)
    rows = {r.find_element("css selector", "th").text: r.find_element("css selector", "td").text
            for r in browser.find_elements("css selector", "#parameters tr")}
    assert rows["Generator"] == "ComfyUI" and rows["Steps"] == "25" and rows["Seed"] == "5"
    assert rows["Model"] == "sd_xl_base_1.0.safetensors"
    assert browser.find_element("id", "prompt").text == "a castle at dusk"
    button = browser.find_element("css selector", "button.copy")
    button.click()
    from selenium.webdriver.support.ui import WebDriverWait

    # the clipboard answers asynchronously; headless, it may refuse (then the text is selected)
    WebDriverWait(browser, 10).until(lambda _: button.get_attribute("data-copied") is not None)
    assert button.get_attribute("data-copied") in ("yes", "no")
    if button.get_attribute("data-copied") == "no":  # then the text is selected for the user to copy
        selected = browser.execute_script("return window.getSelection().toString()")
        assert "a castle at dusk" in selected and "Steps: 25" in selected
    # no script errors on any page
    logs = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE" and "favicon" not in e["message"]]
    assert logs == []
