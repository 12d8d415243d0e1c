"""The one rate limiter (lib.ratelimit): token buckets in memory and in the database."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tidings.delivery.limits import RateLimiter
from tidings.lib.ratelimit import Buckets, Rule, take, wait_for_token
from tidings.subscribers.actions import allow, seconds_until_allowed
from tidings.subscribers.models import RateBucket


def test_a_bucket_lets_a_burst_through_then_refills_at_its_rate() -> None:
    rule = Rule(3, per=60)  # three at once, then one every twenty seconds
    tokens = 3.0
    results = []
    for _ in range(4):
        ok, tokens = take(tokens, 0, rule)
        results.append(ok)
    assert results == [True, True, True, False]
    assert take(tokens, 19, rule)[0] is False
    assert take(tokens, 20, rule)[0] is True
    assert wait_for_token(0.5, rule) == pytest.approx(10)


def test_a_refusal_spends_no_token_of_the_other_buckets(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [1000.0]
    monkeypatch.setattr("tidings.lib.ratelimit.time.monotonic", lambda: clock[0])
    limiter = RateLimiter({"slow.example": 2, "*": 3})
    assert [limiter.allow("a@fast.example") for _ in range(3)] == [True, True, True]
    # The relay's bucket is empty: slow.example's own two tokens stay unspent.
    assert limiter.allow("a@slow.example") is False
    clock[0] += 1  # a second later the relay has three again
    assert [limiter.allow("a@slow.example") for _ in range(3)] == [True, True, False]


def test_buckets_forget_keys_that_filled_up_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [0.0]
    monkeypatch.setattr("tidings.lib.ratelimit.time.monotonic", lambda: clock[0])
    buckets = Buckets(default=Rule(2, per=60))
    for n in range(100):
        assert buckets.allow(f"sender{n}@example.org")
    clock[0] += 61 + Buckets.SWEEP_EVERY
    assert buckets.allow("late@example.org")
    assert list(buckets.state) == ["late@example.org"]


@pytest.mark.django_db
def test_the_database_bucket_is_the_same_arithmetic(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert [allow("k", 2, 60) for _ in range(3)] == [True, True, False]
    assert seconds_until_allowed("k", 2, 60) == 30  # one token every thirty seconds
    RateBucket.objects.filter(key="k").update(stamp=timezone.now() - timezone.timedelta(seconds=31))
    assert allow("k", 2, 60) is True
    assert allow("k", 2, 60) is False
