"""A list's pages and its notices in the member's language (Spanish and Swahili ship)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.lists.test_list_digests import _post
from tests.lists.test_list_membership import confirm_link, notices_to
from tests.smtp_helpers import sink_server
from tests.subscribers.test_languages import said
from tidings.delivery.worker import process_chunk
from tidings.lists import membership
from tidings.lists.digests import send_digest
from tidings.lists.models import Member, MembershipRequest


def test_joining_in_swahili_gets_the_lists_mail_in_swahili(client: Client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    url = reverse("lists:join", args=[wanabidii.name])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sw").content.decode()
    assert '<html lang="sw"' in page and said("sw", "Email address") in page
    client.post(
        url, {"email": "juma@example.org", "delivery_mode": "each"}, HTTP_ACCEPT_LANGUAGE="sw"
    )
    assert MembershipRequest.objects.get(address="juma@example.org").language == "sw"
    (confirmation,) = notices_to("juma@example.org")
    body = confirmation.get_body(("plain",)).get_content()
    assert said("sw", "To confirm, open this link and press the button:") in body
    # The confirmation page speaks Swahili even to an English browser; the member keeps it.
    page = client.get(confirm_link(confirmation), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="sw"' in page
    client.post(confirm_link(confirmation))
    assert Member.objects.get(address="juma@example.org").language == "sw"
    welcome = notices_to("juma@example.org")[-1]
    label = wanabidii.label
    assert welcome["Subject"] == said("sw", "Welcome to %(label)s", label=label)


def test_a_members_language_reaches_the_notices_sent_to_it_alone(wanabidii) -> None:  # type: ignore[no-untyped-def]
    membership.add_member(wanabidii, "ana@example.org", language="es")
    membership.add_member(wanabidii, "bob@example.org")
    membership.request_leave(wanabidii, "ana@example.org")
    membership.request_leave(wanabidii, "bob@example.org")
    (ana,) = notices_to("ana@example.org")
    (bob,) = notices_to("bob@example.org")
    label = wanabidii.label
    assert ana["Subject"].endswith(said("es", "leave %(label)s", label=label))
    assert bob["Subject"].endswith(f"leave {label}")
    # The command a reply carries stays the same in every language.
    assert ana["Subject"].startswith("confirm ") and bob["Subject"].startswith("confirm ")


@pytest.mark.django_db(transaction=True)
def test_digest_members_each_get_the_digest_in_their_language(wanabidii) -> None:  # type: ignore[no-untyped-def]
    membership.add_member(wanabidii, "ana@example.org", delivery_mode=Member.DIGEST, language="es")
    membership.add_member(wanabidii, "ben@example.org", delivery_mode=Member.DIGEST)
    _post(wanabidii, "Migration talks", "The talks were productive.")
    assert send_digest(wanabidii, now=timezone.now() + timedelta(minutes=1)) is not None
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    got = {rcpts[0]: message_from_bytes(data, policy=default) for _, rcpts, data in sink.received}
    day = timezone.localtime(timezone.now(), wanabidii.tz).date().isoformat()
    values = {"label": wanabidii.label, "day": day}
    assert said("es", "%(label)s digest, %(day)s", **values) in got["ana@example.org"]["Subject"]
    assert got["ben@example.org"]["Subject"].startswith(f"{wanabidii.label} digest, {day}")
    assert "Migration talks" in got["ana@example.org"].as_string()
