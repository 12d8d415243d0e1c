"""How fast one worker may send: per recipient domain, and through the relay as a whole."""

from __future__ import annotations

import time


def parse_limits(value: str) -> dict[str, float]:
    """Parse "gmail.com=50,yahoo.com=20,*=1000" (messages per second; * is the whole relay)."""
    limits: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        domain, _, rate = item.partition("=")
        try:
            limits[domain.strip().lower()] = float(rate)
        except ValueError:
            raise ValueError(
                f"TIDINGS_RATE_LIMITS: {item!r} is not domain=messages-per-second"
            ) from None
        if limits[domain.strip().lower()] <= 0:
            raise ValueError(f"TIDINGS_RATE_LIMITS: {item!r} must be positive")
    return limits


class RateLimiter:
    """Token buckets holding one second's worth of messages per limited domain."""

    def __init__(self, limits: dict[str, float]) -> None:
        self.limits = limits
        self.tokens: dict[str, float] = {}
        self.stamps: dict[str, float] = {}

    def _take(self, key: str) -> bool:
        rate = self.limits.get(key)
        if rate is None:
            return True
        now = time.monotonic()
        tokens = self.tokens.get(key, rate) + (now - self.stamps.get(key, now)) * rate
        self.stamps[key] = now
        tokens = min(tokens, rate)
        if tokens < 1:
            self.tokens[key] = tokens
            return False
        self.tokens[key] = tokens - 1
        return True

    def allow(self, address: str) -> bool:
        """Return whether a message to address may go now (and count it if so)."""
        if not self.limits:
            return True
        domain = address.rpartition("@")[2].lower()
        return self._take(domain) and self._take("*")
