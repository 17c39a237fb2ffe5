"""A Court decision sent from the Temporal Web UI, as the README's control-room section says.

A request's page has **More Actions → Send an Update**: the officer picks the update by its
name, gives the event id as the update id and loads the action's JSON (the contract in
``schemas/json/court-action.schema.json``). The request workflow's validator decides before
anything is written, exactly as for the CLI:

- a withdrawal signed by the Pre-Trial Chamber (the JSON carries its ``signature``, made here
  with the stack's key for that Chamber, as ``tracefreeze act --dry-run`` prints it) is
  accepted, and the request's own query then says ``withdrawn``;
- the same withdrawal unsigned is refused: a Court action carries its organ's signature;
- a forfeiture order (RS 77(2)(b)), signed by the Trial Chamber, for a request the State has
  not even acknowledged is refused by the state machine.

Each refusal's reason is shown by the dialog (these say nothing of the request's state, so
they are in clear; any other reason stays encrypted), and the history holds no trace of it.

The stack's codec server encodes here (the control room's setting): what the UI sends is
encrypted like what the CLI sends.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from schemas.court import CourtAction, ForfeitureOrder, Withdrawal
from tests.builders import case_number, court_request
from tests.ui.browser import OUTPUT_DIR, PAGE_TIMEOUT_S, wait_for
from tests.ui.conftest import Officer
from tracefreeze.config import Settings
from tracefreeze.security.organ_keys import signed

pytestmark = pytest.mark.stack

REFUSAL = "forfeiture_order is not allowed while the request is transmitted"
UNSIGNED = "is not signed: a Court action carries its organ's signature"


def decision(
    contract: type[CourtAction], stack: Settings | None, to: str, **fields: Any
) -> dict[str, Any]:
    """An action as the officer puts it in the dialog: a fresh event id, the decision's time,
    its kind, signed by the organ it names with the stack's key for it (``stack``) for the
    request ``to`` (its plain workflow id), or not."""
    action = contract.model_validate(
        {"event_id": str(uuid.uuid4()), "decided_at": datetime.now(UTC), **fields}
    )
    if stack is not None:
        action = signed(action, to, stack.state_dir)
    return action.model_dump(mode="json", exclude_none=True)


def send_update(driver: Any, page: str, update: str, action: dict[str, Any], file: Path) -> str:
    """More Actions → Send an Update → name, update id, JSON file → Submit; what the dialog
    says afterwards ("" once it has closed: the update was accepted)."""
    from selenium.webdriver.common.by import By

    dialog, choose = update_dialog(driver, page)
    choose.click()
    option_xpath = f".//li[@role='option'][normalize-space()='{update}']"
    option = wait_for(
        driver,
        f"the update {update} among the request's updates",
        lambda: shown(dialog.find_elements(By.XPATH, option_xpath)),
    )
    option.click()
    dialog.find_element(By.CSS_SELECTOR, "[data-testid='update-id']").send_keys(action["event_id"])
    file.write_text(json.dumps(action), encoding="utf-8")
    dialog.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(file))
    submit_css = "[data-testid='confirm-modal-button']"
    submit = wait_for(
        driver,
        "the dialog's Submit enabled",
        lambda: next(
            (b for b in dialog.find_elements(By.CSS_SELECTOR, submit_css) if b.is_enabled()), None
        ),
    )
    driver.save_screenshot(str(OUTPUT_DIR / f"send-update-{file.stem}.png"))
    submit.click()

    def outcome() -> str | None:
        if dialog.get_attribute("open") is None:
            return ""
        said = " ".join(a.text for a in dialog.find_elements(By.CSS_SELECTOR, "[role='alert']"))
        return said.strip() or None

    said = wait_for(driver, f"the outcome of {update}", outcome)
    driver.save_screenshot(str(OUTPUT_DIR / f"sent-update-{file.stem}.png"))
    return said


DIALOG_TIMEOUT_S = 20
"""How long an open dialog may take to show the request's updates before it is opened again."""


