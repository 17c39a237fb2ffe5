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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from temporalio.service import RPCError

from tests.builders import case_number, court_request
from tests.ui.browser import OUTPUT_DIR, frame_text, wait_for
from tests.ui.conftest import Officer
from tracefreeze.client import RequestClient
from tracefreeze.config import REPO_ROOT, Settings
from workflows import search_attributes as sa

pytestmark = pytest.mark.stack

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "court-request.json"
README = REPO_ROOT / "README.md"
README_SECTION = "## The Temporal UI as a control room"


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
    stack: Settings, driver: Any, codec_server: str | None, officer: Officer
) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "failure.png").unlink(missing_ok=True)
    request = court_request(tag="UI", case_number=case_number())
    workflow_id = await officer.submit(request)
    # Selenium blocks: it runs in a thread, so the worker goes on serving the request.
    seen = await asyncio.to_thread(
        browse, driver, stack.temporal_ui_url, request.case_number, workflow_id
    )

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
