"""The composer: drafts, preview, autosave, test send, send now, schedule and its cancel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from tidings.accounts.models import Membership, SenderIdentity
from tidings.bulletins.actions import create_bulletin, publish_bulletin, schedule_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.topics.actions import create_topic

pytestmark = pytest.mark.django_db

CODE = "USSTATEBPA"


def form(topic, **extra):  # type: ignore[no-untyped-def]
    data = {
        "subject": "Migration Talks",
        "body_format": "markdown",
        "body": "The talks **resume** today.",
        "topics": [topic.pk],
        "action": "save",
    }
    data.update(extra)
    return data


@pytest.fixture
def author(client: Client, erin) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(erin)
    return client


def test_it_saves_a_new_draft_and_opens_it_for_editing(author, topic, erin) -> None:  # type: ignore[no-untyped-def]
    response = author.post(reverse("console:compose", args=[CODE]), form(topic))
    bulletin = Bulletin.objects.get()
    assert response["Location"] == reverse("console:bulletin_edit", args=[CODE, bulletin.pk])
    assert (bulletin.status, bulletin.created_by) == (Bulletin.DRAFT, erin)
    assert list(bulletin.topics.all()) == [topic]


def test_preview_button_shows_the_email_for_the_chosen_subscriber(author, topic, bob) -> None:  # type: ignore[no-untyped-def]
    response = author.post(
        reverse("console:compose", args=[CODE]),
        form(topic, action="preview", preview_as="bob@example.org"),
    )
    assert "preview_as=bob%40example.org" in response["Location"]
    page = author.get(response["Location"]).content.decode()
    assert "Preview for bob@example.org" in page
    assert "Press Releases: Migration Talks" in page
    assert "This email was sent to bob@example.org" in page  # the text part
    frame = re.search(r'<iframe src="([^"]+)" sandbox=""', page)
    assert frame is not None
    html = author.get(frame.group(1).replace("&amp;", "&"))
    assert "<strong>resume</strong>" in html.content.decode()
    assert "sandbox" in html["Content-Security-Policy"]
    assert "script-src" not in html["Content-Security-Policy"]
    assert html["X-Frame-Options"] == "SAMEORIGIN"


def test_html_body_is_sanitized_in_the_preview(author, topic) -> None:  # type: ignore[no-untyped-def]
    body = '<p onclick="steal()">Hi</p><script>alert(1)</script><a href="javascript:x()">x</a>'
    author.post(reverse("console:compose", args=[CODE]), form(topic, body_format="html", body=body))
    bulletin = Bulletin.objects.get()
    html = author.get(reverse("console:bulletin_preview", args=[CODE, bulletin.pk])).content
    assert b"<p>Hi</p>" in html
    assert b"<script" not in html and b"alert(1)" not in html
    assert b"onclick" not in html and b"javascript:" not in html


def test_autosave_creates_then_updates_one_draft(author, topic) -> None:  # type: ignore[no-untyped-def]
    first = author.post(reverse("console:bulletin_autosave_new", args=[CODE]), form(topic)).json()
    bulletin = Bulletin.objects.get()
    assert first["edit_url"] == reverse("console:bulletin_edit", args=[CODE, bulletin.pk])
    author.post(first["autosave_url"], form(topic, subject="Migration Talks, updated"))
    bulletin.refresh_from_db()
    assert bulletin.subject == "Migration Talks, updated"
    assert Bulletin.objects.count() == 1


def test_autosave_answers_400_for_an_incomplete_draft(author, topic) -> None:  # type: ignore[no-untyped-def]
    response = author.post(
        reverse("console:bulletin_autosave_new", args=[CODE]), form(topic, subject="")
    )
    assert response.status_code == 400
    assert "subject" in response.json()["fields"]
    assert not Bulletin.objects.exists()


def test_test_send_queues_the_test_message(author, topic) -> None:  # type: ignore[no-untyped-def]
    response = author.post(
        reverse("console:compose", args=[CODE]),
        form(topic, action="test", test_addresses="qa@example.gov, boss@example.gov"),
    )
    notices = Send.objects.filter(kind=Send.NOTICE)
    assert notices.count() == 2
    assert b"Subject: [TEST] Press Releases: Migration Talks" in bytes(notices[0].message)
    assert "Test sent to 2 addresses." in author.get(response["Location"]).content.decode()
    assert Bulletin.objects.get().status == Bulletin.DRAFT


def test_send_now_asks_first_with_the_exact_count_then_publishes_it(author, topic, bob) -> None:  # type: ignore[no-untyped-def]
    response = author.post(reverse("console:compose", args=[CODE]), form(topic, action="send"))
    bulletin = Bulletin.objects.get()
    confirm = reverse("console:bulletin_send", args=[CODE, bulletin.pk])
    assert response["Location"] == confirm
    assert bulletin.status == Bulletin.DRAFT  # nothing sent before the confirmation
    page = author.get(confirm).content.decode()
    assert 'id="recipient-total">1 subscriber<' in page
    response = author.post(confirm)
    assert response["Location"] == reverse("console:bulletin", args=[CODE, bulletin.pk])
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.SENDING
    assert Delivery.objects.filter(send__bulletin=bulletin).count() == 1
    assert author.post(confirm)["Location"].endswith(f"/bulletins/{bulletin.pk}/")  # not twice


def test_schedule_reads_the_time_in_the_accounts_zone(author, topic) -> None:  # type: ignore[no-untyped-def]
    local = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
    typed = local.strftime("%Y-%m-%dT%H:%M")
    response = author.post(
        reverse("console:compose", args=[CODE]),
        form(topic, action="schedule", schedule_at=typed),
        follow=True,
    )
    # Shown in the account's zone, the zone named (lib.when).
    assert date_format(local, "M j, Y, g:i A T") in response.content.decode()
    bulletin = Bulletin.objects.get()
    assert bulletin.status == Bulletin.SCHEDULED
    expected = datetime.strptime(typed, "%Y-%m-%dT%H:%M").replace(
        tzinfo=ZoneInfo("America/New_York")
    )
    assert bulletin.scheduled_at == expected


def test_schedule_in_the_past_is_refused_and_keeps_the_draft(author, topic) -> None:  # type: ignore[no-untyped-def]
    response = author.post(
        reverse("console:compose", args=[CODE]),
        form(topic, action="schedule", schedule_at="2015-12-01T12:38"),
        follow=True,
    )
    assert "must be in the future" in response.content.decode()
    assert Bulletin.objects.get().status == Bulletin.DRAFT


def test_cancel_takes_a_scheduled_bulletin_back(author, account, topic) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Later", body="x", topics=[topic])
    schedule_bulletin(bulletin, timezone.now() + timedelta(hours=3))
    author.post(reverse("console:bulletin_cancel", args=[CODE, bulletin.pk]))
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.DRAFT


def test_sender_identity_is_recorded_and_shown(author, account, topic) -> None:  # type: ignore[no-untyped-def]
    identity = SenderIdentity.objects.create(
        account=account, name="Office of the Spokesperson", address="spokesperson@state.example"
    )
    author.post(reverse("console:compose", args=[CODE]), form(topic, sender=identity.pk))
    bulletin = Bulletin.objects.get()
    assert bulletin.sender == identity
    page = author.get(reverse("console:bulletin_edit", args=[CODE, bulletin.pk])).content.decode()
    assert "Office of the Spokesperson &lt;spokesperson@state.example&gt;" in page


def test_another_accounts_sender_identity_is_refused(author, topic, other_account) -> None:  # type: ignore[no-untyped-def]
    theirs = SenderIdentity.objects.create(
        account=other_account, name="Other", address="other@other.example"
    )
    response = author.post(reverse("console:compose", args=[CODE]), form(topic, sender=theirs.pk))
    assert response.status_code == 200
    assert not Bulletin.objects.exists()


def test_an_author_writes_only_to_assigned_topics(author, account, topic, erin) -> None:  # type: ignore[no-untyped-def]
    other = create_topic(account, name="Travel Alerts")
    Membership.objects.get(user=erin).topics.set([topic])
    page = author.get(reverse("console:compose", args=[CODE])).content.decode()
    assert "Travel Alerts" not in page
    response = author.post(reverse("console:compose", args=[CODE]), form(other))
    assert response.status_code == 200
    assert not Bulletin.objects.exists()
    theirs = create_bulletin(account, subject="Alert", body="x", topics=[other])
    assert author.get(reverse("console:bulletin_edit", args=[CODE, theirs.pk])).status_code == 404


def test_a_viewer_cannot_compose(client, victor, topic) -> None:  # type: ignore[no-untyped-def]
    client.force_login(victor)
    assert client.get(reverse("console:compose", args=[CODE])).status_code == 404
    assert client.post(reverse("console:compose", args=[CODE]), form(topic)).status_code == 404
    assert not Bulletin.objects.exists()


def test_list_counts_bulletins_per_state(author, account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    create_bulletin(account, subject="Draft one", body="x", topics=[topic])
    later = create_bulletin(account, subject="Later one", body="x", topics=[topic])
    schedule_bulletin(later, timezone.now() + timedelta(hours=1))
    sent = create_bulletin(account, subject="Sent one", body="x", topics=[topic])
    publish_bulletin(sent)
    page = author.get(reverse("console:bulletins", args=[CODE])).content.decode()
    for state in ("draft", "scheduled", "sending"):
        assert f'data-state="{state}">1<' in page
    assert 'data-state="sent">0<' in page
    drafts = author.get(reverse("console:bulletins", args=[CODE]) + "?status=draft")
    assert "Draft one" in drafts.content.decode()
    assert "Sent one" not in drafts.content.decode()


def test_list_reads_delivery_counts_in_a_fixed_number_of_queries(
    author, account, topic, bob, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        publish_bulletin(create_bulletin(account, subject=f"B{n}", body="x", topics=[topic]))
    with django_assert_max_num_queries(12):
        author.get(reverse("console:bulletins", args=[CODE]))


def test_detail_shows_delivery_counts(author, account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Sent one", body="x", topics=[topic])
    publish_bulletin(bulletin)
    page = author.get(reverse("console:bulletin", args=[CODE, bulletin.pk])).content.decode()
    assert '<td class="num" id="count-total">1</td>' in page
    assert reverse("bulletins:web_copy", args=[bulletin.pk]) in page
    # One number first; while it is sent the page updates itself (a script, which can be stopped).
    assert "0 of 1 recipient sent so far" in page
    assert 'data-refresh-seconds="5"' in page and "console-refresh" in page
    # And the email as subscribers see it.
    assert reverse("console:bulletin_preview", args=[CODE, bulletin.pk]) in page


def test_other_tenants_bulletins_are_not_found(client, oscar, account, topic) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Ours", body="x", topics=[topic])
    client.force_login(oscar)
    for name in ("bulletin", "bulletin_edit", "bulletin_preview"):
        assert client.get(reverse(f"console:{name}", args=[CODE, bulletin.pk])).status_code == 404
        url = reverse(f"console:{name}", args=["OTHERAGENCY", bulletin.pk])
        assert client.get(url).status_code == 404
    url = reverse("console:bulletin_cancel", args=["OTHERAGENCY", bulletin.pk])
    assert client.post(url).status_code == 404
    url = reverse("console:bulletin_autosave", args=["OTHERAGENCY", bulletin.pk])
    assert client.post(url, form(topic)).status_code == 404
    bulletin.refresh_from_db()
    assert bulletin.subject == "Ours"


def test_a_viewer_reads_bulletins_but_changes_nothing(client, victor, account, topic) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Later", body="x", topics=[topic])
    schedule_bulletin(bulletin, timezone.now() + timedelta(hours=3))
    client.force_login(victor)
    page = client.get(reverse("console:bulletin", args=[CODE, bulletin.pk])).content.decode()
    assert "Later" in page
    assert reverse("console:bulletin_cancel", args=[CODE, bulletin.pk]) not in page
    assert (
        client.post(reverse("console:bulletin_cancel", args=[CODE, bulletin.pk])).status_code == 404
    )
    assert (
        client.get(reverse("console:bulletin_preview", args=[CODE, bulletin.pk])).status_code == 404
    )
    autosave = reverse("console:bulletin_autosave", args=[CODE, bulletin.pk])
    assert client.post(autosave, form(topic)).status_code == 404
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.SCHEDULED


def test_a_scheduled_bulletin_is_not_edited(author, account, topic) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Later", body="x", topics=[topic])
    schedule_bulletin(bulletin, timezone.now() + timedelta(hours=3))
    edit = reverse("console:bulletin_edit", args=[CODE, bulletin.pk])
    assert author.post(edit, form(topic, subject="Changed"))["Location"] == reverse(
        "console:bulletin", args=[CODE, bulletin.pk]
    )
    autosave = reverse("console:bulletin_autosave", args=[CODE, bulletin.pk])
    assert author.post(autosave, form(topic, subject="Changed")).status_code == 409
    bulletin.refresh_from_db()
    assert bulletin.subject == "Later"
