"""A request's deadlines, whoever started it (docs/operations.md, 'Starting a request from any
Temporal client').

The Court's client resolves the policy in force before the start and gives it in the input.
A client that gives none (the input has no ``policy`` at all: a Java or TypeScript SDK, the
`temporal` CLI) gets the policy in force resolved at start by an activity from the worker's
configured policy and party directory, recorded in the history; an answer taken before the
policy arrived still counts for the stages it meets. A policy that cannot be had is said
loudly: on the request's timeline, in the worker's log, and in its view (no next deadline).
An input that says ``"policy": null`` runs without deadlines, as asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.court import Stage
    from schemas.policy import RESOLVE_POLICY, PolicyAtStart, ResolvedPolicy
    from workflows import deadlines as dl
    from workflows.carry import Clocks, RequestCarry, RequestRun


def install(rec: RequestCarry, policy: ResolvedPolicy, started: datetime, now: datetime) -> None:
    """The request's clocks under ``policy`` from ``started``; the stages met before they
    existed are met, and a paused request's clocks are paused."""
    contact = policy.contact
    rec.clocks = Clocks(
        policy=policy,
        started_at=started,
        channel=contact.channel if contact else None,
        language=contact.language if contact else None,
    )
    if rec.met_before_clocks:
        dl.meet(rec.clocks, set(rec.met_before_clocks), now)
        rec.met_before_clocks = []
    dl.on_status(rec.clocks, False, rec.status.paused, now)


def note_met(rec: RequestCarry, stages: set[Stage]) -> None:
    """Stages an answer met while the request had no clocks yet (its policy on its way)."""
    rec.met_before_clocks = sorted(set(rec.met_before_clocks) | stages)


def inp_policy_pending(inp: RequestRun) -> bool:
    """A first run whose client gave no policy at all: the policy in force is resolved."""
    return inp.carried is None and "policy" not in inp.model_fields_set


async def policy_at_start(inp: RequestRun, rec: RequestCarry) -> str | None:
    """The policy in force for a first run started without one; the timeline's note."""
    if not inp_policy_pending(inp) or rec.clocks is not None:
        return None
    try:
        found: PolicyAtStart = await workflow.execute_activity(
            RESOLVE_POLICY,
            inp.request,
            result_type=PolicyAtStart,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30)),
            summary="the deadline policy in force",
        )
    except ActivityError as err:
        found = PolicyAtStart(reason=f"the worker could not resolve it ({err.cause or err})")
    if found.policy is None:
        workflow.logger.error(
            "request without deadlines",
            extra={"reason": found.reason, "reference": inp.request.reference},
        )
        return (
            f"NO DEADLINES: started without a policy and none could be resolved "
            f"({found.reason}): no reminder or escalation will fire; the Court restarts it "
            "with a policy"
        )
    install(rec, found.policy, workflow.info().start_time, workflow.now())
    return f"deadline policy {found.policy.version} in force, resolved at start"
