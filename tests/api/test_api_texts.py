"""Text messages through the API: numbers, keywords, a bulletin's text, tenants apart."""

from __future__ import annotations

import pytest

from tests.api.test_api_base import Api, ApiFactory, api, api_as, other_api  # noqa: F401
from tidings.delivery.models import Send
from tidings.texts.models import Phone
from tidings.topics.models import Topic


@pytest.fixture(autouse=True)
def _no_token_rate(settings):  # type: ignore[no-untyped-def]
    settings.API_RATE_PER_MINUTE = 0


def test_a_number_is_added_in_e164_and_asked_to_answer_yes(api: Api, topic: Topic) -> None:  # noqa: F811
    body = api.post("/phones", {"number": "+254 712-345-678", "topics": [topic.pk]}).json()
    assert (body["number"], body["status"], body["topics"]) == (
        "+254712345678",
        "pending",
        [topic.pk],
    )
    asked = Send.objects.get(kind=Send.NOTICE, channel=Send.TEXT)
    assert b"reply YES" in bytes(asked.message)

    bad = api.post("/phones", {"number": "+254 12", "topics": [topic.pk]})
    assert bad.status_code == 422 and "not" in bad.json()["detail"]


def test_a_number_is_changed_stopped_and_listed(api: Api, topic: Topic) -> None:  # noqa: F811
    phone = api.post("/phones", {"number": "+254712345678", "confirmed": True}).json()
    assert phone["status"] == "confirmed" and phone["topics"] == []
    changed = api.patch(f"/phones/{phone['id']}", {"topics": [topic.pk]}).json()
    assert changed["topics"] == [topic.pk]
    assert api.get("/phones", topic=topic.pk).json()["count"] == 1
    assert api.patch(f"/phones/{phone['id']}", {"status": "stopped"}).json()["status"] == "stopped"
    assert api.get("/phones", status="confirmed").json()["count"] == 0


def test_keywords_and_the_bulletin_text_version(api: Api, topic: Topic) -> None:  # noqa: F811
    assert api.put(f"/topics/{topic.pk}/keyword", {"word": "alerts"}).json() == {
        "topic": topic.pk,
        "word": "ALERTS",
    }
    refused = api.put(f"/topics/{topic.pk}/keyword", {"word": "STOP"})
    assert refused.status_code == 422
    created = api.post(
        "/bulletins", {"subject": "S", "body": "B", "topics": [topic.pk], "text": "Short text"}
    )
    assert created.json()["text"] == "Short text"
    too_long = api.post(
        "/bulletins", {"subject": "S", "body": "B", "topics": [topic.pk], "text": "a" * 1531}
    )
    assert too_long.status_code == 422 and "segments" in too_long.json()["detail"]


def test_another_accounts_numbers_are_not_found(api: Api, other_api: Api, topic: Topic) -> None:  # noqa: F811
    phone = api.post("/phones", {"number": "+254712345678", "confirmed": True}).json()
    assert other_api.get(f"/phones/{phone['id']}").status_code == 404
    assert other_api.patch(f"/phones/{phone['id']}", {"status": "stopped"}).status_code == 404
    assert Phone.objects.get().status == Phone.CONFIRMED


def test_the_network_is_joined_and_counted(api: Api, api_as: ApiFactory, account) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert api.get("/network").json() == {"member": False, "came": 0, "waiting": 0, "sent": 0}
    assert api.put("/network", {"member": True}).json()["member"] is True
    assert api_as(account, "viewer").put("/network", {"member": False}).status_code == 403


def test_a_bulletin_gets_a_segment_and_a_template_through_the_api(  # type: ignore[no-untyped-def]
    api: Api,  # noqa: F811
    account,
    topic: Topic,
) -> None:
    from tidings.bulletins.actions import save_template
    from tidings.subscribers import audiences

    segment = audiences.save_segment(
        account, name="All of topic", topics=[topic], question=None, values=""
    )
    template = save_template(account, name="Plain", header="", footer="", layout="plain")
    draft = {"subject": "S", "body": "B", "topics": [topic.pk]}
    body = api.post("/bulletins", {**draft, "segment": segment.pk, "template": template.pk}).json()
    assert (body["segment"], body["template"]) == (segment.pk, template.pk)
    changed = api.patch(f"/bulletins/{body['id']}", {"segment": None}).json()
    assert (changed["segment"], changed["template"]) == (None, template.pk)
    assert api.patch(f"/bulletins/{body['id']}", {"segment": 999999}).status_code == 422
