"""A welcome email once an address confirms (with the account's own words)."""

from __future__ import annotations

from django.urls import reverse

from tests.subscribers.test_subscribe import confirm_link, path_of, queued_to
from tidings.subscribers import actions


def test_a_confirmed_address_is_welcomed_with_its_topics_and_the_accounts_words(
    client, account, topic
) -> None:  # type: ignore[no-untyped-def]
    actions.set_welcome_text(account, "Thank you for following the Department's news.")
    actions.request_subscription(account, "ann@example.org", [topic])
    client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    _confirm, welcome = queued_to("ann@example.org")
    assert welcome["Subject"] == f"Welcome to {account.name}'s updates"
    text = welcome.get_body(preferencelist=("plain",)).get_content()
    assert topic.name in text and "Thank you for following" in text
    assert "/subscriptions/manage/" in text


def test_an_operator_subscription_or_an_address_change_gets_no_welcome(
    client, account, topic
) -> None:  # type: ignore[no-untyped-def]
    ann = actions.subscribe(account, "ann@example.org", [topic], confirmed=True)
    assert queued_to("ann@example.org") == []
    actions.request_address_change(ann, "ann@example.net")
    client.post(path_of(confirm_link(queued_to("ann@example.net")[0])))
    assert len(queued_to("ann@example.net")) == 1  # the confirmation only


def test_an_admin_writes_the_welcome_text_on_the_signup_form_page(
    client, alice, victor, account
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("subscribers_console:embed", args=[account.code])
    client.force_login(victor)
    assert client.post(url, {"welcome_text": "x"}).status_code == 404
    client.force_login(alice)
    client.post(url, {"welcome_text": "Hello & welcome"})
    assert actions.settings_for(account).welcome_text == "Hello & welcome"
    assert "Hello &amp; welcome" in client.get(url).content.decode()
