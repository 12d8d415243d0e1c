"""The public quick-subscribe page, double opt-in, and its abuse limits."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tidings.accounts.actions import create_account
from tidings.accounts.models import Account
from tidings.delivery.models import Delivery, Send
from tidings.lib.tokens import make_token
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber, SubscribeSettings, Suppression
from tidings.topics.actions import create_topic
from tidings.topics.models import Category, Topic


def queued_to(address: str) -> list[EmailMessage]:
    """Return the notices queued for an address, oldest first."""
    found = []
    for delivery in Delivery.objects.filter(address=address, send__kind=Send.NOTICE).order_by("id"):
        msg = message_from_bytes(bytes(delivery.send.message or b""), policy=default)
        assert isinstance(msg, EmailMessage)
        found.append(msg)
    return found


def confirm_link(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    found = re.search(r"http\S+/confirm/\S+/", str(part.get_content()))
    assert found is not None
    return found.group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def url(account: Account) -> str:
    return reverse("subscribers:subscribe", args=[account.code])


def post(client: Client, url: str, email: str, topics: list[Topic], **extra: str):  # type: ignore[no-untyped-def]
    return client.post(url, {"email": email, "topics": [t.pk for t in topics], **extra})


def test_it_shows_listed_topics_in_their_categories(
    client: Client, account: Account, topic: Topic, url: str
) -> None:
    parent = Category.objects.create(account=account, name="News")
    child = Category.objects.create(account=account, name="Africa", parent=parent)
    kenya = create_topic(account, name="Kenya Updates", code="USSTATEBPA_2")
    kenya.categories.add(child)
    create_topic(account, name="Staff Notes", code="USSTATEBPA_3", listed=False)
    html = client.get(url).content.decode()
    assert html.index("<legend>News</legend>") < html.index("<legend>Africa</legend>")
    assert html.index("<legend>Africa</legend>") < html.index("Kenya Updates")
    assert "Press Releases" in html
    assert "Staff Notes" not in html


def test_it_answers_404_for_an_unknown_account(client: Client, db: None) -> None:
    assert client.get(reverse("subscribers:subscribe", args=["NOPE"])).status_code == 404


def test_it_creates_a_pending_subscriber_and_mails_a_link(
    client: Client, topic: Topic, url: str
) -> None:
    r = post(client, url, "ann@example.org", [topic])
    assert "Check your email" in r.content.decode()
    ann = Subscriber.objects.get(email="ann@example.org")
    assert ann.status == Subscriber.PENDING
    assert not ann.subscriptions.exists()
    (msg,) = queued_to("ann@example.org")
    assert msg["Subject"] == "Confirm your subscription to U.S. Department of State"
    assert msg["Message-ID"].endswith("@tidings.localhost>")
    assert "/subscriptions/USSTATEBPA/confirm/" in confirm_link(msg)


def test_it_changes_nothing_on_a_get_of_the_link(client: Client, topic: Topic, url: str) -> None:
    post(client, url, "ann@example.org", [topic])
    link = confirm_link(queued_to("ann@example.org")[0])
    r = client.get(path_of(link))
    assert r.status_code == 200
    assert "Press Releases" in r.content.decode()
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING


def test_it_confirms_on_post(client: Client, topic: Topic, url: str) -> None:
    post(client, url, "ann@example.org", [topic])
    link = confirm_link(queued_to("ann@example.org")[0])
    r = client.post(path_of(link))
    assert "You're subscribed" in r.content.decode()
    ann = Subscriber.objects.get(email="ann@example.org")
    assert ann.status == Subscriber.CONFIRMED
    assert list(ann.subscriptions.values_list("topic_id", flat=True)) == [topic.pk]


def test_it_requires_csrf_to_confirm(topic: Topic, url: str) -> None:
    Client().post(url, {"email": "ann@example.org", "topics": [topic.pk]})
    link = confirm_link(queued_to("ann@example.org")[0])
    r = Client(enforce_csrf_checks=True).post(path_of(link))
    assert r.status_code == 403
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING


def test_it_refuses_a_reused_link(client: Client, topic: Topic, url: str) -> None:
    post(client, url, "ann@example.org", [topic])
    link = path_of(confirm_link(queued_to("ann@example.org")[0]))
    client.post(link)
    actions.unsubscribe_all(Subscriber.objects.get(email="ann@example.org"))
    r = client.post(link)
    assert r.status_code == 400
    assert "This link has already been used." in r.content.decode()
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.UNSUBSCRIBED


def test_it_refuses_an_expired_link_and_says_what_to_do(
    client: Client, topic: Topic, url: str
) -> None:
    with mock.patch("time.time", return_value=time.time() - 8 * 86400):
        post(client, url, "ann@example.org", [topic])
    r = client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    assert r.status_code == 400
    html = r.content.decode()
    assert "This link has expired." in html
    assert "Subscribe again" in html
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING


def test_it_honours_the_accounts_link_lifetime(
    client: Client, account: Account, topic: Topic, url: str
) -> None:
    SubscribeSettings.objects.create(account=account, confirm_link_days=30)
    with mock.patch("time.time", return_value=time.time() - 8 * 86400):
        post(client, url, "ann@example.org", [topic])
    r = client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    assert r.status_code == 200


def test_it_refuses_an_altered_link(client: Client, topic: Topic, url: str) -> None:
    post(client, url, "ann@example.org", [topic])
    link = path_of(confirm_link(queued_to("ann@example.org")[0]))
    altered = link[:-4] + ("A" if link[-4] != "A" else "B") + link[-3:]
    r = client.post(altered)
    assert r.status_code == 400
    assert "This link is not valid." in r.content.decode()
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING


def test_it_refuses_a_forged_payload(client: Client, account: Account, topic: Topic) -> None:
    ann = Subscriber.objects.create(account=account, email="ann@example.org", confirm_nonce="x")
    forged = make_token("subscriber", {"s": ann.pk, "e": ann.email, "t": [], "n": "x", "x": 2e9})
    r = client.post(reverse("subscribers:confirm", args=[account.code, forged]))
    assert r.status_code == 400
    ann.refresh_from_db()
    assert ann.status == Subscriber.PENDING


def test_it_refuses_a_link_used_under_another_account(
    client: Client, topic: Topic, url: str
) -> None:
    other = create_account(code="OTHER", name="Other", sender_address="o@tidings.localhost")
    post(client, url, "ann@example.org", [topic])
    link = path_of(confirm_link(queued_to("ann@example.org")[0]))
    r = client.post(link.replace("/USSTATEBPA/", f"/{other.code}/"))
    assert r.status_code == 400
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING


def test_it_answers_the_same_for_a_known_address(
    client: Client, bob: Subscriber, topic: Topic, url: str
) -> None:
    fresh = post(client, url, "ann@example.org", [topic]).content.decode()
    known = post(client, url, "bob@example.org", [topic]).content.decode()
    assert known.replace("bob@", "ann@") == fresh


def statements(client: Client, url: str, email: str, topics: list[Topic]) -> list[str]:
    """Return the SQL a subscribe request ran, with its values blanked out."""
    with CaptureQueriesContext(connection) as queries:
        post(client, url, email, topics)
    blank = re.compile(r"'(?:[^']|'')*'|\"s\d+_x\d+\"|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b")
    return [blank.sub("?", q["sql"]) for q in queries.captured_queries]


def test_it_does_the_same_database_work_for_a_known_and_a_new_address(
    client: Client, bob: Subscriber, topic: Topic, url: str
) -> None:
    Subscriber.objects.create(account=bob.account, email="pat@example.org")  # pending, known
    post(client, url, "first@example.org", [topic])  # this IP's counter exists from now on
    new = statements(client, url, "ann@example.org", [topic])
    confirmed = statements(client, url, "bob@example.org", [topic])
    pending = statements(client, url, "pat@example.org", [topic])
    assert any(q.startswith("INSERT INTO") and "delivery" in q for q in new)  # mail queued
    assert "\n".join(confirmed) == "\n".join(new)
    assert "\n".join(pending) == "\n".join(new)


def test_it_asks_a_known_subscriber_to_confirm_new_topics(
    client: Client, bob: Subscriber, account: Account, url: str
) -> None:
    travel = create_topic(account, name="Travel", code="USSTATEBPA_2")
    post(client, url, "bob@example.org", [travel])
    assert not bob.subscriptions.filter(topic=travel).exists()
    client.post(path_of(confirm_link(queued_to("bob@example.org")[0])))
    assert bob.subscriptions.filter(topic=travel).exists()


def test_it_sends_one_confirmation_per_interval(client: Client, topic: Topic, url: str) -> None:
    post(client, url, "ann@example.org", [topic])
    post(client, url, "ann@example.org", [topic])
    assert len(queued_to("ann@example.org")) == 1


def test_it_keeps_the_first_link_working_after_a_throttled_repeat(
    client: Client, topic: Topic, url: str
) -> None:
    post(client, url, "ann@example.org", [topic])
    post(client, url, "ann@example.org", [topic])
    r = client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    assert "You're subscribed" in r.content.decode()


def test_it_makes_an_older_link_useless_once_a_newer_one_is_sent(
    client: Client, topic: Topic, url: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIRM_MAIL_INTERVAL = 0
    post(client, url, "ann@example.org", [topic])
    post(client, url, "ann@example.org", [topic])
    first, second = queued_to("ann@example.org")
    assert client.post(path_of(confirm_link(first))).status_code == 400
    assert client.post(path_of(confirm_link(second))).status_code == 200


def test_it_refuses_too_many_requests_from_one_ip(
    client: Client, topic: Topic, url: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_IP = 2
    post(client, url, "a1@example.org", [topic])
    post(client, url, "a2@example.org", [topic])
    r = post(client, url, "a3@example.org", [topic])
    assert r.status_code == 429
    assert "Too many requests" in r.content.decode()
    assert not Subscriber.objects.filter(email="a3@example.org").exists()


def test_it_counts_each_ip_apart(client: Client, topic: Topic, url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_IP = 1
    post(client, url, "a1@example.org", [topic], REMOTE_ADDR="192.0.2.1")
    r = client.post(url, {"email": "a2@example.org", "topics": [topic.pk]}, REMOTE_ADDR="192.0.2.2")
    assert r.status_code == 200


def test_it_silently_drops_requests_beyond_the_per_address_limit(
    client: Client, topic: Topic, url: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_ADDRESS = 1
    settings.CONFIRM_MAIL_INTERVAL = 0
    first = post(client, url, "ann@example.org", [topic])
    second = post(client, url, "ann@example.org", [topic])
    assert first.content == second.content
    assert len(queued_to("ann@example.org")) == 1


def test_it_ignores_a_filled_honeypot(client: Client, topic: Topic, url: str) -> None:
    r = post(client, url, "ann@example.org", [topic], website="http://spam.example")
    assert "Check your email" in r.content.decode()
    assert not Subscriber.objects.filter(email="ann@example.org").exists()


def test_it_mails_nothing_to_a_suppressed_address(
    client: Client, account: Account, topic: Topic, url: str
) -> None:
    actions.suppress(None, "ann@example.org", Suppression.HARD_BOUNCE)
    r = post(client, url, "ann@example.org", [topic])
    assert "Check your email" in r.content.decode()
    assert queued_to("ann@example.org") == []


def test_it_explains_a_bad_address(client: Client, topic: Topic, url: str) -> None:
    r = post(client, url, "not-an-address", [topic])
    assert "Enter a valid email address." in r.content.decode()
    assert not Subscriber.objects.exists()


def test_it_asks_for_a_topic(client: Client, topic: Topic, url: str) -> None:
    r = client.post(url, {"email": "ann@example.org"})
    assert "Choose at least one topic." in r.content.decode()
    assert not Subscriber.objects.exists()


def test_it_refuses_an_unlisted_topic(client: Client, account: Account, url: str) -> None:
    hidden = create_topic(account, name="Staff", code="USSTATEBPA_9", listed=False)
    r = post(client, url, "ann@example.org", [hidden])
    assert "Select a valid choice" in r.content.decode()
    assert not Subscriber.objects.exists()


def test_it_refuses_another_accounts_topic(client: Client, url: str, db: None) -> None:
    other = create_account(code="OTHER", name="Other", sender_address="o@tidings.localhost")
    foreign = create_topic(other, name="Foreign", code="OTHER_1")
    r = post(client, url, "ann@example.org", [foreign])
    assert "Select a valid choice" in r.content.decode()
    assert not Subscriber.objects.exists()


def test_it_subscribes_at_once_without_double_opt_in(
    client: Client, account: Account, topic: Topic, url: str
) -> None:
    SubscribeSettings.objects.create(account=account, double_opt_in=False)
    r = post(client, url, "ann@example.org", [topic])
    assert "Thank you" in r.content.decode()
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.CONFIRMED
    assert queued_to("ann@example.org") == []


def test_it_requires_csrf_on_the_subscribe_form(topic: Topic, url: str) -> None:
    r = Client(enforce_csrf_checks=True).post(url, {"email": "a@example.org", "topics": [topic.pk]})
    assert r.status_code == 403
    assert not Subscriber.objects.exists()


def test_it_escapes_the_address_on_the_answer(client: Client, topic: Topic, url: str) -> None:
    r = post(client, url, '"<b>x</b>"@example.org', [topic])
    assert "<b>x</b>" not in r.content.decode()


@pytest.fixture
def embed_url(account: Account) -> str:
    return reverse("subscribers:embed", args=[account.code])


def test_it_takes_the_embedded_form_from_another_site_without_csrf(
    topic: Topic, embed_url: str
) -> None:
    browser = Client(enforce_csrf_checks=True)  # no cookie of ours, as from the agency's site
    r = post(browser, embed_url, "ann@example.org", [topic], website="")
    assert r.status_code == 200
    assert b"Check your email" in r.content
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING
    assert not topic.subscriptions.exists()  # only once the link is used
    assert len(queued_to("ann@example.org")) == 1


def test_it_ignores_the_embedded_forms_honeypot(topic: Topic, embed_url: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    r = post(browser, embed_url, "ann@example.org", [topic], website="http://spam.example")
    assert r.status_code == 200
    assert not Subscriber.objects.exists()


def test_it_rate_limits_the_embedded_form(topic: Topic, embed_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_IP = 1
    browser = Client(enforce_csrf_checks=True)
    post(browser, embed_url, "ann@example.org", [topic])
    assert post(browser, embed_url, "cid@example.org", [topic]).status_code == 429
    assert not Subscriber.objects.filter(email="cid@example.org").exists()


def test_it_refuses_a_get_of_the_embed_endpoint(client: Client, embed_url: str) -> None:
    assert client.get(embed_url).status_code == 405
