"""The arithmetic of a rate budget, with no I/O: every backend runs these same steps
on the state it keeps (in memory, in an SQLite row, in Redis, in a Ray actor).

- Requests: a sliding log of start times. A call books the earliest start at which
  no window of ``window`` seconds holds more than the effective request limit, and
  at least ``window / limit`` after the last one (starts spread evenly, so that a
  provider counting in shorter slices, or network jitter, sees no burst); waiting
  calls start in the order they asked.
- Tokens: a bucket of the effective token limit, refilled evenly over the window; a
  call takes its estimate up front and :func:`release` corrects it to what was used.
- Concurrency: leases with an expiry, so a killed process frees its slots in time.
- AIMD: ``scale`` (from ``min_scale`` to 1) multiplies every limit. A 429 halves it
  (``decrease``) once per episode (a 429 of a call booked before the last decrease
  belongs to that decrease), and a ``Retry-After`` then pauses every caller until one
  shared time; each success adds ``increase / (limit x scale)``, so a window's worth
  of successes regains ``increase`` of the limit.
"""

from __future__ import annotations

import bisect
import math
from typing import Any, Final, Literal

import attrs


__all__ = ["BudgetLimits", "BudgetState", "Outcome"]

Outcome = Literal["ok", "limited", "error", "cancelled"]
"""How a call that held a reservation ended."""

_BASE_WITHOUT_COUNTS: Final = 10


@attrs.frozen
class BudgetLimits:
    """The limits of one budget (``None``: that dimension is not limited)."""

    requests: int | None = None
    tokens: int | None = None
    concurrency: int | None = None
    window: float = 60.0
    decrease: float = 0.5
    increase: float = 0.1
    min_scale: float = 0.05

    def scaled(self, limit: int | None, scale: float) -> int | None:
        """``limit`` x ``scale``, rounded down, at least 1."""
        if limit is None:
            return None
        return max(1, math.floor(limit * scale + 1e-9))

    @property
    def base(self) -> int:
        """The count the additive increase is measured against."""
        return self.requests or self.concurrency or _BASE_WITHOUT_COUNTS


@attrs.define
class BudgetState:
    """One budget's shared state (JSON-able through :meth:`dump` / :meth:`load`).

    ``leases`` maps a reservation's id to ``[expires, start, tokens, booked]``.
    """

    scale: float = 1.0
    level: float | None = None  # tokens in the bucket; None: full
    level_at: float = 0.0
    paused_until: float = 0.0
    decreased_at: float = 0.0
    starts: list[float] = attrs.Factory(list)
    leases: dict[str, list[float]] = attrs.Factory(dict)

    def dump(self) -> dict[str, Any]:
        """The state as plain JSON values."""
        return attrs.asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> BudgetState:
        """The state :meth:`dump` gave (a fresh one for ``None``)."""
        if not data:
            return cls()
        return cls(**data)

    def pause_left(self, now: float) -> float:
        """Seconds until the shared pause (a provider's ``Retry-After``) ends."""
        return max(0.0, self.paused_until - now)

    def _tokens(self, now: float, limits: BudgetLimits) -> tuple[float, float]:
        """The bucket's capacity and its level now (refilled since last time)."""
        capacity = max(1.0, (limits.tokens or 0) * self.scale)
        rate = capacity / limits.window
        level = capacity if self.level is None else self.level
        level = min(capacity, level + max(0.0, now - self.level_at) * rate)
        return capacity, level

    def _prune(self, now: float, limits: BudgetLimits) -> None:
        if limits.requests is None:
            self.starts.clear()
        else:  # a start is kept while a window that holds it is still ahead
            del self.starts[: bisect.bisect_right(self.starts, now - limits.window)]
        for lease in [k for k, v in self.leases.items() if v[0] <= now]:
            del self.leases[lease]

    def reserve(
        self,
        now: float,
        limits: BudgetLimits,
        *,
        tokens: int = 0,
        lease: str | None = None,
        hold: float = 600.0,
    ) -> tuple[bool, float]:
        """Book a start: ``(True, seconds until it)``; or, all concurrency slots
        taken, ``(False, seconds until the soonest lease expires)`` and nothing
        booked. ``lease`` ``None`` takes no concurrency slot (nothing to release)."""
        self._prune(now, limits)
        slots = limits.scaled(limits.concurrency, self.scale)
        if lease is not None and slots is not None and len(self.leases) >= slots:
            soonest = min(v[0] for v in self.leases.values())
            return False, max(0.0, soonest - now)
        start = max(now, self.paused_until)
        count = limits.scaled(limits.requests, self.scale)
        if count is not None and self.starts:
            start = max(start, self.starts[-1] + limits.window / count)  # evenly
            if len(self.starts) >= count:
                start = max(start, self.starts[-count] + limits.window)
        if limits.tokens is not None:
            capacity, level = self._tokens(now, limits)
            need = min(float(tokens), capacity)
            if level < need:
                start = max(start, now + (need - level) * limits.window / capacity)
            self.level, self.level_at = level - need, now
        if limits.requests is not None:
            bisect.insort(self.starts, start)
        if lease is not None:
            self.leases[lease] = [start + hold, start, float(tokens), now]
        return True, start - now

    def release(
        self,
        now: float,
        limits: BudgetLimits,
        lease: str,
        *,
        outcome: Outcome,
        used: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """End a reservation: free its slot, correct its tokens to ``used``, and
        adjust the scale (``ok``: grow; ``limited``: shrink, once per episode, and
        pause everyone for ``retry_after``; ``cancelled``: undo the booking)."""
        entry = self.leases.pop(lease, None)
        start, estimate, booked = (now, 0.0, now) if entry is None else entry[1:4]
        if limits.tokens is not None:
            _, level = self._tokens(now, limits)
            if outcome == "cancelled":
                level += estimate
            elif used is not None:
                level -= used - estimate
            self.level, self.level_at = level, now
        if outcome == "cancelled":
            index = bisect.bisect_left(self.starts, start)
            if index < len(self.starts) and self.starts[index] == start:
                del self.starts[index]
        elif outcome == "ok":
            grown = self.scale + limits.increase / max(1.0, limits.base * self.scale)
            self.scale = min(1.0, grown)
        elif outcome == "limited" and booked > self.decreased_at:
            self.scale = max(limits.min_scale, self.scale * limits.decrease)
            self.decreased_at = now
            if retry_after is not None and retry_after > 0:
                self.paused_until = max(self.paused_until, now + retry_after)
