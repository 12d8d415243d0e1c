"""How fast one worker may send: per recipient domain, and through the relay as a whole."""

from __future__ import annotations

from tidings.lib.ratelimit import Buckets, Rule


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
    """Token buckets holding one second's worth of messages per limited domain (and "*").

    A message takes a token from its domain's bucket and from the relay's, or from neither:
    a message the relay's bucket refuses spends none of its domain's."""

    def __init__(self, limits: dict[str, float]) -> None:
        self.limits = limits
        self.buckets = Buckets({key: Rule(rate) for key, rate in limits.items()})

    def allow(self, address: str) -> bool:
        """Return whether a message to address may go now (and count it if so)."""
        if not self.limits:
            return True
        return self.buckets.allow(address.rpartition("@")[2].lower(), "*")
