from django.urls import reverse

from tidings.texts.models import CapturedText, Keyword, Phone


def test_an_admin_adds_a_number_and_a_keyword_and_sees_the_captured_outbox(
    client, alice, account, topic
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    client.post(
        reverse("texts:add_number", args=[account.code]),
        {"number": "+254 712 345 678", "topics": [topic.pk]},
    )
    phone = Phone.objects.get()
    assert (phone.number, phone.status, list(phone.topics.all())) == (
        "+254712345678",
        Phone.CONFIRMED,
        [topic],
    )
    client.post(reverse("texts:keyword", args=[account.code, topic.pk]), {"word": "alerts"})
    assert Keyword.objects.get(topic=topic).word == "ALERTS"
    bad = client.post(
        reverse("texts:add_number", args=[account.code]), {"number": "nope"}, follow=True
    )
    assert "is not a phone number" in bad.content.decode()

    CapturedText.objects.create(
        source="12345", destination="254712345678", body="Hello <b>", message_id="1"
    )
    page = client.get(reverse("texts:index", args=[account.code])).content.decode()
    assert "+254712345678" in page and 'value="ALERTS"' in page
    assert "Hello &lt;b&gt;" in page


def test_a_viewer_reads_but_may_not_change_and_other_accounts_see_nothing(
    client, victor, oscar, account, topic
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(victor)
    assert client.get(reverse("texts:index", args=[account.code])).status_code == 200
    denied = client.post(
        reverse("texts:add_number", args=[account.code]), {"number": "+254712345678"}
    )
    assert denied.status_code in (403, 404) and not Phone.objects.exists()
    client.force_login(oscar)
    assert client.get(reverse("texts:index", args=[account.code])).status_code in (403, 404)
