"""The case's judgment and release, as ``tracefreeze case status`` prints them after the
requests and totals: the judgment in force (RS 74, 83(2); RS 61) and, after a case release,
every asset still held, by party and asset, with each request's answer to the release, until
the last request is closed."""

from __future__ import annotations

from schemas.case import CaseView


def render_judgment_and_release(view: CaseView) -> str:
    """Plain text, empty when the case has neither a judgment nor a release."""
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
    return "".join(f"\n{line}" for line in lines)
