"""The headless browser the UI tests drive: Debian's Chromium through Selenium, and waiting
for the single-page app to render without guessing its timing (poll, reload, fail with a
screenshot)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tracefreeze.config import REPO_ROOT

OUTPUT_DIR = REPO_ROOT / "test-output" / "ui"
CHROMIUM = os.environ.get("TRACEFREEZE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TRACEFREEZE_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1100",
)
PAGE_TIMEOUT_S = 60  # the SPA's first load, and each element it renders
REFRESH_EVERY_S = 10  # the UI fetches once per load: reload while waiting for data
FRACTION_SLASH = "\u2044"  # the UI's Markdown renderer typesets "82/71" with it

T = TypeVar("T")


def wait_for(
    driver: Any,
    what: str,
    probe: Callable[[], T | None],
    timeout_s: float = PAGE_TIMEOUT_S,
    reload: bool = True,
) -> T:
    """Poll ``probe`` until it returns a value; reload the page now and then (unless
    ``reload`` is off: a reload would close what the probe looks into); fail clearly."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout_s
    next_refresh = time.monotonic() + (REFRESH_EVERY_S if reload else timeout_s + 1)
    last_error = ""
    while True:
        try:
            value = probe()
            if value is not None:
                return value
        except WebDriverException as err:  # not rendered yet, or re-rendered under us
            last_error = f" (last: {type(err).__name__}: {err.msg})"
        now = time.monotonic()
        if now >= deadline:
            shot = OUTPUT_DIR / "failure.png"
            driver.switch_to.default_content()
            driver.save_screenshot(str(shot))
            raise AssertionError(
                f"the Temporal UI did not show {what} within {timeout_s:.0f}s at "
                f"{driver.current_url}{last_error}; screenshot: {shot}"
            )
        if now >= next_refresh:
            driver.switch_to.default_content()
            driver.refresh()
            next_refresh = now + REFRESH_EVERY_S
        time.sleep(0.3)


def frame_text(driver: Any, frame_id: str) -> str:
    """The text of one of the UI's Markdown iframes (summary, details, current details)."""
    from selenium.webdriver.common.by import By

    driver.switch_to.default_content()
    driver.switch_to.frame(driver.find_element(By.ID, frame_id))
    try:
        return driver.find_element(By.TAG_NAME, "body").text.replace(FRACTION_SLASH, "/")
    finally:
        driver.switch_to.default_content()
