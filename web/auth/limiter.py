"""Login attempts limited per client address and per user name: a sliding window of failures.

Kept in memory: a restart of the web forgets them, which costs an attacker a restart they cannot
cause, and one process serves every request (the server's threads share it, hence the lock). A
success does not clear an address's failures, so a valid login cannot be used to reset the count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, per_address: int, per_user: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"address": per_address, "user": per_user}
        self.window_s, self.clock = window_s, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        kept = self._failures.setdefault(key, deque())
        while kept and kept[0] <= now - self.window_s:
            kept.popleft()
        if not kept:
            del self._failures[key]  # memory stays bounded by the failures of the last window
        return kept

    def refused(self, address: str, user: str) -> str | None:
        """Why a login from ``address`` as ``user`` is not tried now, or None when it may be."""
        now = self.clock()
        with self._lock:
            for kind, value in (("address", address), ("user", user)):
                if len(self._recent((kind, value), now)) >= self.limits[kind]:
                    return (f"too many failed logins for this {kind}; try again in "
                            f"{self.window_s / 60:g} minutes")
        return None

    def failed(self, address: str, user: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (("address", address), ("user", user)):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
