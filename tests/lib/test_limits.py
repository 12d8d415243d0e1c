import pytest

from tidings.delivery.limits import RateLimiter, parse_limits


def test_it_parses_limits_per_domain_and_for_the_relay() -> None:
    assert parse_limits("gmail.com=50, *=1000") == {"gmail.com": 50.0, "*": 1000.0}


def test_it_refuses_a_malformed_limit() -> None:
    with pytest.raises(ValueError, match="domain=messages-per-second"):
        parse_limits("gmail.com:50")


def test_it_allows_a_burst_of_one_second_then_refuses() -> None:
    limiter = RateLimiter({"gmail.com": 3})
    allowed = [limiter.allow("a@gmail.com") for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert limiter.allow("a@other.org")


def test_it_counts_the_relay_as_a_whole() -> None:
    limiter = RateLimiter({"*": 2})
    assert [limiter.allow(f"x@d{n}.org") for n in range(3)] == [True, True, False]
