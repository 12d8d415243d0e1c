"""Sessions and logins: https settings, the console's CSP, login throttling, API and per-network
limits, over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.test import Client

from tests.api.test_api_base import Api, api, api_as  # noqa: F401
from tests.ops.test_processes import ROOT
from tests.ops.test_secrets_and_files import _environ

PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/console/login/", secure=True, headers={"host": "news.example.gov"})
cookie = response.cookies["csrftoken"]
print(json.dumps({
    "hsts": response.headers.get("Strict-Transport-Security", ""),
    "csp": response.headers.get("Content-Security-Policy", ""),
    "csrf_secure": bool(cookie["secure"]),
    "session_secure": django.conf.settings.SESSION_COOKIE_SECURE,
}))
"""


def _probe(tmp_path, base_url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    environ = _environ(tmp_path / "data") | {
        "TIDINGS_BASE_URL": base_url,
        "DJANGO_SETTINGS_MODULE": "tidings.settings",
    }
    subprocess.run([sys.executable, "-m", "tidings", "migrate", "-v", "0"], env=environ, cwd=ROOT,
                   check=True, timeout=300)  # fmt: skip
    out = subprocess.run([sys.executable, "-c", PROBE], env=environ, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.one_database  # the settings a base URL implies
def test_an_https_base_url_makes_cookies_secure_and_sends_hsts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = _probe(tmp_path, "https://news.example.gov")
    assert found["csrf_secure"] is True
    assert found["session_secure"] is True
    assert "max-age=31536000" in str(found["hsts"])
    assert "script-src 'self'" in str(found["csp"])


@pytest.mark.one_database  # the settings a base URL implies
def test_a_plain_http_base_url_sends_no_hsts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = _probe(tmp_path, "http://news.example.gov")
    assert found["hsts"] == ""
    assert found["csrf_secure"] is False


def test_console_pages_carry_a_content_security_policy(client: Client) -> None:
    response = client.get("/console/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


@pytest.mark.django_db
def test_logins_are_locked_after_repeated_failures(client: Client, alice, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [
        client.post("/console/login/", {"username": "alice", "password": "wrong"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    # Now even the right password waits: a guesser can't tell.
    locked = client.post("/console/login/", {"username": "alice", "password": "correct horse 9"})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    admin = client.post("/admin/login/", {"username": "alice", "password": "correct horse 9"})
    assert admin.status_code == 429


@pytest.mark.django_db
def test_a_login_from_another_address_is_not_locked(client: Client, alice, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post(
            "/console/login/", {"username": "alice", "password": "x"}, REMOTE_ADDR="192.0.2.9"
        )
    ok = client.post("/console/login/", {"username": "alice", "password": "correct horse 9"},
                     REMOTE_ADDR="192.0.2.10")  # fmt: skip
    assert ok.status_code == 302


def test_a_token_past_its_rate_gets_429_with_retry_after(api: Api, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.API_RATE_PER_MINUTE = 3
    assert [api.get("/topics").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/topics")
    assert refused.status_code == 429
    # Three a minute: the bucket gives one token back every twenty seconds.
    assert 15 <= int(refused.headers["Retry-After"]) <= 21


@pytest.mark.django_db
def test_the_subscribe_limit_counts_an_ipv6_64_as_one_client(
    client: Client, account, topic, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_IP = 2
    url = f"/subscriptions/{account.code}/"
    codes = []
    for n in range(3):
        data = {"email": f"person{n}@example.org", "topics": [topic.pk]}
        codes.append(client.post(url, data, REMOTE_ADDR=f"2001:db8:5:6::{n + 1:x}").status_code)
    assert codes == [200, 200, 429]
    other = client.post(url, {"email": "x@example.org", "topics": [topic.pk]},
                        REMOTE_ADDR="2001:db8:5:7::1")  # fmt: skip
    assert other.status_code == 200
