"""One requested party's directory, durable and with its history (Rule 180, RS 96(3)).

Workflow id ``party/<code>``, seeded from the static directory (``states.toml``) the first
time a request to the party is submitted. It holds the contact in force and the history of its
changes, and the register of national-law requirements (``schemas/directory.py``).

- A State's Rule 180 notice reaches a request as its ``channel_change`` answer; the request
  keeps its own channel and forwards the notice here (signal ``take_notice``), to the directory
  of the State it is addressed to and no other, relayed by the worker with its relay key. A
  notice not so relayed (any client can signal a workflow), of another party, or taken before
  (by event id), changes nothing: it is ignored with its reason. The directory counts the 45
  days itself from the notice's receipt (Rule 180(2)), never from a date the message gives.
- A party has one notice of its own pending at a time: a newer notice supersedes the earlier
  (kept, with what replaced it, among the superseded notices), so a State's notices can
  neither fill the pending changes nor stop the Court agreeing a change (Rule 180(2)).
- A pending change takes effect at its time (a timer), for requests transmitted from then on
  (the client reads the contact in force with the ``contact`` query); requests already
  transmitted keep the contact they recorded at start ("without prejudice to current requests
  or requests in progress", Rule 180(2)).
- The Court's actions on a party are declared once, in ``PARTY_ACTIONS``: one named update
  each, with a validator that refuses with the reason; an event id taken before is a no-op.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.common import MAX_TEXT
    from schemas.completeness import MAX_PARTY_REQUIREMENTS
    from schemas.completeness import NationalRequirement as CheckedRequirement
    from schemas.directory import (
        NOTICE_SIGNAL,
        DirectoryNotice,
        IgnoredNotice,
        NationalRequirement,
        PartyCarry,
        PartyContact,
        PartyRun,
        PartyView,
        requirement_id,
    )
    from workflows import party_rules as pr
    from workflows.declared_updates import declare_updates
    from workflows.notice_signatures import unrelayed
    from workflows.outcome import Refusal
    from workflows.party_catalog import NOT_APPLIED, PARTY_ACTIONS, PARTY_RULES, PartyKind
    from workflows.party_keys import PartyKeys


MEMO_CONTACT = "contact"
MEMO_PENDING = "pending"
MEMO_REQUIREMENTS = "national_requirements"


def requirements_in_force(carry: PartyCarry) -> list[CheckedRequirement]:
    """The register as the completeness check reads it (RS 96(2)(e), 96(3)): the most recent
    ``MAX_PARTY_REQUIREMENTS`` requirements (as many as a party's profile and a request's
    answers hold), each with the id ``<consultation_id>-<n>`` (its place in its consultation,
    counted over the whole register so that the ids shown never shift) and its text clipped
    to the check's bound (``MAX_TEXT``). Whatever consultation advised it, a requirement is
    of the party's law and applies to every request to the party."""
    numbered: list[CheckedRequirement] = []
    counts: dict[str, int] = {}
    for r in carry.requirements:
        counts[r.consultation_id] = counts.get(r.consultation_id, 0) + 1
        numbered.append(
            CheckedRequirement(
                requirement_id=requirement_id(r.consultation_id, counts[r.consultation_id]),
                text=r.text[:MAX_TEXT],
            )
        )
    return numbered[-MAX_PARTY_REQUIREMENTS:]


def memo_of(carry: PartyCarry) -> dict[str, Any]:
    """What the memo shows: the contact in force, the changes pending and the national-law
    requirements in force (``requirements_in_force``: at most ``MAX_PARTY_REQUIREMENTS``), in
    JSON. A pending change never names the request it came on: the memo is visible to anyone
    who may list workflows, and a change without a reference would betray an ex parte
    request to the party (Rule 99(2)); the directory's own record keeps it."""
    return {
        MEMO_CONTACT: carry.contact.model_dump(mode="json"),
        MEMO_PENDING: [
            c.model_dump(mode="json", exclude={"request_reference"}) for c in carry.pending
        ],
        MEMO_REQUIREMENTS: [r.model_dump(mode="json") for r in requirements_in_force(carry)],
    }


