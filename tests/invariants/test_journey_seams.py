"""Seams between features that each held alone: the demo's printed pages, the Report link, and
the count shown before sending, each checked against what the other side really does."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tidings.bulletins.actions import create_bulletin, publish_bulletin, schedule_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Send
from tidings.subscribers import audiences
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Question
from tidings.texts.actions import subscribe_number
from tidings.texts.models import Phone

pytestmark = pytest.mark.django_db

CODE = "USSTATEBPA"
PRINTED = re.compile(r"^  (?P<label>.+?)\s{2,}(?P<url>https?://\S+)$", re.MULTILINE)


def test_it_prints_only_demo_pages_that_answer_the_printed_admin(settings) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("demo", no_serve=True, stdout=out)
    printed = out.getvalue()
    password = re.search(r"Log in as admin / (\S+)", printed)
    assert password, printed
    admin = Client()
    logged_in = admin.post(reverse("console:login"), {"username": "admin", "password": password[1]})
    assert logged_in.status_code == 302, logged_in.content.decode()[:2000]
    pages = dict((m["label"], m["url"]) for m in PRINTED.finditer(printed))
    assert "Captured outbox" in pages and len(pages) >= 6, printed
    for label, url in pages.items():
        assert url.startswith(settings.BASE_URL + "/"), (label, url)
        path = url.removeprefix(settings.BASE_URL)
        response = admin.get(path)
        assert response.status_code == 200, f"{label} {url} answered {response.status_code}"


@pytest.mark.parametrize(
    ("base", "listen"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://127.0.0.1:9123/", "127.0.0.1:9123"),
        ("http://localhost:9124", "127.0.0.1:9124"),
        ("http://[::1]:9125", "[::1]:9125"),
        ("https://news.example.gov", "127.0.0.1:8000"),
    ],
)
def test_the_demo_serves_where_its_printed_links_point(base: str, listen: str) -> None:
    from tidings.ops.demo import web_address

    assert web_address(base) == listen


@pytest.fixture
def admin(client: Client, alice) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    return client


def test_every_report_link_of_the_bulletin_list_answers(admin, account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    create_bulletin(account, subject="Still a draft", body="Body.", topics=[topic])
    later = create_bulletin(account, subject="For tomorrow", body="Body.", topics=[topic])
    schedule_bulletin(later, timezone.now() + timedelta(days=1))
    sent = create_bulletin(account, subject="Went out", body="Body.", topics=[topic])
    publish_bulletin(sent)
    page = admin.get(reverse("console:bulletins", args=[CODE])).content.decode()
    reports = re.findall(r'<a href="([^"]+)">Report</a>', page)
    assert reports == [reverse("insights:report", args=[CODE, sent.pk])]
    for bulletin in Bulletin.objects.all():
        detail = admin.get(reverse("console:bulletin", args=[CODE, bulletin.pk])).content.decode()
        for url in re.findall(r'<a href="([^"]+)">Report</a>', detail) + reports:
            assert admin.get(url).status_code == 200, (bulletin.status, url)


def test_the_count_page_says_a_segment_narrows_email_not_texts(admin, account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    press = subscribe(account, "press@example.org", [topic], confirmed=True)
    role = audiences.save_question(
        account, label="Your role", kind=Question.CHOICE, choices="Press\nPublic"
    )
    audiences.save_answers(press, {role: "Press"})
    segment = audiences.save_segment(
        account, name="Journalists", topics=[], question=role, values="Press"
    )
    subscribe_number(account, "+254712345678", [topic], source=Phone.CONSOLE)
    bulletin = create_bulletin(account, subject="For the press", body="Embargoed.", topics=[topic])
    bulletin.segment = segment
    bulletin.save(update_fields=["segment"])
    confirm = reverse("console:bulletin_send", args=[CODE, bulletin.pk])
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", admin.get(confirm).content.decode()))
    assert "By email to the segment Journalists only." in page
    assert "the text goes to every number that follows its topics by text" in page
    shown_mail = int(re.search(r"(\d+) subscribers? by email", page)[1])  # type: ignore[index]
    shown_texts = int(re.search(r"(\d+) numbers? by text", page)[1])  # type: ignore[index]

    admin.post(confirm)
    sends = {s.channel: s.deliveries.count() for s in Send.objects.filter(bulletin=bulletin)}
    # What the page promised is what each snapshot took.
    assert sends == {Send.EMAIL: shown_mail, Send.TEXT: shown_texts} == {"email": 1, "text": 1}