def update_dialog(driver: Any, page: str) -> tuple[Any, Any]:
    """The Send an Update dialog of ``page``, open, and its list of the request's updates
    ready to choose from. The dialog fills that list from a query of the workflow, which a
    loaded worker may answer late or turn away (asked again by the product's clients, not by
    the UI): the dialog is opened afresh until the list shows, within ``PAGE_TIMEOUT_S``
    twice over."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + 2 * PAGE_TIMEOUT_S
    while True:
        dialog = open_update_dialog(driver, page)
        try:
            choose = wait_for(
                driver,
                "the request's updates in the Send an Update dialog",
                lambda d=dialog: shown(
                    d.find_elements(By.CSS_SELECTOR, "[data-testid='update-select-button']")
                ),
                timeout_s=DIALOG_TIMEOUT_S,
                reload=False,
            )
            return dialog, choose
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def open_update_dialog(driver: Any, page: str) -> Any:
    """``page`` loaded, More Actions → Send an Update: the dialog, open."""
    from selenium.webdriver.common.by import By

    driver.get(page)
    more_xpath = "//button[normalize-space()='More Actions']"
    more = wait_for(
        driver, "More Actions", lambda: shown(driver.find_elements(By.XPATH, more_xpath))
    )
    more.click()
    item = wait_for(
        driver,
        "Send an Update in More Actions",
        lambda: shown(driver.find_elements(By.CSS_SELECTOR, "[data-testid='update-button']")),
    )
    item.click()
    dialog_css = "dialog[data-testid='update-confirmation-modal']"
    return wait_for(
        driver,
        "the Send an Update dialog",
        lambda: next(
            (
                d
                for d in driver.find_elements(By.CSS_SELECTOR, dialog_css)
                if d.get_attribute("open") is not None
            ),
            None,
        ),
    )


def shown(elements: list[Any]) -> Any:
    return next((e for e in elements if e.is_displayed()), None)


async def test_officer_withdraws_a_request_from_the_ui_and_a_refused_order_is_explained(
    stack: Settings, driver: Any, codec_server: str | None, officer: Officer, tmp_path: Path
) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    request = court_request(tag="UIDECIDE", case_number=case_number())
    workflow_id = await officer.submit(request)
    handle = officer.client.client.get_workflow_handle(workflow_id)
    run_id = (await handle.describe()).run_id
    page = f"{stack.temporal_ui_url}/workflows/{quote(workflow_id, safe='')}/{run_id}/history"
    order = decision(
        ForfeitureOrder,
        stack,
        request.workflow_id,
        decided_by="Trial Chamber IX",
        order_reference="ICC-01/22-01/26-999",
        asset_ids=[a.asset_id for a in request.known_assets],
    )
    # Selenium blocks: it runs in a thread, so the worker goes on serving the request.
    refused = await asyncio.to_thread(
        send_update, driver, page, "order_forfeiture", order, tmp_path / "order.json"
    )
    reasons = "The Prosecutor's application was withdrawn."
    unsigned = decision(
        Withdrawal, None, request.workflow_id, decided_by="Pre-Trial Chamber II", reasons=reasons
    )
    not_signed = await asyncio.to_thread(
        send_update, driver, page, "withdraw", unsigned, tmp_path / "unsigned.json"
    )
    withdrawal = decision(
        Withdrawal, stack, request.workflow_id, decided_by="Pre-Trial Chamber II", reasons=reasons
    )
    accepted = await asyncio.to_thread(
        send_update, driver, page, "withdraw", withdrawal, tmp_path / "withdrawal.json"
    )
    view = await officer.client.view_id(workflow_id)
    history = await handle.fetch_history()

    assert REFUSAL in refused, refused
    assert UNSIGNED in not_signed, not_signed
    assert accepted == "", f"the withdrawal was not accepted from the UI: {accepted}"
    assert view.status == "withdrawn"
    accepted_ids = [
        e.workflow_execution_update_accepted_event_attributes.protocol_instance_id
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert withdrawal["event_id"] in accepted_ids
    for refused_id in (order["event_id"], unsigned["event_id"]):  # never written
        assert refused_id not in accepted_ids
    if codec_server is not None:  # what the UI sent went through the codec: no plaintext
        raw = history.to_json()
        assert "The Prosecutor's application was withdrawn." not in raw
