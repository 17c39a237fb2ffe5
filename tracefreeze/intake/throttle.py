"""A bridge-side answer budget per State: one State's flood never slows another State.

Each State (the signed sender of an answer, ``Answer.state``, checked against its key by the
gate) has a token bucket: ``rate`` answers per second, up to ``burst`` at once. A delivery
reserves one token per answer; when the bucket is short, the delivery waits for the deficit
to refill, at most ``max_wait`` seconds, and only that State's request waits: the bridge runs
requests side by side. A reservation that would wait longer is refused; the bridge then parks
the answers with reason ``throttled`` (replayable) so that the partition they share with
other States' answers moves on. Pure bookkeeping, no I/O: the clock is injected.

Kafka quotas per State principal bound the same flood at the broker (deploy/); this budget is
what the bridge itself holds to, whatever the broker lets through (RS art. 93(1): each State's
request is its own; no State's conduct may burden the execution of another's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class StateBudgets:
    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    """State -> (tokens at the time, the time); tokens below zero are reserved ahead."""

    def reserve(self, state: str, n: int, max_wait: float) -> float | None:
        """Take ``n`` tokens of ``state``'s bucket: the seconds to wait before delivering
        (0: at once), or None (nothing taken) when that would exceed ``max_wait``. The bridge
        cuts batches to at most ``burst`` answers, so each answer pays; a larger ``n`` is
        charged the whole bucket."""
        now = self.clock()
        tokens, then = self._tokens.get(state, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        cost = min(n, self.burst)
        wait = max(0.0, (cost - tokens) / self.rate)
        if wait > max_wait:
            self._tokens[state] = (tokens, now)
            return None
        self._tokens[state] = (tokens - cost, now)
        return wait
