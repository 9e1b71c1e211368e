"""A real headless Chromium (Debian's ``chromium``) driven through Selenium and Debian's
``chromium-driver``, for every test of what a browser shows (the HTML report, the local browser).

``scripts/setup.sh`` installs both with the dev requirements; where they are missing the tests
that need them are skipped with the reason. One browser per test module (starting one takes
about a second); each test opens its own page.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from typing import Iterator, Optional

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WINDOW = (1280, 900)


def unavailable() -> Optional[str]:
    """Why no browser can be started here, or None."""
    if not CHROMIUM:
        return "needs chromium (apt-get install chromium)"
    if not CHROMEDRIVER:
        return "needs chromedriver (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install -r requirements-dev.txt)"
    return None


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium WebDriver with a throw-away profile; quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="exifdata-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
                    f"--window-size={WINDOW[0]},{WINDOW[1]}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()
