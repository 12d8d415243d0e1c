"""The console: login, the accounts a user belongs to, and nothing of other tenants."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tidings.accounts.access import account_for
from tidings.accounts.models import Membership

pytestmark = pytest.mark.django_db


def test_console_needs_login(client: Client) -> None:
    response = client.get(reverse("console:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_login_shows_own_accounts_only(client: Client, alice, oscar) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        reverse("console:login"), {"username": "alice", "password": "correct horse 9"}
    )
    assert response.status_code == 302
    # One account: the console opens on it; the list of accounts is still there.
    landing = client.get(reverse("console:home"))
    assert landing["Location"] == reverse("console:account", args=["USSTATEBPA"])
    page = client.get(reverse("console:home") + "?all").content.decode()
    assert "U.S. Department of State" in page
    assert "Other Agency" not in page


def test_other_tenant_account_is_not_found(client: Client, alice, oscar) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    assert client.get(reverse("console:account", args=["USSTATEBPA"])).status_code == 200
    assert client.get(reverse("console:account", args=["OTHERAGENCY"])).status_code == 404
    assert client.get(reverse("console:account", args=["NOSUCH"])).status_code == 404


def test_roles_rank(rf, alice, erin, victor) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = erin
    assert account_for(request, "USSTATEBPA", Membership.AUTHOR).code == "USSTATEBPA"
    from django.http import Http404

    with pytest.raises(Http404):
        account_for(request, "USSTATEBPA", Membership.ADMIN)
    request.user = victor
    with pytest.raises(Http404):
        account_for(request, "USSTATEBPA", Membership.AUTHOR)


def test_create_user_command(account) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    call_command("create_user", "frank", "--account", "USSTATEBPA", "--role", "topic_admin")
    membership = Membership.objects.get(user__username="frank")
    assert membership.role == Membership.TOPIC_ADMIN
    assert membership.account == account
