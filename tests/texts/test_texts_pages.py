"""The public pages: get texts of topics, and a subscriber's own numbers."""

from __future__ import annotations

from django.urls import reverse

from tidings.delivery.models import Send
from tidings.lib.tokens import sign_id
from tidings.subscribers.models import RateBucket
from tidings.texts.models import Phone


def test_a_reader_asks_for_texts_and_is_asked_to_answer_yes(client, account, topic) -> None:  # type: ignore[no-untyped-def]
    url = reverse("texting:join", args=[account.code])
    assert "Mobile number" in client.get(url).content.decode()
    answer = client.post(url, {"number": "+254 712 345 678", "topics": [topic.pk]})
    assert "Reply YES" in answer.content.decode()
    phone = Phone.objects.get()
    assert (phone.number, phone.status, phone.source) == ("+254712345678", Phone.PENDING, Phone.WEB)
    asked = Send.objects.get(channel=Send.TEXT, kind=Send.NOTICE)
    assert asked.deliveries.get().address == "+254712345678"


def test_a_landline_or_nonsense_is_refused_with_the_reason(client, account, topic) -> None:  # type: ignore[no-untyped-def]
    url = reverse("texting:join", args=[account.code])
    answer = client.post(url, {"number": "not a number", "topics": [topic.pk]})
    assert answer.status_code == 400
    assert "is not a phone number" in answer.content.decode()
    assert not Phone.objects.exists()


def test_a_subscriber_adds_a_number_from_the_preferences_page_and_stops_it(
    client, bob, topic
) -> None:  # type: ignore[no-untyped-def]
    token = sign_id("subscriber", bob.pk)
    manage = client.get(reverse("subscribers:manage", args=[token])).content.decode()
    mine = reverse("texting:mine", args=[token])
    assert mine in manage
    answer = client.post(mine, {"number": "+254712345678", "topics": [topic.pk]})
    assert "reply YES" in answer.content.decode()
    phone = Phone.objects.get()
    assert (phone.subscriber_id, list(phone.topics.all())) == (bob.pk, [topic])
    client.post(mine, {"stop": phone.pk})
    phone.refresh_from_db()
    assert phone.status == Phone.STOPPED
    assert client.get(reverse("texting:mine", args=["forged"])).status_code == 400


def test_the_form_never_floods_a_phone_nor_wakes_a_number_that_said_stop(
    client, account, topic
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("texting:join", args=[account.code])
    for _ in range(3):
        client.post(url, {"number": "+254712345678", "topics": [topic.pk]})
    assert Send.objects.filter(channel=Send.TEXT).count() == 1  # one request text per interval
    phone = Phone.objects.get()
    Phone.objects.filter(pk=phone.pk).update(status=Phone.STOPPED)
    RateBucket.objects.all().delete()  # the interval passed: only STOP holds it back now
    client.post(url, {"number": "+254712345678", "topics": [topic.pk]})
    phone.refresh_from_db()
    assert phone.status == Phone.STOPPED
    assert Send.objects.filter(channel=Send.TEXT).count() == 1
