"""The Temporal Web UI as a Registry officer uses it, in headless Chromium (Selenium).

The suite's stack serves the UI on a free port (tracefreeze/stack/isolated.py). A request is
submitted with a unique case number; the browser lists the workflows of that case through a
visibility query in the URL, opens the request and reads its static summary and details
and its current details (Markdown rendered by the UI in iframes). Screenshots are written
to ``test-output/ui/`` at the repository root.

Chromium and ChromeDriver come from Debian's packages (``deploy/local/browser.sh``, run by
``make test``); without them this test fails, it never skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from temporalio.service import RPCError

from tests.builders import case_number, court_request
from tracefreeze.client import RequestClient
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.security.codec import codec_from_env
from tracefreeze.security.codec_auth import NoAuth
from tracefreeze.security.codec_server import make_codec_server
from tracefreeze.worker import run_worker
from workflows import search_attributes as sa

pytestmark = pytest.mark.stack

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "court-request.json"
README = REPO_ROOT / "README.md"
README_SECTION = "## The Temporal UI as a control room"
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


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium driven by Selenium through Debian's chromedriver."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the browser test of the Temporal UI needs "
            "Debian's chromium and chromium-driver; run deploy/local/browser.sh as root "
            "(make test does), or apt-get install chromium chromium-driver",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(
            "the Python package selenium is missing: make venv installs the test extras",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager never tries to download a browser or driver.
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    browser.set_page_load_timeout(PAGE_TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def codec_server(stack: Settings) -> Iterator[str | None]:
    """The codec server the stack's UI decodes with (``make apps-up`` runs it for a
    developer), in a thread of this process: the summary and details are encrypted payloads
    when the stack has a codec key. Its URL, or None when the history is not encrypted."""
    codec = codec_from_env(state_dir=stack.state_dir)
    if codec is None:
        yield None
        return
    host = stack.temporal_address.rsplit(":", 1)[0]
    origins = f"http://{host}:{stack.temporal_ui_port},http://localhost:{stack.temporal_ui_port}"
    # The dev UI has no sign-in and so no token to pass: no authentication, loopback only.
    server = make_codec_server(codec, stack.codec_port, host, cors_origin=origins, auth=NoAuth())
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def wait_for(
    driver: Any, what: str, probe: Callable[[], T | None], timeout_s: float = PAGE_TIMEOUT_S
) -> T:
    """Poll ``probe`` until it returns a value; reload the page now and then; fail clearly."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout_s
    next_refresh = time.monotonic() + REFRESH_EVERY_S
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


@dataclass
class Seen:
    workflow_url: str
    summary: str
    details: str
    current_details: str


def browse(driver: Any, ui_url: str, case_number: str, workflow_id: str) -> Seen:
    """The officer's path: workflows of one case, the request, its user metadata."""
    from selenium.webdriver.common.by import By

    query = quote(f'CaseNumber = "{case_number}"', safe="")
    driver.get(f"{ui_url}/workflows?query={query}")
    link_xpath = f"//a[normalize-space()='{workflow_id}']"

    def row_link() -> Any:
        links = driver.find_elements(By.XPATH, link_xpath)
        return links[0] if links and links[0].is_displayed() else None

    what = f"the request {workflow_id} in the list of case {case_number}"
    link = wait_for(driver, what, row_link)
    driver.save_screenshot(str(OUTPUT_DIR / "workflows-of-case.png"))
    link.click()

    encoded_id = quote(workflow_id, safe="")
    wait_for(
        driver,
        "the request's page",
        lambda: True if encoded_id in driver.current_url else None,
    )
    tab_xpath = "//a[@role='tab'][normalize-space()='User Metadata']"
    tab = wait_for(
        driver, "the User Metadata tab", lambda: driver.find_element(By.XPATH, tab_xpath)
    )
    workflow_url = driver.current_url
    tab.click()

    def metadata(frame_id: str, needle: str) -> Callable[[], str | None]:
        def probe() -> str | None:
            if not driver.current_url.endswith("/user-metadata"):
                driver.find_element(By.XPATH, tab_xpath).click()
                return None
            text = frame_text(driver, frame_id)
            return text if needle in text else None

        return probe

    summary = wait_for(driver, "the static summary", metadata("user-metadata-summary", case_number))
    details = wait_for(
        driver, "the static details", metadata("user-metadata-details", "Requested State")
    )
    current = wait_for(
        driver, "the current details", metadata("user-metadata-current-details", "Awaiting")
    )
    driver.set_window_size(1600, 1400)
    driver.save_screenshot(str(OUTPUT_DIR / "request-user-metadata.png"))
    return Seen(workflow_url, summary, details, current)


async def test_officer_finds_a_request_of_a_case_and_reads_where_it_stands(
    stack: Settings, driver: Any, codec_server: str | None
) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "failure.png").unlink(missing_ok=True)
    worker = asyncio.create_task(run_worker(stack))
    request = court_request(tag="UI", case_number=case_number())
    client = await RequestClient.connect(stack)
    try:
        workflow_id = await client.submit(request)
        # Selenium blocks: it runs in a thread, so the worker goes on serving the request.
        seen = await asyncio.to_thread(
            browse, driver, stack.temporal_ui_url, request.case_number, workflow_id
        )
    finally:
        with contextlib.suppress(Exception):
            await client.client.get_workflow_handle(request.workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    assert seen.workflow_url.startswith(f"{stack.temporal_ui_url}/workflows/")
    assert request.reference in seen.summary
    assert f"case {request.case_number}" in seen.summary
    assert f"Request {request.reference} — case {request.case_number}" in seen.details
    assert f"Requested State: {request.requested_state}" in seen.details
    assert "Status: transmitted" in seen.current_details
    assert "Awaiting: acknowledgement of receipt from the State" in seen.current_details
    for asset in request.known_assets:
        assert asset.asset_id in seen.current_details
    # No personal data in the metadata: no party's name, no asset description or account.
    secrets = [party.name for party in request.parties]
    secrets += [a.description for a in request.known_assets]
    secrets += [a.registry_reference for a in request.known_assets if a.registry_reference]
    for text in (seen.summary, seen.details, seen.current_details):
        assert not [s for s in secrets if s in text]
    for shot in ("workflows-of-case.png", "request-user-metadata.png"):
        assert (OUTPUT_DIR / shot).stat().st_size > 0


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    assert README_SECTION in text, f"README.md lost its section {README_SECTION!r}"
    return text.split(README_SECTION, 1)[1].split("\n## ", 1)[0]


def saved_view_queries() -> list[str]:
    """The queries of the README's "Saved views for the Registry" table."""
    table = readme_section().split("### Saved views", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| [^|`]+ \| `([^`]+)` \|$", table, re.MULTILINE)


async def test_the_readme_saved_views_run_and_every_attribute_is_documented(
    stack: Settings,
) -> None:
    queries = saved_view_queries()
    assert len(queries) >= 8, queries
    client = await RequestClient.connect(stack)
    for query in queries:
        try:
            await client.client.count_workflows(query)
        except RPCError as err:
            pytest.fail(f"the README's saved view {query!r} is refused: {err}", pytrace=False)

    section = readme_section()
    flags = sa.dev_server_flags()
    for name_type in flags[1::2]:
        name, type_ = name_type.split("=")
        assert f"| `{name}` | {type_} |" in section, f"{name} missing from the attribute table"
        assert f"--name {name} --type {type_}" in section, f"{name} missing from the commands"
