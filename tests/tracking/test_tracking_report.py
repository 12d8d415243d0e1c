"""The bulletin report, the recipients CSV, topic growth and tracking settings in the console."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.worker import process_chunk
from tidings.ops.periodic import run_due
from tidings.subscribers.actions import set_topics, subscribe, unsubscribe_all
from tidings.subscribers.models import Subscription
from tidings.topics.actions import create_topic
from tidings.tracking.actions import backfill_topic
from tidings.tracking.hits import hit_log
from tidings.tracking.models import TopicDay, TrackingSettings, Unsubscribe

pytestmark = pytest.mark.django_db(transaction=True)

BODY = "See [the statement](https://www.state.gov/statement) and [facts](https://www.state.gov/f)."
CLICK = re.compile(r"https?://[^/\s\"]+(/t/c/[0-9]+-[0-9a-f]+/[0-9]+/)")
IMAGE = re.compile(r"https?://[^/\s\"]+(/t/o/[0-9]+-[0-9a-f]+\.gif)")


def send(account, topic, replies=None):  # type: ignore[no-untyped-def]
    """Publish and send a bulletin through the worker; return it and each recipient's HTML."""
    bulletin = create_bulletin(account, subject="Talks", body=BODY, topics=[topic])
    publish_bulletin(bulletin)
    with sink_server() as sink:
        sink.replies.update(replies or {})
        process_chunk(sink.relay)
    html = {}
    for _, rcpts, data in sink.received:
        msg = message_from_bytes(data, policy=default)
        html[rcpts[0]] = msg.get_body(("html",)).get_content()
    return bulletin, html


@pytest.fixture
def sent(client, account, topic, bob):  # type: ignore[no-untyped-def]
    """bob opens and clicks twice, frank only clicks, erin ignores it; carol is refused (550),
    dave deferred (451); bob then unsubscribes."""
    for address in ("carol@example.net", "dave@example.com", "erin@example.org", "frank@x.org"):
        subscribe(account, address, [topic], confirmed=True)
    bulletin, html = send(
        account,
        topic,
        {"carol@example.net": "550 5.1.1 No such user", "dave@example.com": "451 4.3.0 Later"},
    )
    client.get(IMAGE.search(html["bob@example.org"]).group(1))
    client.get(IMAGE.search(html["bob@example.org"]).group(1))
    for path in CLICK.findall(html["bob@example.org"]):
        assert client.get(path).status_code == 302
    assert client.get(CLICK.findall(html["frank@x.org"])[1]).status_code == 302
    hit_log().flush()
    unsubscribe_all(bob)
    return bulletin


def figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'<td id="([a-z]+)">([^<]*)</td>', page))


def test_it_reports_delivery_and_engagement_of_a_real_send(client, victor, account, sent):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    url = reverse("insights:report", args=[account.code, sent.pk])

    page = client.get(url).content.decode()

    assert figures(page) == {
        "recipients": "5",
        "delivered": "3",
        "deferred": "1",
        "failed": "1",
        "bounced": "1",
        "opens": "1",
        "clicks": "2",
        "engaged": "2",
        "engagement": "67 %",
        "unsubscribes": "1",
    }


def test_it_counts_clicks_per_link(client, victor, account, sent):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    page = client.get(reverse("insights:report", args=[account.code, sent.pk]))

    rows = re.findall(
        r"<tr><td>Link \d</td><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>",
        page.content.decode(),
    )
    assert rows == [
        ("https://www.state.gov/statement", "1", "1"),
        ("https://www.state.gov/f", "2", "2"),
    ]


def test_it_draws_the_report_as_inline_svg(client, victor, account, sent):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    page = client.get(reverse("insights:report", args=[account.code, sent.pk]))
    assert page.content.decode().count("<svg") == 2
    assert b"<script" not in page.content