@workflow.defn
@declare_updates(PARTY_ACTIONS, PartyView, take="_take", check="_check")
class PartyDirectoryWorkflow:
    @workflow.init
    def __init__(self, inp: PartyRun) -> None:
        self._code = inp.code
        self._carry = inp.carried or PartyCarry(contact=inp.seed)
        self._input = inp
        self._taken_this_run = 0
        self._dirty = False
        self._hand_over = False  # noted by each handler, read by the run loop's wake-up
        self._shown: dict[str, Any] | None = None
        self._keys = PartyKeys(self._carry.organ_keys, inp.code)  # party_keys.py
        self._early: list[DirectoryNotice] = []
        self._keys.register_refresh(self._note_hand_over)

    @workflow.run
    async def run(self, inp: PartyRun) -> PartyView:
        await self._keys.at_start()
        for notice in self._early:  # notices that came before the registry was read
            self.take_notice(notice)
        self._early.clear()
        while True:
            self._in_force()
            self._show()
            if self._should_continue_as_new():
                # A directory lives as long as the party: hand over before the history grows.
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._in_force()
                workflow.continue_as_new(
                    PartyRun(
                        code=self._code,
                        seed=inp.seed,
                        carried=self._carry.model_copy(update={"organ_keys": self._keys.keys}),
                        actions_per_run=inp.actions_per_run,
                    ),
                    memo=memo_of(self._carry),
                )
            due = pr.next_effective(self._carry)
            self._dirty = False
            # State only, never the server's suggestion itself: the SDK re-evaluates this in
            # activations history does not hold (a refused update's), see ``_note_hand_over``.
            wake = lambda: self._dirty or self._hand_over  # noqa: E731
            if due is None:
                await workflow.wait_condition(wake)
                continue
            wait = due - workflow.now()
            if wait.total_seconds() > 0:
                try:
                    await workflow.wait_condition(wake, timeout=wait)
                except TimeoutError:
                    pass  # the time of a pending change has come

    def _note_hand_over(self) -> None:
        """At a step history holds (a signal or an update taken): is it time to hand over?"""
        self._hand_over = self._hand_over or self._should_continue_as_new()

    def _should_continue_as_new(self) -> bool:
        limit = self._input.actions_per_run
        return workflow.info().is_continue_as_new_suggested() or (
            limit is not None and self._taken_this_run >= limit
        )

    def _show(self) -> None:
        """The contact in force, the changes pending and the requirements in force, in the
        workflow's memo: the client reads them without a worker
        (``tracefreeze/directory_client.py``)."""
        shown = memo_of(self._carry)
        if shown != self._shown:
            workflow.upsert_memo(shown)
            self._shown = shown

    def _in_force(self) -> None:
        for change in pr.bring_into_force(self._carry, workflow.now()):
            workflow.logger.info(
                "contact change in force",
                extra={"party": self._code, "event_id": change.event_id, "source": change.source},
            )

    # -- the State's notice, forwarded by its request ----------------------------------------

    @workflow.signal(name=NOTICE_SIGNAL)
    def take_notice(self, notice: DirectoryNotice) -> None:
        """Rule 180: a State's notice of a new channel or language, relayed by the request it
        arrived on (signed with the workers' relay key: ``notice_signatures.py``). Only this
        party's notices are taken, each once; one that arrives before the organ key registry
        is read waits for it."""
        self._note_hand_over()
        if self._keys.keys is None:
            self._early.append(notice)
            return
        before = self._carry.model_copy(deep=True)
        now = workflow.now()
        try:
            ignored = unrelayed(self._keys.keys, notice, now)
            if ignored is None:
                ignored = pr.take_notice(self._carry, self._code, notice, now)
        except Exception as fault:  # a signal handler must never fail the workflow task
            self._carry = before
            ignored = f"not applied: {type(fault).__name__}"
        if ignored is not None:
            pr.ignore(self._carry, IgnoredNotice(event_id=notice.event_id, at=now, reason=ignored))
            workflow.logger.warning(
                "notice ignored",
                extra={"party": self._code, "event_id": notice.event_id, "why": ignored},
            )
            self._dirty = True
            return
        self._taken_this_run += 1
        self._dirty = True

    # -- the Court's actions -----------------------------------------------------------------

    def _take(self, m: Any, kind: PartyKind) -> PartyView:
        """The update of ``kind`` (declared on the class), its validator ``_check``."""
        self._note_hand_over()
        if m.event_id not in self._carry.seen:
            self._validate(m, kind)
            before = self._carry.model_copy(deep=True)
            try:
                what = PARTY_RULES[kind.name].apply(self._carry, m, workflow.now())
                pr.remember(self._carry, m.event_id)
                self._in_force()
            except Exception as fault:  # refused and rolled back, never a failed task
                self._carry = before
                raise ApplicationError(
                    f"{kind.name} could not be applied ({type(fault).__name__}): nothing "
                    "was recorded",
                    type=NOT_APPLIED,
                    non_retryable=True,
                ) from None
            self._taken_this_run += 1
            self._dirty = True
            workflow.logger.info(
                "party action taken",
                extra={"party": self._code, "event_id": m.event_id, "what": what},
            )
        return self.view()

    def _check(self, m: Any, kind: PartyKind) -> None:
        if m.event_id not in self._carry.seen:
            self._keys.check(kind.name, m)  # the organ's signature, for this party, first
            self._validate(m, kind)

    def _validate(self, m: Any, kind: PartyKind) -> None:
        try:
            pr.check_room(self._carry, m)  # a Court action's id is kept for ever, bounded
            PARTY_RULES[kind.name].check(self._carry, m, workflow.now())
        except Refusal as err:
            raise ApplicationError(str(err), type="ActionRejected", non_retryable=True) from None

    # -- queries -----------------------------------------------------------------------------

    @workflow.query
    def contact(self) -> PartyContact:
        """The contact in force: what a request transmitted now records (Rule 180(2))."""
        return self._carry.contact

    @workflow.query
    def national_requirements(self) -> list[NationalRequirement]:
        """The register of the party's national-law requirements (RS 96(3), 96(2)(e))."""
        return list(self._carry.requirements)

    @workflow.query
    def view(self) -> PartyView:
        c = self._carry
        return PartyView(
            code=self._code,
            contact=c.contact,
            history=list(c.history),
            history_dropped=c.history_dropped,
            pending=sorted(c.pending, key=lambda p: (p.effective_at, p.recorded_at)),
            consultations=list(c.consultations),
            national_requirements=list(c.requirements),
            superseded_notices=list(c.superseded_notices),
            superseded_dropped=c.superseded_dropped,
            ignored_notices=list(c.ignored_notices),
            ignored_dropped=c.ignored_dropped,
        )
