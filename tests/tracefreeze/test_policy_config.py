"""The deadline policy and the State directory as shipped, how a request's policy is resolved,
and the errors a reviewer gets for a broken file (docs/legal-process.md, 'Deadlines and
escalation').

No server: reading, validating and resolving are plain functions. That a running request
keeps the policy recorded at start is a workflow property, tested in
tests/workflows/ladder/test_other_clocks.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from schemas.common import Urgency
from schemas.policy import RequestKind
from tests.builders import court_request
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import (
    DEFAULT_DIRECTORY,
    DEFAULT_POLICY,
    DEMO_POLICY,
    load_directory,
    load_policy,
    resolve,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


# --- The shipped files ---------------------------------------------------------------------


def test_the_shipped_policy_validates_with_every_kind_and_urgency() -> None:
    """Benchmarks: asset-recovery offices 7/14 days and 8 h urgent; EU 2018/1805 48 h + 48 h,
    45 days to recognise; Chambers' two-week orders (Kenyatta). Numbers only: no EU device."""
    policy = load_policy(DEFAULT_POLICY)
    assert policy.version == "2026-11-30" and policy.state_overrides
    assert set(policy.deadlines) == set(RequestKind) and set(policy.ladder) == set(Urgency)
    restraint = policy.deadlines[RequestKind.RESTRAINT]
    assert (
        restraint.ordinary.acknowledgement,
        restraint.ordinary.first_report,
        restraint.ordinary.full_execution,
    ) == (7 * DAY, 14 * DAY, 45 * DAY)
    assert (restraint.urgent.acknowledgement, restraint.urgent.first_report) == (
        8 * HOUR,
        48 * HOUR,
    )
    assert policy.deadlines[RequestKind.TRACING].ordinary.full_execution == 60 * DAY
    assert policy.ladder[Urgency.ORDINARY].chamber_order_period == 14 * DAY
    assert policy.clocks.channel_change_notice == 45 * DAY  # Rule 180(2)
    # RS 97: a freeze-limit proposal is reminded to the Court and put before the Chamber;
    # nothing in the policy lets it lapse (the EU's six-week silence rule is not ICC law).
    assert policy.clocks.freeze_limit_reminder_every == 14 * DAY
    assert policy.clocks.freeze_limit_to_chamber_after == 28 * DAY
    assert policy.clocks.freeze_review_every == 180 * DAY
    assert "silence" not in " ".join(type(policy.clocks).model_fields)
    assert policy.clocks.urgent_confirmation == 5 * DAY
    assert policy.deescalation.keep_from_level == 4  # an RS 87(7) finding stays


def test_the_demo_policy_validates_in_seconds_without_state_overrides() -> None:
    demo = load_policy(DEMO_POLICY)
    assert demo.version == "demo-seconds" and demo.state_overrides is False
    for defaults in demo.deadlines.values():
        for stages in (defaults.ordinary, defaults.urgent):
            assert stages.full_execution <= 60 * SECOND
    for ladder in demo.ladder.values():
        assert ladder.assembly_letter_period <= 3 * SECOND


def test_the_shipped_state_directory_validates_offices_not_persons() -> None:
    """ICC-ASP/14/Res.3 para 9: per State a central authority, a focal point, the channel
    (RS 87(1)(a)) and language (RS 87(2)); NLD shortens the restraint acknowledgement."""
    directory = load_directory(DEFAULT_DIRECTORY)
    assert {"NLD", "BEL", "FRA"} <= set(directory.states)
    nld = directory.states["NLD"]
    assert (nld.channel, nld.language) == ("diplomatic", "en")
    assert directory.states["BEL"].language == "fr"
    patch = nld.overrides[RequestKind.RESTRAINT][Urgency.ORDINARY]
    assert patch.acknowledgement == 5 * DAY and patch.first_report is None


# --- Resolving the policy of one request -----------------------------------------------------


def test_a_freeze_request_resolves_to_restraint_with_the_nld_override() -> None:
    req = court_request()  # identify, trace, freeze; NLD; ordinary
    resolved = resolve(load_policy(), load_directory(), req)
    assert resolved.kind is RequestKind.RESTRAINT and resolved.version == "2026-11-30"
    assert resolved.deadlines.acknowledgement == 5 * DAY  # NLD override of P7D
    assert resolved.deadlines.first_report == 14 * DAY  # the rest from the defaults
    assert resolved.deadlines.full_execution == 45 * DAY
    assert resolved.ladder == load_policy().ladder[Urgency.ORDINARY]
    assert resolved.contact is not None
    assert resolved.contact.state == "NLD"
    assert resolved.contact.focal_point == load_directory().states["NLD"].focal_point


@pytest.mark.parametrize(
    ("measures", "kind"),
    [
        (["identify", "trace"], RequestKind.TRACING),
        (["identify"], RequestKind.TRACING),
        (["identify", "trace", "seize"], RequestKind.RESTRAINT),
        (["freeze"], RequestKind.RESTRAINT),
    ],
)
def test_the_kind_follows_the_measures(measures: list[str], kind: RequestKind) -> None:
    req = court_request(measures=measures, requested_state="BEL")
    resolved = resolve(load_policy(), load_directory(), req)
    assert resolved.kind is kind
    expected = 60 * DAY if kind is RequestKind.TRACING else 45 * DAY
    assert resolved.deadlines.full_execution == expected


