"""The case's judgment, release and proportionality, as ``tracefreeze case status`` prints
them after the requests and totals: the judgment in force (RS 74, 83(2); RS 61); after a case
release, every asset still held, by party and asset, with each request's answer to the
release, until the last request is closed; the amount to secure against what is secured
across the parties, per currency with its valuation date."""

from __future__ import annotations

from schemas.case import CaseView


def render_judgment_and_release(view: CaseView) -> str:
    """Plain text, empty when the case has no judgment, release or amount to secure."""
    lines: list[str] = []
    if view.judgments:
        j = view.judgments[-1]
        cause = f" ({j.termination_cause})" if j.termination_cause else ""
        lines.append(
            f"judgment in force: {j.judgment_reference}, {j.outcome.value}{cause}, "
            f"{j.decided_by} on {j.delivered_on}, {j.finality.replace('_', ' ')}"
        )
    release = view.release
    if release is not None:
        state = "complete" if release.complete else "in progress"
        lines.append(
            f"case release ({release.ground}, judgment {release.judgment_reference}, "
            f"{release.decided_by}): {state}"
        )
        for key, taken in sorted(release.requests.items()):
            reason = f": {taken.reason}" if taken.reason else ""
            close = f", close {taken.close}" if taken.close else ""
            lines.append(f"  {key}: {taken.outcome}{reason}{close}")
        if release.held:
            lines.append("  still held:")
            for h in release.held:
                lines.append(f"    {h.party} {h.asset_id} {h.status.value} ({h.request})")
        if release.held_left_out:
            lines.append(f"    and {release.held_left_out} more")
        if release.not_closed:
            lines.append(f"  not closed: {', '.join(release.not_closed)}")
    lines += _proportionality(view)
    return "".join(f"\n{line}" for line in lines)


def _proportionality(view: CaseView) -> list[str]:
    p = view.proportionality
    if p is None:
        return []
    amount = p.to_secure.amount
    lines = [
        f"to secure: {amount.currency} {amount.amount} ({p.to_secure.basis.replace('_', ' ')}), "
        f"margin {p.to_secure.margin * 100:g} %",
        f"  secured across the case: {amount.currency} {p.counted}"
        + (" - over the margin: releases proposed to the Chamber" if p.over_secured else ""),
    ]
    for currency, secured in p.secured.items():
        valued = f", valued on or after {secured.valued_on}" if secured.valued_on else ""
        counted = "" if currency == amount.currency else " (not counted: no rate recorded)"
        lines.append(
            f"    {currency} {secured.amount} in {secured.assets} asset(s){valued}{counted}"
        )
    if p.unvalued:
        lines.append(f"    {p.unvalued} restrained asset(s) with no value reported")
    if p.proposed_at is not None:
        lines.append(f"  releases last proposed to the Chamber: {p.proposed_at:%Y-%m-%d %H:%M}")
    return lines
