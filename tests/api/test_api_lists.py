"""Mailing lists and members through the API: list, add, remove; tenants apart."""

from __future__ import annotations

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.accounts.models import Account
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList, Member


def test_it_lists_the_accounts_lists_only(
    api: Api,  # noqa: F811
    wanabidii: MailingList,
    other_account: Account,
) -> None:
    create_list("theirs", account=other_account)
    body = api.get("/lists").json()
    assert [m["name"] for m in body["items"]] == ["wanabidii"]
    assert api.get(f"/lists/{wanabidii.pk}").json()["address"] == wanabidii.address


def test_it_lists_members(api: Api, wanabidii: MailingList) -> None:  # noqa: F811
    body = api.get(f"/lists/{wanabidii.pk}/members").json()
    assert body["count"] == 2
    assert [m["address"] for m in body["items"]] == ["carol@example.net", "dave@example.com"]


def test_a_topic_admin_adds_and_removes_a_member(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
    wanabidii: MailingList,
) -> None:
    admin = api_as(account, "topic_admin")
    added = admin.post(f"/lists/{wanabidii.pk}/members", {"address": "eve@example.org"})
    assert added.status_code == 201
    assert wanabidii.members.filter(address="eve@example.org").exists()
    removed = admin.delete(f"/lists/{wanabidii.pk}/members/{added.json()['id']}")
    assert removed.status_code == 204
    assert not wanabidii.members.filter(address="eve@example.org").exists()


def test_it_refuses_an_invalid_member_address(api: Api, wanabidii: MailingList) -> None:  # noqa: F811
    response = api.post(f"/lists/{wanabidii.pk}/members", {"address": "no-at-sign"})
    assert response.status_code == 422
    assert wanabidii.members.count() == 2


def test_an_author_cant_change_members(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
    wanabidii: MailingList,
) -> None:
    author = api_as(account, "author")
    assert author.get(f"/lists/{wanabidii.pk}/members").status_code == 200
    carol = wanabidii.members.get(address="carol@example.net")
    assert author.delete(f"/lists/{wanabidii.pk}/members/{carol.pk}").status_code == 403
    assert author.post(f"/lists/{wanabidii.pk}/members", {"address": "e@x.org"}).status_code == 403
    assert wanabidii.members.count() == 2


def test_another_account_cant_read_or_change_our_lists(
    other_api: Api,  # noqa: F811
    wanabidii: MailingList,
) -> None:
    carol = wanabidii.members.get(address="carol@example.net")
    assert other_api.get("/lists").json()["count"] == 0
    assert other_api.get(f"/lists/{wanabidii.pk}").status_code == 404
    assert other_api.get(f"/lists/{wanabidii.pk}/members").status_code == 404
    added = other_api.post(f"/lists/{wanabidii.pk}/members", {"address": "m@example.org"})
    assert added.status_code == 404
    assert other_api.delete(f"/lists/{wanabidii.pk}/members/{carol.pk}").status_code == 404
    assert wanabidii.members.count() == 2


def test_a_member_of_another_list_is_not_found_through_ours(
    api: Api,  # noqa: F811
    wanabidii: MailingList,
    account: Account,
) -> None:
    other_list = create_list("announce", account=account)
    stranger = Member.objects.create(mailing_list=other_list, address="s@example.org")
    assert api.delete(f"/lists/{wanabidii.pk}/members/{stranger.pk}").status_code == 404
    assert Member.objects.filter(pk=stranger.pk).exists()


def test_an_admin_creates_a_list_in_the_account(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
) -> None:
    admin = api_as(account, "admin")
    created = admin.post("/lists", {"name": "notices", "posting_policy": "moderated"})
    assert created.status_code == 201
    mailing_list = MailingList.objects.get(pk=created.json()["id"])
    assert mailing_list.account == account
    assert mailing_list.posting_policy == MailingList.MODERATED
    assert created.json()["address"] == mailing_list.address


def test_it_refuses_a_taken_or_malformed_list_name_and_a_lower_role(
    api_as: ApiFactory,  # noqa: F811
    account: Account,
    wanabidii: MailingList,
) -> None:
    admin = api_as(account, "admin")
    assert admin.post("/lists", {"name": "wanabidii"}).status_code == 422
    assert admin.post("/lists", {"name": "no spaces!"}).status_code == 422
    topic_admin = api_as(account, "topic_admin")
    assert topic_admin.post("/lists", {"name": "mine"}).status_code == 403
    assert MailingList.objects.count() == 1
