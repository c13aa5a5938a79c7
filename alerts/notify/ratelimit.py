"""Per-worker token buckets for non-red notifications; red ones never wait.

>>> rl = RateLimit(per_minute=2)
>>> [rl.wait_s("w-1", 0.0, red=False) for _ in range(3)]
[0.0, 0.0, 30.0]
>>> rl.wait_s("w-1", 0.0, red=True)
0.0
"""

from __future__ import annotations


class RateLimit:
    """``wait_s(worker, now, red)``: 0 to send now (a token is taken), else seconds to wait."""

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute)
        self._tokens: dict[str, tuple[float, float]] = {}  # worker -> (tokens, at)

    def wait_s(self, worker: str, now: float, red: bool) -> float:
        if red:
            return 0.0
        tokens, at = self._tokens.get(worker, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._tokens[worker] = (tokens - 1.0, now)
            return 0.0
        self._tokens[worker] = (tokens, now)
        return (1.0 - tokens) / self.rate
