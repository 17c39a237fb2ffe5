"""Who signs is who acts (#17): a client acting with a token signs only its own organ's
decisions (RS 34, 38(3), 43: each organ takes its own decisions; RS 57(3)(e): a Chamber's
protective measures are the Chamber's), the action names the token's subject, and each organ's
private key is held in that organ's own folder, so a machine without it cannot sign for it."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas import court as c
from schemas.ledger import RequestStatus
from schemas.organs import Organ
from tests.builders import court_action, court_request
from tests.tracefreeze.e2e import Running
from tracefreeze.cli import main as cli
from tracefreeze.client import RequestClient
from tracefreeze.config import get_settings
from tracefreeze.court_signing import by_user, check_acting
from tracefreeze.errors import TracefreezeError
from tracefreeze.security import identity
from tracefreeze.security.organ_keys import (
    ensure_organ_keys,
    key_path,
    organ_keys_dir,
    signer_for,
)

NS = "tracefreeze"


def principal(tmp_path: Path, subject: str) -> identity.Principal:
    identity.ensure_demo_identities(tmp_path, NS)
    return identity.principal_of(identity.token_file(tmp_path, subject).read_text())


def test_a_registry_officer_cannot_sign_a_chambers_decision(tmp_path: Path) -> None:
    """RS 57(3)(e): a request of the Pre-Trial Chamber is withdrawn by that Chamber. An officer
    acting for the Registry is refused before anything is signed; the Chamber's clerk is not;
    the Registry's own act (closing a request, RS 43(1)) is the officer's to sign."""
    officer, clerk = (
        principal(tmp_path, "registry-officer"),
        principal(tmp_path, "trial-chamber-clerk"),
    )
    withdrawal = court_action(c.Withdrawal, reasons="Moot.")  # by the Pre-Trial Chamber
    with pytest.raises(TracefreezeError, match="acts for the Registry: a decision of the Pre-Tria"):
        check_acting(officer, withdrawal)
    with pytest.raises(TracefreezeError, match="acts for the Trial Chamber"):
        check_acting(clerk, withdrawal)
    pre_trial = principal(tmp_path, "pre-trial-chamber-clerk")
    check_acting(pre_trial, withdrawal)
    check_acting(officer, court_action(c.CloseRequest, decided_by="Registrar", reason="Done."))
    check_acting(None, withdrawal)  # the local dev server: no token, the key is the guard


def test_an_expired_token_signs_nothing(tmp_path: Path) -> None:
    identity.ensure_demo_identities(tmp_path, NS)
    old = datetime.now(UTC) - timedelta(days=1)
    token = identity.Issuer.ensure(tmp_path).issue(
        "pre-trial-chamber-clerk",
        "pre_trial_chamber",
        ["tracefreeze:write"],
        timedelta(hours=1),
        now=old,
    )
    with pytest.raises(TracefreezeError, match="has expired"):
        check_acting(identity.principal_of(token), court_action(c.Withdrawal, reasons="Moot."))


def test_the_action_names_the_tokens_subject_and_no_one_else(tmp_path: Path) -> None:
    """Who decided is part of the decision: the principal is the token's, not what the
    caller writes in the action."""
    clerk = principal(tmp_path, "pre-trial-chamber-clerk")
    named = by_user(court_action(c.Withdrawal, reasons="Moot."), clerk)
    assert named.principal == "pre-trial-chamber-clerk"
    posing = court_action(c.Withdrawal, reasons="Moot.", principal="presiding-judge")
    with pytest.raises(TracefreezeError, match="a person sends only as themself"):
        by_user(posing, clerk)
    assert by_user(posing, None).principal == "presiding-judge"  # no token: as written


def test_each_organs_key_is_found_only_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Registry officer's machine mounts the Registry's folder only: nothing there signs a
    Trial Chamber's decision. A state directory from before the organs' folders has its keys
    moved into them."""
    everything = tmp_path / "organs"  # this test's own keys, not the session's
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_FILE", str(tmp_path / "organ-keys.toml"))
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_DIR", str(everything))
    keys = ensure_organ_keys(tmp_path)
    assert organ_keys_dir(tmp_path) == everything
    for key in keys.keys:
        assert key_path(everything, key.organ, key.key_id).is_file()
    registry_only = tmp_path / "registry-machine"
    shutil.copytree(everything / Organ.REGISTRY, registry_only / Organ.REGISTRY)
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_DIR", str(registry_only))
    signer_for(Organ.REGISTRY, tmp_path)
    with pytest.raises(TracefreezeError, match="no signing key of the trial_chamber here"):
        signer_for(Organ.TRIAL_CHAMBER, tmp_path)
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_DIR", str(everything))
    trial = next(k for k in keys.keys if k.organ == Organ.TRIAL_CHAMBER)
    own = key_path(everything, trial.organ, trial.key_id)
    flat = everything / f"{trial.key_id}.pem"
    own.rename(flat)  # as an older state directory held it
    with pytest.raises(TracefreezeError, match="no signing key"):
        signer_for(Organ.TRIAL_CHAMBER, tmp_path)
    ensure_organ_keys(tmp_path)
    assert own.is_file() and not flat.exists()
    signer_for(Organ.TRIAL_CHAMBER, tmp_path)


