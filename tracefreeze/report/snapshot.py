"""A screenshot of a request's page in the Temporal UI, taken by headless Chromium.

Used by the demo so a reader sees what a Registry officer sees. Debian's ``chromium`` and
``chromium-driver`` (installed by ``deploy/local/browser.sh``) are driven through Selenium
with an explicit driver path, so nothing is downloaded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tracefreeze.errors import TracefreezeError

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1000",
)


def screenshot(url: str, expect_text: str, out: Path, timeout_s: float = 45.0) -> Path:
    """Open ``url``, wait until ``expect_text`` is on the page, and save a PNG to ``out``."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        raise TracefreezeError("no headless Chromium: run deploy/local/browser.sh as root")
    from selenium.common.exceptions import WebDriverException

    try:
        return _take(url, expect_text, out, timeout_s)
    except WebDriverException as err:  # e.g. no UI listening there: one line, no traceback
        first = (err.msg or type(err).__name__).splitlines()[0]
        raise TracefreezeError(f"the UI at {url} could not be shown: {first}") from err


def _take(url: str, expect_text: str, out: Path, timeout_s: float) -> Path:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="tracefreeze-chromium-") as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            driver.set_page_load_timeout(timeout_s)
            driver.get(url)
            deadline = time.monotonic() + timeout_s
            while expect_text not in driver.find_element(By.TAG_NAME, "body").text:
                if time.monotonic() > deadline:
                    raise TracefreezeError(f"the UI did not show {expect_text!r} at {url}")
                time.sleep(0.5)
            time.sleep(1.5)  # let the page's panels finish rendering
            out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    return out
