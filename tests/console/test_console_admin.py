"""Account and topic administration in the console: settings, users, senders, topics."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tidings.accounts.models import Account, Membership, SenderIdentity
from tidings.bulletins.actions import create_bulletin
from tidings.topics.actions import create_topic
from tidings.topics.models import Category, Topic

pytestmark = pytest.mark.django_db

CODE = "USSTATEBPA"


def url(name: str, *args: object) -> str:
    return reverse(f"console:{name}", args=[CODE, *args])


@pytest.fixture
def admin(client: Client, alice) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    return client


def settings_form(account: Account, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": account.name,
        "postal_address": account.postal_address,
        "time_zone": account.time_zone,
        "language": account.language,
        "sender_name": account.sender_name,
        "sender_address": account.sender_address,
        "header_template": account.header_template,
        "footer_template": account.footer_template,
        "courtesy_copy": "on",
    }
    data.update(changes)
    return data


def test_admin_changes_the_account_settings(admin, account) -> None:  # type: ignore[no-untyped-def]
    changes = settings_form(account, time_zone="Africa/Nairobi", language="sw")
    response = admin.post(url("settings"), changes)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.time_zone == "Africa/Nairobi"
    assert account.language == "sw"


def test_settings_refuse_an_unknown_time_zone(admin, account) -> None:  # type: ignore[no-untyped-def]
    response = admin.post(url("settings"), settings_form(account, time_zone="Mars/Olympus"))
    assert "is not an IANA time zone" in response.content.decode()
    account.refresh_from_db()
    assert account.time_zone == "America/New_York"


def test_settings_refuse_a_footer_that_does_not_compile(admin, account) -> None:  # type: ignore[no-untyped-def]
    response = admin.post(url("settings"), settings_form(account, footer_template="{% if %}"))
    assert "does not compile" in response.content.decode()
    account.refresh_from_db()
    assert "{% if %}" not in account.footer_template


def test_admin_adds_an_author_by_email_with_topics(admin, account, topic) -> None:  # type: ignore[no-untyped-def]
    User.objects.create_user("frank", "frank@state.example", "correct horse 9")
    admin.post(
        url("users"), {"user": "FRANK@state.example", "role": "author", "topics": [topic.pk]}
    )
    membership = Membership.objects.get(user__username="frank")
    assert (membership.account, membership.role) == (account, Membership.AUTHOR)
    assert list(membership.topics.all()) == [topic]


def test_adding_an_unknown_user_says_how_to_create_one(admin) -> None:  # type: ignore[no-untyped-def]
    response = admin.post(url("users"), {"user": "nobody", "role": "author"})
    assert "No user &#x27;nobody&#x27;" in response.content.decode()
    assert not Membership.objects.filter(user__username="nobody").exists()


def test_admin_changes_a_role(admin, erin) -> None:  # type: ignore[no-untyped-def]
    membership = Membership.objects.get(user=erin)
    admin.post(url("user", membership.pk), {"role": "topic_admin", "action": "save"})
    membership.refresh_from_db()
    assert membership.role == Membership.TOPIC_ADMIN


def test_the_last_admin_cannot_be_removed_or_demoted(admin, alice) -> None:  # type: ignore[no-untyped-def]
    membership = Membership.objects.get(user=alice)
    response = admin.post(url("user", membership.pk), {"action": "remove"})
    assert "needs at least one admin" in response.content.decode()
    admin.post(url("user", membership.pk), {"role": "viewer", "action": "save"})
    membership.refresh_from_db()
    assert membership.role == Membership.ADMIN


def test_an_admin_is_removed_when_another_remains(admin, alice, erin) -> None:  # type: ignore[no-untyped-def]
    Membership.objects.filter(user=erin).update(role=Membership.ADMIN)
    membership = Membership.objects.get(user=alice)
    admin.post(url("user", membership.pk), {"action": "remove"})
    assert not Membership.objects.filter(user=alice).exists()


def test_admin_adds_and_removes_a_sender_identity(admin, account) -> None:  # type: ignore[no-untyped-def]
    admin.post(url("senders"), {"name": "Spokesperson", "address": "spokes@state.example"})
    identity = SenderIdentity.objects.get(account=account)
    assert str(identity) == "Spokesperson <spokes@state.example>"
    admin.post(url("sender_delete", identity.pk))
    assert not SenderIdentity.objects.exists()


def test_a_removed_identity_leaves_its_bulletins_with_the_accounts_sender(account, topic) -> None:  # type: ignore[no-untyped-def]
    identity = SenderIdentity.objects.create(account=account, name="S", address="s@state.example")
    bulletin = create_bulletin(account, subject="T", body="x", topics=[topic], sender=identity)
    identity.delete()
    bulletin.refresh_from_db()
    assert bulletin.from_name_address() == (account.sender_name, account.sender_address)


def test_topic_admin_creates_and_edits_a_topic(client, account, erin) -> None:  # type: ignore[no-untyped-def]
    Membership.objects.filter(user=erin).update(role=Membership.TOPIC_ADMIN)
    client.force_login(erin)
    news = Category.objects.create(account=account, name="News")
    client.post(url("topic_new"), {"name": "Travel Alerts", "listed": "on"})
    topic = Topic.objects.get(name="Travel Alerts")
    assert (topic.code, topic.listed, topic.archive_public) == ("USSTATEBPA_1", True, False)
    client.post(
        url("topic", topic.pk),
        {"name": "Travel Alerts", "code": topic.code, "categories": [news.pk]},
    )
    topic.refresh_from_db()
    assert (topic.listed, list(topic.categories.all())) == (False, [news])
    page = client.get(url("topics")).content.decode()
    assert "Travel Alerts" in page


def test_topic_codes_stay_unique(admin, topic) -> None:  # type: ignore[no-untyped-def]
    response = admin.post(url("topic_new"), {"name": "Copy", "code": topic.code})
    assert response.status_code == 200
    assert Topic.objects.count() == 1


def test_categories_form_a_tree(admin, account) -> None:  # type: ignore[no-untyped-def]
    admin.post(url("categories"), {"name": "News"})
    news = Category.objects.get(name="News")
    admin.post(url("categories"), {"name": "Africa", "parent": news.pk})
    africa = Category.objects.get(name="Africa")
    page = admin.get(url("categories")).content.decode()
    assert page.index(">News<") < page.index(">Africa<")
    assert 'class="depth-1"><a href="' + url("category", africa.pk) in page


def test_a_category_cannot_move_below_itself(admin, account) -> None:  # type: ignore[no-untyped-def]
    news = Category.objects.create(account=account, name="News")
    africa = Category.objects.create(account=account, name="Africa", parent=news)
    admin.post(url("category", news.pk), {"name": "News", "parent": africa.pk, "action": "save"})
    news.refresh_from_db()
    assert news.parent is None


def test_deleting_a_category_moves_its_children_up(admin, account) -> None:  # type: ignore[no-untyped-def]
    news = Category.objects.create(account=account, name="News")
    africa = Category.objects.create(account=account, name="Africa", parent=news)
    admin.post(url("category", news.pk), {"action": "delete"})
    africa.refresh_from_db()
    assert africa.parent is None


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("settings", "admin"),
        ("users", "admin"),
        ("senders", "admin"),
        ("topics", "topic_admin"),
        ("topic_new", "topic_admin"),
        ("categories", "topic_admin"),
        ("compose", "author"),
        ("bulletins", "viewer"),
    ],
)
def test_each_page_needs_its_role(client, account, erin, name, needs) -> None:  # type: ignore[no-untyped-def]
    membership = Membership.objects.get(user=erin)
    client.force_login(erin)
    for role in (Membership.VIEWER, Membership.AUTHOR, Membership.TOPIC_ADMIN, Membership.ADMIN):
        Membership.objects.filter(pk=membership.pk).update(role=role)
        expected = 200 if Membership.RANK[role] >= Membership.RANK[needs] else 404
        assert client.get(url(name)).status_code == expected, (name, role)


def test_other_tenants_pages_are_not_found(client, oscar, alice, account, topic) -> None:  # type: ignore[no-untyped-def]
    """oscar is admin of his own account: nothing of the State Department's answers him."""
    client.force_login(oscar)
    category = Category.objects.create(account=account, name="News")
    identity = SenderIdentity.objects.create(account=account, name="S", address="s@state.example")
    member = Membership.objects.get(user=alice)
    bulletin = create_bulletin(account, subject="Ours", body="x", topics=[topic])
    pages = [
        ("settings",),
        ("users",),
        ("user", member.pk),
        ("senders",),
        ("topics",),
        ("topic_new",),
        ("topic", topic.pk),
        ("categories",),
        ("category", category.pk),
        ("bulletins",),
        ("compose",),
        ("bulletin", bulletin.pk),
        ("bulletin_edit", bulletin.pk),
        ("bulletin_preview", bulletin.pk),
    ]
    for name, *args in pages:
        assert client.get(url(name, *args)).status_code == 404, name
        # His own account's URLs with our ids: still nothing.
        if args:
            path = reverse(f"console:{name}", args=["OTHERAGENCY", *args])
            assert client.get(path).status_code == 404, name
    for name, *args in [("user", member.pk), ("category", category.pk), ("topic", topic.pk)]:
        client.post(reverse(f"console:{name}", args=["OTHERAGENCY", *args]), {"action": "delete"})
    assert (
        client.post(reverse("console:sender_delete", args=["OTHERAGENCY", identity.pk])).status_code
        == 404
    )
    assert Membership.objects.filter(pk=member.pk).exists()
    assert Category.objects.filter(pk=category.pk).exists()
    assert SenderIdentity.objects.filter(pk=identity.pk).exists()


def test_the_menu_shows_only_what_the_role_allows(client, victor, alice) -> None:  # type: ignore[no-untyped-def]
    client.force_login(victor)
    page = client.get(reverse("console:account", args=[CODE])).content.decode()
    assert url("bulletins") in page
    assert url("compose") not in page and url("settings") not in page
    client.force_login(alice)
    page = client.get(reverse("console:account", args=[CODE])).content.decode()
    assert url("settings") in page and url("users") in page


def test_a_new_topic_gets_the_next_free_code(admin, account) -> None:  # type: ignore[no-untyped-def]
    create_topic(account, name="One")
    admin.post(url("topic_new"), {"name": "Two"})
    assert Topic.objects.get(name="Two").code == "USSTATEBPA_2"
