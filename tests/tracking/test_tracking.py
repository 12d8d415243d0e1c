"""Opens and clicks: the rewritten mail, the image, the redirect, and what they refuse."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from email import message_from_bytes
from email.policy import default

import pytest

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.email import BulletinRenderer
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.subscribers.actions import subscribe
from tidings.tracking.actions import save_settings
from tidings.tracking.hits import hit_log
from tidings.tracking.models import Click, Link, Open
from tidings.tracking.tokens import recipient_token

pytestmark = pytest.mark.django_db(transaction=True)

BODY = (
    "Read [the joint statement](https://www.state.gov/statement?id=7&lang=en) "
    "or the [fact sheet](https://www.state.gov/facts)."
)
CLICK = re.compile(r"(https?://[^/\s\"]+)/t/c/([0-9]+-[0-9a-f]+)/([0-9]+)/")
IMAGE = re.compile(r"(https?://[^/\s\"]+)/t/o/([0-9]+-[0-9a-f]+)\.gif")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET over a real socket without following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def send_and_capture(account, topic):  # type: ignore[no-untyped-def]
    """Publish a bulletin with two links, send it through the worker, return the parsed mail."""
    bulletin = create_bulletin(account, subject="Talks", body=BODY, topics=[topic])
    publish_bulletin(bulletin)
    with sink_server() as sink:
        process_chunk(sink.relay)
    ((_, _, data),) = sink.received
    return bulletin, message_from_bytes(data, policy=default)


@pytest.fixture
def mail(settings, live_server, account, topic, bob):  # type: ignore[no-untyped-def]
    settings.BASE_URL = live_server.url
    return send_and_capture(account, topic)


def parts(msg):  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_it_redirects_every_link_of_both_parts_through_one_recipient_token(mail, bob):  # type: ignore[no-untyped-def]
    bulletin, msg = mail
    text, html = parts(msg)
    delivery = Delivery.objects.get(address=bob.email)

    html_links = CLICK.findall(html)
    text_links = CLICK.findall(text)
    assert "https://www.state.gov" not in html + text
    assert len(html_links) == 2 and sorted(html_links) == sorted(text_links)
    assert {token for _, token, _ in html_links} == {recipient_token(delivery.pk)}
    links = dict(Link.objects.filter(bulletin=bulletin).values_list("pk", "url"))
    assert sorted(links.values()) == [
        "https://www.state.gov/facts",
        "https://www.state.gov/statement?id=7&lang=en",
    ]
    assert {int(link_id) for _, _, link_id in html_links} == set(links)


def test_it_leaves_the_manage_and_unsubscribe_links_alone(mail):  # type: ignore[no-untyped-def]
    _, msg = mail
    text, html = parts(msg)
    assert "/subscriptions/manage/" in text and "/subscriptions/unsubscribe/" in text
    assert 'href="http://' in html and "/subscriptions/unsubscribe/" in html
    assert "/t/c/" not in msg["List-Unsubscribe"]


def test_it_redirects_a_click_to_the_bulletins_url_and_counts_it_once(mail, bob):  # type: ignore[no-untyped-def]
    _, msg = mail
    _, html = parts(msg)
    base, token, link_id = CLICK.findall(html)[0]
    url = f"{base}/t/c/{token}/{link_id}/"

    first = get(url)
    second = get(url)
    hit_log().flush()

    assert first[0] == second[0] == 302
    assert first[1]["Location"] == Link.objects.get(pk=link_id).url
    click = Click.objects.get()
    assert click.count == 2
    assert click.delivery_id == Delivery.objects.get(address=bob.email).pk


@pytest.mark.parametrize(
    "alter",
    [
        lambda token, link: (token[:-1] + ("0" if token[-1] != "0" else "1"), link),  # MAC
        lambda token, link: (str(int(token.split("-")[0]) + 1) + "-" + token.split("-")[1], link),
        lambda token, link: ("forged", link),
        lambda token, link: (token, str(int(link) + 1000)),  # no such link
    ],
    ids=["altered-mac", "other-delivery-same-mac", "forged", "unknown-link"],
)
def test_it_answers_404_to_a_forged_or_altered_click(mail, alter):  # type: ignore[no-untyped-def]
    _, msg = mail
    _, html = parts(msg)
    base, token, link_id = CLICK.findall(html)[0]
    token, link_id = alter(token, link_id)

    status, headers, _ = get(f"{base}/t/c/{token}/{link_id}/")
    hit_log().flush()

    assert status == 404
    assert "Location" not in headers
    assert not Click.objects.exists()


def test_it_does_not_count_a_genuine_token_with_another_bulletins_link(
    settings, live_server, mail, account, topic
):  # type: ignore[no-untyped-def]
    # The redirect answers before the database is asked whose delivery the token names, so it
    # goes where the other bulletin's link goes (one of the agency's own links, never an
    # address the requester chose); the batch writer does not count it.
    _, msg = mail
    _, html = parts(msg)
    base, token, _ = CLICK.findall(html)[0]
    other = create_bulletin(
        account, subject="Other", body="[x](https://evil.example/)", topics=[topic]
    )
    foreign = Link.objects.create(bulletin=other, position=0, url="https://evil.example/")

    status, headers, _ = get(f"{base}/t/c/{token}/{foreign.pk}/")
    hit_log().flush()

    assert (status, headers["Location"]) == (302, "https://evil.example/")
    assert not Click.objects.exists()


def test_it_answers_the_image_and_counts_a_unique_open(mail):  # type: ignore[no-untyped-def]
    bulletin, msg = mail
    _, html = parts(msg)
    ((base, token),) = IMAGE.findall(html)

    for _ in range(3):
        status, headers, body = get(f"{base}/t/o/{token}.gif")
        assert status == 200
        assert headers["Content-Type"] == "image/gif"
        assert body.startswith(b"GIF89a")
    hit_log().flush()

    opened = Open.objects.get()
    assert (opened.bulletin_id, opened.count) == (bulletin.pk, 3)


def test_it_answers_the_image_to_a_forged_token_and_counts_nothing(mail):  # type: ignore[no-untyped-def]
    _, msg = mail
    _, html = parts(msg)
    ((base, token),) = IMAGE.findall(html)

    status, _, body = get(f"{base}/t/o/{token[:-2]}ff.gif")
    hit_log().flush()

    assert status == 200 and body.startswith(b"GIF89a")
    assert not Open.objects.exists()


def test_it_leaves_links_and_image_out_when_the_account_turned_tracking_off(
    settings, live_server, account, topic, bob
):  # type: ignore[no-untyped-def]
    settings.BASE_URL = live_server.url
    save_settings(account, opens=False, clicks=False)

    _, msg = send_and_capture(account, topic)

    text, html = parts(msg)
    assert 'href="https://www.state.gov/statement?id=7&amp;lang=en"' in html
    assert "/t/c/" not in html + text and "/t/o/" not in html
    assert not Link.objects.exists()


def test_it_tracks_each_recipient_with_their_own_token(settings, live_server, account, topic, bob):  # type: ignore[no-untyped-def]
    settings.BASE_URL = live_server.url
    subscribe(account, "carol@example.net", [topic], confirmed=True)
    bulletin = create_bulletin(account, subject="Talks", body=BODY, topics=[topic])
    publish_bulletin(bulletin)
    with sink_server() as sink:
        process_chunk(sink.relay)

    tokens = {}
    for _, rcpts, data in sink.received:
        _, html = parts(message_from_bytes(data, policy=default))
        tokens[rcpts[0]] = {token for _, token, _ in CLICK.findall(html)}
    ids = dict(Delivery.objects.values_list("address", "pk"))
    assert tokens == {address: {recipient_token(pk)} for address, pk in ids.items()}


def test_it_leaves_a_url_too_long_to_index_as_it_is(account, topic):  # type: ignore[no-untyped-def]
    long_url = "https://www.state.gov/" + "a" * 2100
    bulletin = create_bulletin(account, subject="Long", body=f"[x]({long_url})", topics=[topic])
    data = BulletinRenderer(bulletin).render(
        topic=topic, recipient="bob@example.org", subscriber_id=1, message_id="<m@x>", delivery_id=9
    )

    _, html = parts(message_from_bytes(data, policy=default))
    assert f'href="{long_url}"' in html
    assert not Link.objects.exists()
