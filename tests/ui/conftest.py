"""Fixtures of the UI tests: a headless Chromium and the codec server the stack's UI uses."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from schemas.request import CourtRequest
from tests.ui.browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, PAGE_TIMEOUT_S
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.security.codec import codec_from_env
from tracefreeze.security.codec_auth import NoAuth
from tracefreeze.security.codec_listener import CodecServerConfig
from tracefreeze.security.codec_server import make_codec_server
from tracefreeze.worker import run_worker


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
    # It encodes too: a decision sent from the UI is encrypted like one sent by the CLI.
    config = replace(CodecServerConfig.from_env(cors_origin=origins), encode_enabled=True)
    server = make_codec_server(codec, stack.codec_port, host, auth=NoAuth(), config=config)
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Officer:
    """The Registry's client, remembering the requests it submits (terminated afterwards)."""

    client: RequestClient
    submitted: list[str] = field(default_factory=list)

    async def submit(self, request: CourtRequest) -> str:
        self.submitted.append(request.workflow_id)
        return await self.client.submit(request)


@pytest.fixture
async def officer(stack: Settings) -> AsyncIterator[Officer]:
    """An officer's client, with a worker serving the stack's requests while the browser
    looks."""
    worker = asyncio.create_task(run_worker(stack))
    officer = Officer(await RequestClient.connect(stack))
    try:
        yield officer
    finally:
        for workflow_id in officer.submitted:
            with contextlib.suppress(Exception):
                await officer.client.client.get_workflow_handle(workflow_id).terminate("done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
