"""Subscriber questions (subscribe and preferences pages) and segments (a bulletin to a segment,
the count before sending, the console page)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tidings.bulletins.actions import create_bulletin, publish_bulletin, recipient_counts
from tidings.lib.tokens import sign_id
from tidings.subscribers import actions, audiences
from tidings.subscribers.models import Answer, Question, Subscriber
from tidings.topics.actions import create_topic


@pytest.fixture
def county(account):  # type: ignore[no-untyped-def]
    return audiences.save_question(
        account, label="Your county", kind=Question.CHOICE, choices="Nairobi\nMombasa\nKisumu"
    )


def test_the_subscribe_page_asks_and_keeps_the_answer(client, account, topic, county) -> None:  # type: ignore[no-untyped-def]
    url = reverse("subscribers:subscribe", args=[account.code])
    assert "Your county" in client.get(url).content.decode()
    client.post(url, {"email": "ann@example.org", "topics": [topic.pk], f"q{county.pk}": "Mombasa"})
    ann = Subscriber.objects.get(email="ann@example.org")
    assert Answer.objects.get(subscriber=ann, question=county).value == "Mombasa"
    refused = client.post(
        url, {"email": "x@example.org", "topics": [topic.pk], f"q{county.pk}": "Mars"}
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_the_preferences_page_changes_the_answer(client, account, topic, county, bob) -> None:  # type: ignore[no-untyped-def]
    token = sign_id("subscriber", bob.pk)
    page = client.get(reverse("subscribers:manage", args=[token])).content.decode()
    assert "Your county" in page
    answer = client.post(reverse("subscribers:answers", args=[token]), {f"q{county.pk}": "Kisumu"})
    assert "Your answers have been saved" in answer.content.decode()
    assert audiences.answers_of(bob) == {county.pk: "Kisumu"}
    client.post(reverse("subscribers:answers", args=[token]), {f"q{county.pk}": ""})
    assert audiences.answers_of(bob) == {}


def test_a_bulletin_to_a_segment_reaches_only_it_and_the_count_says_so(
    account, topic, county
) -> None:  # type: ignore[no-untyped-def]
    travel = create_topic(account, name="Travel")
    for email, place, topics in (
        ("coast@example.org", "Mombasa", [topic]),
        ("lake@example.org", "Kisumu", [topic]),
        ("both@example.org", "Mombasa", [topic, travel]),
        ("silent@example.org", "", [topic]),
    ):
        found = actions.subscribe(account, email, topics, confirmed=True)
        if place:
            audiences.save_answers(found, {county: place})
    coast = audiences.save_segment(
        account, name="Coast", topics=[], question=county, values="Mombasa"
    )
    bulletin = create_bulletin(
        account, subject="Tide", body="B", topics=[topic, travel], segment=coast
    )
    per_topic, total = recipient_counts(bulletin)
    assert total == 2 and dict((t.name, n) for t, n in per_topic) == {topic.name: 2, "Travel": 1}
    send = publish_bulletin(bulletin)
    assert sorted(send.deliveries.values_list("address", flat=True)) == [
        "both@example.org",
        "coast@example.org",
    ]

    travellers = audiences.save_segment(
        account, name="Travellers", topics=[travel], question=None, values=""
    )
    assert Subscriber.objects.filter(audiences.in_segment(travellers)).count() == 1
    with pytest.raises(ValidationError, match="Name the answers"):
        audiences.save_segment(account, name="Empty", topics=[], question=county, values="")


def test_the_console_page_adds_questions_and_segments_with_their_size(
    client, alice, victor, account, topic, bob
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("subscribers_console:audiences", args=[account.code])
    client.force_login(victor)
    assert client.post(url, {"question": "1", "label": "Q", "kind": "text"}).status_code == 404
    client.force_login(alice)
    asked = {"label": "Your role", "kind": "choice", "choices": "Press\nPublic"}
    client.post(url, {"question": "1", **asked, "on_subscribe_page": "on"})
    role = Question.objects.get(label="Your role")
    audiences.save_answers(bob, {role: "Press"})
    client.post(
        url, {"segment": "1", "name": "Journalists", "question": role.pk, "values": "Press"}
    )
    page = client.get(url).content.decode()
    assert "Journalists" in page and '<td class="num">1</td>' in page
    one = client.post(url, {"question": "1", "label": "Bad", "kind": "choice", "choices": "Only"})
    assert one.status_code == 400 and "two or more" in one.content.decode()


def test_the_open_subscribe_form_never_changes_a_confirmed_subscribers_answers(
    client, account, topic, county, bob
) -> None:  # type: ignore[no-untyped-def]
    audiences.save_answers(bob, {county: "Nairobi"})
    url = reverse("subscribers:subscribe", args=[account.code])
    client.post(url, {"email": bob.email, "topics": [topic.pk], f"q{county.pk}": "Kisumu"})
    assert audiences.answers_of(bob) == {county.pk: "Nairobi"}