def test_urgency_picks_the_urgent_deadlines_and_ladder_and_no_ordinary_override() -> None:
    """The NLD override is for ordinary restraint only: an urgent one keeps PT8H."""
    req = court_request(urgency="urgent")
    resolved = resolve(load_policy(), load_directory(), req)
    assert resolved.deadlines.acknowledgement == 8 * HOUR
    assert resolved.ladder.reminder_lead == 2 * HOUR
    assert resolved.ladder == load_policy().ladder[Urgency.URGENT]


def test_the_override_applies_only_to_its_state() -> None:
    resolved = resolve(load_policy(), load_directory(), court_request(requested_state="BEL"))
    assert resolved.deadlines.acknowledgement == 7 * DAY
    assert resolved.contact is not None and resolved.contact.language == "fr"


def test_the_demo_policy_ignores_the_state_overrides() -> None:
    """The directory's overrides are in days; the demo policy's seconds must not be mixed."""
    resolved = resolve(load_policy(DEMO_POLICY), load_directory(), court_request())
    assert resolved.version == "demo-seconds"
    assert resolved.deadlines.acknowledgement == 4 * SECOND
    assert resolved.contact is not None and resolved.contact.state == "NLD"


def test_a_state_outside_the_directory_has_the_defaults_and_no_contact() -> None:
    resolved = resolve(load_policy(), load_directory(), court_request(requested_state="DEU"))
    assert resolved.deadlines.acknowledgement == 7 * DAY
    assert resolved.contact is None


def test_an_override_that_breaks_the_stage_order_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8").replace(
        'acknowledgement = "P5D"', 'acknowledgement = "P30D"'
    )
    path = write(tmp_path, "states.toml", text)
    with pytest.raises(TracefreezeError) as err:
        resolve(load_policy(), load_directory(path), court_request())
    assert "override for NLD (restraint, ordinary) breaks policy 2026-11-30" in str(err.value)
    assert "stages must be ordered" in str(err.value)


# --- Clear errors: the file and the field --------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def policy_text(*replacements: tuple[str, str]) -> str:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def error_of(path: Path, loader=load_policy) -> str:
    with pytest.raises(TracefreezeError) as err:
        loader(path)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message  # names the file
    return message


@pytest.mark.parametrize("duration", ["PT0S", "-P7D"])
def test_a_zero_or_negative_duration_names_the_field(tmp_path: Path, duration: str) -> None:
    path = write(
        tmp_path,
        "deadlines.toml",
        policy_text(
            ('acknowledgement = "P7D"          # asset', f'acknowledgement = "{duration}"  #')
        ),
    )
    message = error_of(path)
    assert "invalid DeadlinePolicy" in message
    assert "deadlines.restraint.ordinary.acknowledgement:" in message
    assert "greater than 0" in message


def test_a_negative_ladder_interval_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deadlines.toml",
        policy_text(('chamber_report_after = "P14D"', 'chamber_report_after = "-P14D"')),
    )
    assert "ladder.ordinary.chamber_report_after:" in error_of(path)


def test_misordered_stages_name_the_stage_group(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deadlines.toml",
        policy_text(('first_report = "P14D"            # asset', 'first_report = "P3D"  #')),
    )
    message = error_of(path)
    assert re.search(r"deadlines\.restraint\.ordinary: .*stages must be ordered", message)


def test_a_missing_kind_is_named(tmp_path: Path) -> None:
    text = policy_text()
    start = text.index("[deadlines.tracing.ordinary]")
    end = text.index("[ladder.ordinary]")
    path = write(tmp_path, "deadlines.toml", text[:start] + text[end:])
    assert "deadlines: no defaults for ['tracing']" in error_of(path)


def test_a_missing_urgency_ladder_is_named(tmp_path: Path) -> None:
    text = policy_text()
    start = text.index("[ladder.urgent]")
    end = text.index("[clocks]")
    path = write(tmp_path, "deadlines.toml", text[:start] + text[end:])
    assert "ladder: no intervals for ['urgent']" in error_of(path)


def test_a_missing_urgency_in_a_kind_is_named(tmp_path: Path) -> None:
    text = policy_text()
    start = text.index("[deadlines.tracing.urgent]")
    end = text.index("[ladder.ordinary]")
    path = write(tmp_path, "deadlines.toml", text[:start] + text[end:])
    assert "deadlines.tracing.urgent: Field required" in error_of(path)


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deadlines.toml",
        policy_text(('reminder_lead = "P2D"', 'reminder_lead = "P2D"\nremindr_lead = "P1D"')),
    )
    assert "ladder.ordinary.remindr_lead: Extra inputs are not permitted" in error_of(path)


def test_a_bad_language_code_is_named(tmp_path: Path) -> None:
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8").replace(
        'language = "fr"', 'language = "french"', 1
    )
    path = write(tmp_path, "states.toml", text)
    message = error_of(path, load_directory)
    assert "invalid StateDirectory" in message
    assert "states.BEL.language:" in message


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deadlines.toml", policy_text(('version = "2026-11-30"', "version =")))
    message = error_of(path)
    assert "not valid TOML" in message and "line 13" in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nowhere.toml").endswith("file not found")
    assert error_of(tmp_path / "no-states.toml", load_directory).endswith("file not found")
