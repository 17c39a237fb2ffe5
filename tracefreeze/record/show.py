"""A request's record from the store as text (``tracefreeze record REF``) and its signed
originals re-verified (``tracefreeze record verify REF``): each State's answer against the
State key registry, each Court action against the organ key registry, as each was kept when
the original was recorded (``evidence.py``, ``decisions.py``). The record reads in the order
it was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from tracefreeze.record.decisions import check_action, registry_of
from tracefreeze.record.evidence import Check, check, registry_from_json
from tracefreeze.record.reader import RequestRecord, StoredEntry

DATES = ("transmitted_at", "acknowledged_at", "first_report_at", "ended_at", "closed_at")
SECTIONS = (
    ("party_message", "Sent to the State (the request as transmitted, each version, decisions)"),
    ("answer", "The State's answers (signed originals kept)"),
    ("court_action", "The Court's actions (signed originals kept)"),
    ("event", "The Court's record of the request (actions, ledger, status)"),
    ("escalation", "Escalations"),
)


def _at(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "-"


def describe(record: RequestRecord) -> str:
    """Every entry of the request, by section, in the order recorded."""
    row = record.row
    name = row.get("reference") or "(ex parte: reference not held in plain)"
    lines = [f"record of {name} to {row.get('requested_state') or '-'} "
             f"(store key {record.request_key})"]  # fmt: skip
    lines.append(
        f"  status {row.get('status') or '-'}; {row.get('confidentiality') or '-'}; case "
        f"{row.get('case_number') or '-'}; highest escalation level "
        f"{row.get('max_escalation_level', 0)}"
    )
    lines += [f"  {d.removesuffix('_at')}: {_at(row.get(d))}" for d in DATES if row.get(d)]
    for currency, totals in sorted((row.get("facts") or {}).items()):
        shown = ", ".join(f"{k} {v}" for k, v in totals.items() if v not in ("0", "0.00"))
        lines.append(f"  {currency}: {shown or 'nothing recorded'}")
    for kind, title in SECTIONS:
        entries = record.of_kind(kind)
        lines.append(f"{title}: {len(entries)}")
        lines += [f"  {line(e)}" for e in entries]
    return "\n".join(lines)


def line(e: StoredEntry) -> str:
    body = e.body() if isinstance(e.body(), dict) else {}
    where = f"[{e.topic}/{e.partition}@{e.offset}]"
    when = _at(e.occurred_at or e.kafka_time)
    if e.kind == "answer":
        return (f"{when} {e.type or '?'} {e.event_id or '?'}: {e.verdict} "
                f"(key {e.key_id or '-'}, checked {_at(e.checked_at)}) {where}")  # fmt: skip
    if e.kind == "court_action":
        found = body.get("action")
        action: dict[str, Any] = found if isinstance(found, dict) else {}
        return (f"{when} {action.get('action_type', '?')} {action.get('event_id', '?')} by "
                f"{action.get('decided_by', '?')}: {e.verdict} (key {e.key_id or '-'}, checked "
                f"{_at(e.checked_at)}) {where}")  # fmt: skip
    return f"{when} {short(e.type)} {e.event_id or '?'}{_summary(e.kind, body)} {where}"


def short(type_: str | None) -> str:
    return (type_ or "?").removeprefix("int.icc.tracefreeze.").removesuffix(".v1")


def _summary(kind: str, body: dict[str, Any]) -> str:
    parts: list[str] = []
    if kind == "event":
        parts += [f"status {body.get('status')}"]
        parts += [f"{k} {body[k]}" for k in ("answer_type", "action", "caused_by") if body.get(k)]
        asset = body.get("asset") or {}
        if asset:
            value = asset.get("value") or {}
            money = f"{value.get('currency', '')} {value.get('amount', '')}".strip()
            parts.append(f"asset {asset.get('asset_id')} {asset.get('status')} {money}".rstrip())
    elif kind == "escalation":
        parts += [f"{body.get('kind')} level {body.get('level')}"]
        parts += [f"step {body['step']}" for _ in [0] if body.get("step")]
    elif kind == "party_message":
        request = body.get("request") or (body.get("decision") or {}).get("request")
        if request:
            assets = ", ".join(a.get("asset_id", "?") for a in request.get("known_assets", []))
            parts.append(f"measures {', '.join(request.get('measures', []))}; assets {assets}")
        if body.get("decision"):
            parts.append(f"decision {body['decision'].get('action')}")
    return ": " + "; ".join(parts) if parts else ""


@dataclass(frozen=True)
class Reverified:
    entry: StoredEntry
    now: Check

    @property
    def agrees(self) -> bool:
        """The same verdict as when recorded (a verified answer verifies again)."""
        return self.now.verdict == self.entry.verdict


async def reverify(conn: asyncpg.Connection, record: RequestRecord) -> list[Reverified]:
    """Each stored answer checked again: its original bytes and headers, against the key
    registry as it was when it was recorded, at the moment it was checked then; each stored
    Court action against the organ key registry as it was when it was recorded, at
    ``decided_at`` and the moment the request took it (``decisions.check_action``)."""
    out = []
    for e in record.entries:
        if e.kind not in ("answer", "court_action"):
            continue
        raw = await conn.fetchval(
            "SELECT registry FROM key_registry_versions WHERE fingerprint = $1",
            e.registry_fingerprint,
        )
        if raw is None or e.checked_at is None:
            out.append(Reverified(e, Check("no_registry_version", "not kept", e.key_id, None)))
        elif e.kind == "court_action":
            out.append(Reverified(e, check_action(e.value, registry_of(str(raw)))))
        else:
            now = check(e.value, e.headers, registry_from_json(raw), e.checked_at)
            out.append(Reverified(e, now))
    return out


def describe_reverified(results: list[Reverified]) -> str:
    lines = []
    for r in results:
        mark = "ok" if r.agrees else "MISMATCH"
        what = "court action" if r.entry.kind == "court_action" else "answer"
        lines.append(
            f"{mark}: {what} {r.entry.event_id or '?'} ({_kind(r.entry)}): {r.now.verdict}"
            f" now, {r.entry.verdict} when recorded; {r.now.detail}; key registry version "
            f"{(r.entry.registry_fingerprint or '-')[:16]} at {_at(r.entry.checked_at)}"
        )
    return "\n".join(lines) or "no signed original recorded"


def _kind(e: StoredEntry) -> str:
    """An answer's type; a Court action's name (its event's type is the same for all)."""
    body = e.body()
    action = body.get("action") if isinstance(body, dict) else None
    if e.kind == "court_action" and isinstance(action, dict):
        return str(action.get("action_type", "?"))
    return e.type or "?"
