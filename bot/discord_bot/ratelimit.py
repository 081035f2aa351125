"""A per-user sliding-window rate limit (questions per minute), with an injectable clock."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most ``per_window`` events per key in any ``window`` seconds; 0 disables the limit.

    Keys not seen for a window are forgotten, and at most ``max_keys`` are kept, so memory stays
    bounded however many people ask.
    """

    def __init__(
        self,
        per_window: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._events: OrderedDict[int, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """How many keys are remembered now."""
        return len(self._events)

    def hit(self, key: int) -> float:
        """Count one event for ``key``: 0.0 when allowed, else the seconds until it would be."""
        if self.per_window <= 0:
            return 0.0
        now = self.clock()
        events = self._events.pop(key, None) or deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.per_window:
            self._events[key] = events
            return max(0.1, self.window - (now - events[0]))
        events.append(now)
        self._events[key] = events
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return 0.0