def test_it_reads_the_report_in_a_fixed_number_of_queries(
    client, victor, account, sent, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    url = reverse("insights:report", args=[account.code, sent.pk])
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_it_blames_an_unsubscribe_on_the_last_bulletin_received(
    client, victor, account, topic, bob
):  # type: ignore[no-untyped-def]
    first, _ = send(account, topic)
    second, _ = send(account, topic)
    unsubscribe_all(bob)
    client.force_login(victor)

    pages = [
        figures(client.get(reverse("insights:report", args=[account.code, b.pk])).content.decode())
        for b in (first, second)
    ]
    assert [p["unsubscribes"] for p in pages] == ["0", "1"]


def test_it_downloads_one_csv_row_per_recipient(client, victor, account, sent):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    response = client.get(reverse("insights:recipients_csv", args=[account.code, sent.pk]))

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_address = {row["address"]: row for row in rows}
    assert len(rows) == 5
    assert by_address["bob@example.org"]["state"] == "sent"
    assert by_address["bob@example.org"]["opened_at"] != ""
    assert by_address["bob@example.org"]["clicks"] == "2"
    assert by_address["frank@x.org"]["opened_at"] == ""
    assert by_address["frank@x.org"]["clicks"] == "1"
    assert (
        by_address["carol@example.net"]["state"],
        by_address["carol@example.net"]["bounced"],
    ) == ("failed", "yes")
    assert by_address["dave@example.com"]["state"] == "deferred"
    assert by_address["erin@example.org"]["sent_at"] != ""


def test_it_shows_another_tenant_404_for_the_report_and_the_csv(
    client, oscar, account, other_account, sent
):  # type: ignore[no-untyped-def]
    client.force_login(oscar)
    for name in ("insights:report", "insights:recipients_csv"):
        assert client.get(reverse(name, args=[account.code, sent.pk])).status_code == 404
        # Nor through oscar's own account's address.
        assert client.get(reverse(name, args=[other_account.code, sent.pk])).status_code == 404


def test_it_charts_a_topics_subscribers_over_time(client, victor, account, topic, bob):  # type: ignore[no-untyped-def]
    subscribe(account, "carol@example.net", [topic], confirmed=True)
    Subscription.objects.filter(subscriber=bob).update(created=timezone.now() - timedelta(days=3))
    backfill_topic(topic)
    client.force_login(victor)

    page = client.get(reverse("insights:topic", args=[account.code, topic.pk]))

    rows = re.findall(r"<tr><td>([\d-]+)</td><td>(\d+)</td></tr>", page.content.decode())
    assert len(rows) == 90
    assert [n for _, n in rows[:5]] == ["2", "1", "1", "1", "0"]  # newest first
    assert "<svg" in page.content.decode()


def test_it_snapshots_every_topics_count_in_a_periodic_job(account, topic, bob):  # type: ignore[no-untyped-def]
    run_due()

    day = TopicDay.objects.get(topic=topic)
    assert day.subscribers == 1
    assert day.day == timezone.now().astimezone(account.tz).date()


def test_it_lets_an_admin_turn_tracking_off(client, alice, account):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    url = reverse("insights:settings", args=[account.code])

    response = client.post(url, {"clicks": "on"})

    assert response.status_code == 302
    saved = TrackingSettings.objects.get(account=account)
    assert (saved.opens, saved.clicks) == (False, True)


def test_it_refuses_the_settings_to_a_viewer(client, victor, account):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    url = reverse("insights:settings", args=[account.code])
    assert client.post(url, {}).status_code == 404
    assert not TrackingSettings.objects.exists()


def test_it_lists_analytics_in_the_console_menu(client, victor, account, sent):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    index = reverse("insights:index", args=[account.code])

    assert (
        f'href="{index}"'
        in client.get(reverse("console:account", args=[account.code])).content.decode()
    )
    page = client.get(index).content.decode()
    assert reverse("insights:report", args=[account.code, sent.pk]) in page


def test_dropping_topics_on_the_preferences_page_counts_once(client, victor, account, topic, bob):  # type: ignore[no-untyped-def]
    other = create_topic(account, name="Travel Alerts", code="USSTATEBPA_2")
    subscribe(account, bob.email, [other], confirmed=True)
    bulletin, _ = send(account, topic)
    set_topics(bob, [])
    set_topics(bob, [topic])  # coming back is not another unsubscribe
    client.force_login(victor)

    page = client.get(reverse("insights:report", args=[account.code, bulletin.pk]))

    assert figures(page.content.decode())["unsubscribes"] == "1"
    assert set(Unsubscribe.objects.values_list("topic_id", flat=True)) == {topic.pk, other.pk}


def test_the_analytics_list_shows_each_bulletins_rates_and_compares_them(
    client, victor, account, topic, sent
):  # type: ignore[no-untyped-def]
    send(account, topic)  # a second bulletin nobody opens or clicks
    client.force_login(victor)
    page = client.get(reverse("insights:index", args=[account.code])).content.decode()
    row = page[page.index(reverse("insights:report", args=[account.code, sent.pk])) :]
    row = row[: row.index("</tr>")]
    # Delivered to bob, erin and frank; bob opened, bob and frank clicked, bob left.
    assert '<td class="num">3</td>' in row
    assert '33.3% <span class="above"' in row  # opens, above the two bulletins' average
    assert '66.7% <span class="above"' in row  # clicks
    assert "Average" in page and "16.7%" in page  # (33.3% + 0%) / 2