@pytest.mark.stack
async def test_on_the_real_stack_only_the_organs_clerk_withdraws_its_request(
    running: Running, tmp_path: Path
) -> None:
    """The typed client acts as its token's principal: the Registry officer's withdrawal of
    a Pre-Trial Chamber's request is refused before it is sent (the request is untouched);
    the Chamber's clerk withdraws it."""
    identity.ensure_demo_identities(tmp_path, running.settings.temporal_namespace)
    request = court_request(tag="CUSTODY")
    workflow_id = await running.client.submit(request)

    async def as_user(subject: str) -> RequestClient:
        token = identity.token_file(tmp_path, subject)
        return await RequestClient.connect(
            running.settings.model_copy(update={"temporal_token_file": token})
        )

    officer = await as_user("registry-officer")
    withdrawal = court_action(c.Withdrawal, reasons="Moot.")
    with pytest.raises(TracefreezeError, match="registry-officer acts for the Registry"):
        await officer.act(workflow_id, withdrawal)
    assert (await running.client.view_id(workflow_id)).status is RequestStatus.TRANSMITTED
    clerk = await as_user("pre-trial-chamber-clerk")
    taken = await clerk.act(workflow_id, withdrawal)
    assert taken.status is RequestStatus.WITHDRAWN


def test_the_cli_signs_only_as_the_organ_its_token_acts_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Registry officer types: the Registry's own act is signed and names the officer;
    a Chamber's decision typed with the officer's token is one clear line, nothing signed."""
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_FILE", str(tmp_path / "organ-keys.toml"))
    monkeypatch.setenv("TRACEFREEZE_ORGAN_KEYS_DIR", str(tmp_path / "organs"))
    ensure_organ_keys(tmp_path)
    identity.ensure_demo_identities(tmp_path, NS)
    env = {
        "TRACEFREEZE_STATE_DIR": str(tmp_path),
        "TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(identity.token_file(tmp_path, "registry-officer")),
    }
    target = ["act", "ICC-01/22-REQ-0001/NLD"]
    get_settings.cache_clear()
    try:
        close = CliRunner().invoke(
            cli.main,
            [*target, "close", "--by", "Registrar", "--reason", "Executed.", "--dry-run"],
            env=env,
        )
        assert close.exit_code == 0, close.output
        assert json.loads(close.output)["principal"] == "registry-officer"
        get_settings.cache_clear()
        args = ["withdrawal", "--by", "Pre-Trial Chamber II", "--reasons", "Moot.", "--dry-run"]
        refused = CliRunner().invoke(cli.main, [*target, *args], env=env)
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 1
    assert "registry-officer acts for the Registry" in refused.output
    assert "Traceback" not in refused.output and "signature" not in refused.output
