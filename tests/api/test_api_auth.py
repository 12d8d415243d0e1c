"""API tokens: bearer authentication, revocation, the CLI command and the console page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.accounts.models import Account
from tidings.api.actions import create_token, hash_secret, revoke_token
from tidings.api.models import ApiToken


def test_it_stores_only_a_hash_of_the_secret(account: Account) -> None:
    token, secret = create_token(account, name="website", role="author")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("tid_") and len(secret) > 40
    assert stored.secret_hash == hash_secret(secret)
    assert secret not in {stored.secret_hash, stored.prefix, stored.name}
    assert stored.prefix == secret[:12]


def test_it_answers_with_the_tokens_account_and_role(account: Account) -> None:
    _token, secret = create_token(account, name="cms", role="author")
    response = Api(secret).get("/account")
    assert response.status_code == 200
    assert response.json() == {
        "code": "USSTATEBPA",
        "name": "U.S. Department of State",
        "time_zone": "America/New_York",
        "language": "en",
        "role": "author",
        "token": "cms",
    }


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer ",
        "Bearer tid_forged0000000000000000000000000000000000000",
        "Basic dGlkOnRpZA==",
        "Bearer not-even-our-format",
    ],
)
def test_it_refuses_missing_or_forged_tokens(db: None, header: str | None) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header is not None else Client()
    response = client.get("/api/v1/topics")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_revoked_token(account: Account) -> None:
    token, secret = create_token(account, name="old", role="admin")
    assert Api(secret).get("/topics").status_code == 200
    revoke_token(token)
    assert Api(secret).get("/topics").status_code == 401


def test_it_refuses_a_token_whose_secret_was_altered(account: Account) -> None:
    _token, secret = create_token(account, name="cms", role="admin")
    altered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert Api(altered).get("/topics").status_code == 401


def test_it_records_when_a_token_was_last_used(account: Account) -> None:
    token, secret = create_token(account, name="cms")
    assert token.last_used is None
    Api(secret).get("/account")
    token.refresh_from_db()
    assert token.last_used is not None


def test_it_lets_only_admin_tokens_manage_tokens(account: Account, api_as: ApiFactory) -> None:  # noqa: F811
    response = api_as(account, "topic_admin").get("/tokens")
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_an_admin_token_creates_lists_and_revokes_tokens(api: Api) -> None:  # noqa: F811
    created = api.post("/tokens", {"name": "cms", "role": "author"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert Api(secret).get("/account").json()["role"] == "author"
    names = [t["name"] for t in api.get("/tokens").json()["items"]]
    assert "cms" in names
    assert all("secret" not in t for t in api.get("/tokens").json()["items"])
    revoked = api.delete(f"/tokens/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked"]
    assert Api(secret).get("/account").status_code == 401


def test_it_cant_see_or_revoke_another_accounts_token(
    api: Api,  # noqa: F811
    other_account: Account,
) -> None:
    theirs, secret = create_token(other_account, name="theirs", role="admin")
    assert "theirs" not in [t["name"] for t in api.get("/tokens").json()["items"]]
    assert api.delete(f"/tokens/{theirs.pk}").status_code == 404
    assert Api(secret).get("/account").status_code == 200


def test_the_command_prints_a_working_secret_once(account: Account) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_token",
        "--account=USSTATEBPA",
        "--role=author",
        "--name=website",
        stdout=out,
        stderr=err,
    )
    secret = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    assert Api(secret).get("/account").json()["role"] == "author"
    assert not ApiToken.objects.filter(secret_hash=secret).exists()


def test_the_command_refuses_an_unknown_account(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No account NOPE"):
        call_command("create_api_token", "--account=NOPE", "--name=x", stdout=io.StringIO())


def test_an_account_admin_creates_a_token_on_the_console(client: Client, alice) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    response = client.post("/console/USSTATEBPA/tokens/", {"name": "website CMS", "role": "author"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert Api(secret).get("/account").json()["role"] == "author"
    # Shown once: the page does not show it again.
    assert secret not in client.get("/console/USSTATEBPA/tokens/").content.decode()


def test_an_account_admin_revokes_a_token_on_the_console(
    client: Client,
    alice,
    account: Account,  # type: ignore[no-untyped-def]
) -> None:
    token, secret = create_token(account, name="old")
    client.force_login(alice)
    asked = client.post(f"/console/USSTATEBPA/tokens/{token.pk}/revoke/")
    assert "Revoke the token old?" in asked.content.decode()  # it asks first
    assert Api(secret).get("/account").status_code == 200
    response = client.post(f"/console/USSTATEBPA/tokens/{token.pk}/revoke/", {"confirmed": "yes"})
    assert response.status_code == 302
    assert Api(secret).get("/account").status_code == 401


def test_the_token_page_is_for_account_admins_only(client: Client, erin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(erin)
    assert client.get("/console/USSTATEBPA/tokens/").status_code == 404


def test_another_accounts_admin_cant_revoke_our_tokens(
    client: Client,
    oscar,
    account: Account,  # type: ignore[no-untyped-def]
) -> None:
    token, secret = create_token(account, name="ours")
    client.force_login(oscar)
    response = client.post(f"/console/USSTATEBPA/tokens/{token.pk}/revoke/", {"confirmed": "yes"})
    assert response.status_code == 404
    assert Api(secret).get("/account").status_code == 200
