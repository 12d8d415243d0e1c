"""The one rate limiter: token buckets, kept in memory or in the database.

A rule lets `limit` events through at once and `limit` per `per` seconds after that: a bucket
holds up to `limit` tokens and refills at limit/per tokens a second; an event takes one. The
arithmetic (take()) is shared by the two stores: `Buckets`, in one process's memory (the
delivery worker's per-domain limits, the SMTP server's per-sender and per-client limits), and
subscribers.actions.allow(), in the database, for limits every web process must share
(subscribing, commenting, API tokens).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    limit: float  # events let through at once, and per `per` seconds after that
    per: float = 1.0  # seconds

    @property
    def rate(self) -> float:
        return self.limit / self.per


def refill(tokens: float, elapsed: float, rule: Rule) -> float:
    """The tokens a bucket holds `elapsed` seconds after it held `tokens`."""
    return min(rule.limit, tokens + max(elapsed, 0.0) * rule.rate)


def take(tokens: float, elapsed: float, rule: Rule) -> tuple[bool, float]:
    """Try to take one token; return whether it was there and the tokens left."""
    tokens = refill(tokens, elapsed, rule)
    if tokens < 1:
        return False, tokens
    return True, tokens - 1


def wait_for_token(tokens: float, rule: Rule) -> float:
    """Seconds until a bucket holding `tokens` has one to give."""
    return max(0.0, (1 - tokens) / rule.rate)


class Buckets:
    """Buckets by key in this process's memory. allow(*keys) takes one token from each key's
    bucket only if every one of them has a token: a refusal spends nothing."""

    SWEEP_EVERY = 60.0

    def __init__(self, rules: dict[str, Rule] | None = None, default: Rule | None = None) -> None:
        self.rules = rules or {}
        self.default = default
        self.state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self.swept = time.monotonic()

    def rule_for(self, key: str) -> Rule | None:
        return self.rules.get(key, self.default)

    def allow(self, *keys: str) -> bool:
        now = time.monotonic()
        if now - self.swept > self.SWEEP_EVERY:
            self._sweep(now)
        taken: list[tuple[str, float]] = []
        for key in keys:
            rule = self.rule_for(key)
            if rule is None:
                continue
            tokens, when = self.state.get(key, (rule.limit, now))
            ok, left = take(tokens, now - when, rule)
            if not ok:
                return False
            taken.append((key, left))
        for key, left in taken:
            self.state[key] = (left, now)
        return True

    def _sweep(self, now: float) -> None:
        """Forget buckets that have filled up again: they hold no information."""
        for key, (tokens, when) in list(self.state.items()):
            rule = self.rule_for(key)
            if rule is None or refill(tokens, now - when, rule) >= rule.limit:
                del self.state[key]
        self.swept = now
