"""The one neutralizer of personal links (archive/personal.py), output by output.

Each test names a way a live link got through before: search excerpts, mbox exports (a
forwarded bulletin's parts, in quoted-printable or base64), a link without its trailing slash,
in capitals, under /texts/mine/, percent- or entity-escaped, in a subject, in an attachment, or
in a page rendered when the post was archived.
"""

from __future__ import annotations

import quopri
import re
import urllib.parse
from email import message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import compat32, default
from email.utils import collapse_rfc2231_value

import pytest
from django.test import Client
from django.urls import reverse

from tidings.accounts.models import Account
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.archive.personal import (
    REMOVED,
    holds_personal,
    is_personal,
    neutralize_html,
    neutralize_marked,
    neutralize_message,
    neutralize_text,
)
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.lib.tokens import sign_id
from tidings.lists.models import MailingList
from tidings.lists.tokens import confirm_token, member_token
from tidings.subscribers.links import subscriber_links
from tidings.topics.models import Topic

BASE = "https://news.example.gov"
SUBSCRIBER = sign_id("subscriber", 41)
MEMBER = member_token(7, "carol@example.net")
KEPT = (
    "https://www.state.gov/remarks/",
    "https://news.example.gov/lists/wanabidii/",
    "https://news.example.gov/lists/wanabidii/join/",
    "https://news.example.gov/subscriptions/USSTATEBPA/",
    "https://news.example.gov/bulletins/12/",
    "https://www.state.gov/2024-report-on-the-talks-in-paris1/",  # shaped like a sign_id
    "https://www.state.gov/cases/12-3456789012345678/",  # shaped like a tracking token
)


def mail(
    subject: str, body: Message | str, number: int = 1, author: str = "usstatebpa@tidings.localhost"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = author
    msg["To"] = "wanabidii@lists.tidings.localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<neutral-{number}@example.gov>"
    msg["Date"] = "Tue, 01 Dec 2026 12:00:00 +0000"
    if isinstance(body, str):
        msg.set_content(body)
    else:
        msg.set_content("FYI, the bulletin I got.\n")
        msg.add_attachment(body)
    return msg


def bulletin_as_received(subscriber_id: int) -> EmailMessage:
    """A subscriber's own copy of a bulletin: links in the body (quoted-printable, so a long
    link is cut by soft line breaks) and one-click List-Unsubscribe."""
    links = subscriber_links(subscriber_id)
    copy = EmailMessage()
    copy["From"] = "usstatebpa@tidings.localhost"
    copy["To"] = "bob@example.org"
    copy["Subject"] = "Remarks on migration"
    copy["List-Unsubscribe"] = f"<{links['one_click_url']}>"
    copy["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    copy.set_content(
        f"Remarks on migration. {'x' * 40} Manage: {links['manage_url']}\n"
        f"Unsubscribe: {links['unsubscribe_url']}\n",
        cte="quoted-printable",
    )
    copy.add_alternative(
        f'<p>Remarks. <a href="{links["manage_url"]}">Manage</a> '
        f'<a href="{links["unsubscribe_url"]}">Unsubscribe</a></p>',
        subtype="html",
        cte="base64",
    )
    return copy


def parts_decoded(data: bytes) -> list[str]:
    msg = message_from_bytes(data, policy=compat32)
    seen = []
    for part in msg.walk():
        seen += [f"{k}: {make_header(decode_header(v))}" for k, v in part.items()]
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            seen.append(payload.decode("utf-8", "replace"))
    return seen


@pytest.mark.parametrize(
    "link",
    [
        f"{BASE}/subscriptions/manage/{SUBSCRIBER}",  # no trailing slash: a 301 to the page
        f"HTTP://NEWS.EXAMPLE.GOV/subscriptions/unsubscribe/{SUBSCRIBER}/",
        f"{BASE}/SUBSCRIPTIONS/ONE-CLICK/{SUBSCRIBER}/",
        f"{BASE}/texts/mine/{SUBSCRIBER}/",
        f"{BASE}/lists/wanabidii/unsubscribe/{MEMBER}",
        f"{BASE}/lists/wanabidii/confirm/{confirm_token(9).upper()}/",
        f"{BASE}/lists/wanabidii/{'a' * 32}/unsubscribe/?x=1&amp;t={MEMBER}",
        f"{BASE}/moved/elsewhere/{SUBSCRIBER}/",  # a path that moved: its token tells
        "https://eur01.safelinks.protection.outlook.com/?url="
        + urllib.parse.quote(f"{BASE}/subscriptions/manage/{SUBSCRIBER}/", safe=""),
    ],
    # Stable names: the tokens hold the time they were made, and xdist's workers must agree.
    ids=[
        "no-slash",
        "capitals",
        "path-case",
        "texts-mine",
        "member",
        "confirm",
        "comment-amp",
        "moved",
        "redirector",
    ],
)
def test_it_removes_every_form_of_a_personal_link(link: str) -> None:
    shown = neutralize_text(f"Before {link} after")
    assert shown == f"Before {REMOVED} after"
    html = neutralize_html(f'<p><a href="{link}">Mine</a> and {link}</p>')
    assert "Mine" in html and "href" not in html and SUBSCRIBER not in html and MEMBER not in html


def test_it_removes_a_token_cut_out_of_its_link() -> None:
    # A search excerpt may start in the middle of a link: no scheme, no host.
    assert SUBSCRIBER not in neutralize_text(f"…manage/{SUBSCRIBER}/ and more")
    assert MEMBER not in neutralize_text(f"unsubscribe {MEMBER}")


@pytest.mark.parametrize("link", KEPT)
def test_it_keeps_public_links(link: str) -> None:
    assert not is_personal(link)
    assert neutralize_text(f"See {link} now") == f"See {link} now"


def test_it_keeps_the_search_highlights_outside_a_removed_link() -> None:
    start, stop = "\ue000", "\ue001"
    marked = (
        f"{start}Manage{stop} yours at {BASE}/subscriptions/{start}manage{stop}/{SUBSCRIBER}/ "
        f"or {start}manage{stop} nothing"
    )
    shown = neutralize_marked(marked, start, stop)
    assert shown == f"{start}Manage{stop} yours at {REMOVED} or {start}manage{stop} nothing"
    assert neutralize_marked(f"a {start}b{stop} c", start, stop) == f"a {start}b{stop} c"


@pytest.fixture
def archived(wanabidii: MailingList, bob) -> list[Post]:  # type: ignore[no-untyped-def]
    links = subscriber_links(bob.pk)
    text = (
        f"Migration talks. Manage: {links['manage_url'].rstrip('/')}\n"
        f"Or: {links['unsubscribe_url'].upper().replace('/SUBSCRIPTIONS/', '/subscriptions/')}\n"
    )
    return [
        archive_post(
            wanabidii,
            mail(
                f"Migration {links['manage_url']}",
                text,
                author=f'"Bob {links["manage_url"]}" <b@x.org>',
            ),
        ),
        archive_post(wanabidii, mail("Fwd: Remarks", bulletin_as_received(bob.pk), 2)),
    ]


def test_search_excerpts_hold_no_personal_link(  # type: ignore[no-untyped-def]
    client: Client, account: Account, topic: Topic, archived: list[Post], bob
) -> None:
    token = sign_id("subscriber", bob.pk).rsplit("-", 1)[0]  # its id and time; the MAC varies
    for url in (
        reverse("archive:search", args=["wanabidii"]),
        reverse("bulletins:search", args=[account.code]),
    ):
        for query in ("migration", "manage", "migration manage"):
            page = client.get(url, {"q": query}).content.decode()
            assert "<mark>" in page, (url, query)
            assert "/subscriptions/manage/" not in page and "/subscriptions/unsubscribe" not in (
                page.lower()
            )
            assert token not in page, (url, query)


def test_a_subject_or_an_author_shows_no_personal_link(  # type: ignore[no-untyped-def]
    client: Client, archived: list[Post]
) -> None:
    for url in (
        reverse("archive:index", args=["wanabidii"]),
        reverse("archive:post", args=["wanabidii", archived[0].slug]),
        reverse("archive:thread", args=["wanabidii", archived[0].slug]),
        reverse("archive:feed", args=["wanabidii"]),
        reverse("archive:search", args=["wanabidii"]) + "?q=migration",
    ):
        page = client.get(url).content.decode()
        assert "Migration" in page and "Bob" in page, url
        assert "/subscriptions/manage/" not in page, url


def test_a_forwarded_bulletins_mbox_holds_no_personal_link(  # type: ignore[no-untyped-def]
    client: Client, archived: list[Post], bob
) -> None:
    forwarded = archived[1]
    links = subscriber_links(bob.pk)
    token = links["manage_url"].rstrip("/").rsplit("/", 1)[1]
    # As the issue found it: the token five times, the one-click List-Unsubscribe included.
    assert sum(part.count(token) for part in parts_decoded(bytes(forwarded.raw))) == 5
    for name in ("post_mbox", "thread_mbox"):
        response = client.get(reverse(f"archive:{name}", args=["wanabidii", forwarded.slug]))
        data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        message = data.split(b"\n", 1)[1]  # past the From_ line
        decoded = parts_decoded(message)
        assert not any(token in part for part in decoded), name
        assert any("Remarks on migration" in part for part in decoded)
        assert token.encode() not in data and b"List-Unsubscribe: <" not in data
        # Still a forward: the bulletin is a message/rfc822 part, its parts re-encoded as sent.
        parsed = message_from_bytes(message, policy=default)
        inner = [p for p in parsed.walk() if p.get_content_type() == "message/rfc822"]
        assert len(inner) == 1
        encodings = {str(p.get("Content-Transfer-Encoding")) for p in parsed.walk()}
        assert {"quoted-printable", "base64"} <= encodings


def test_a_message_without_personal_links_is_exported_byte_for_byte() -> None:
    raw = mail("Hello", "Plain words and https://www.state.gov/remarks/\n").as_bytes()
    assert neutralize_message(raw) == raw


def test_quoted_printable_is_re_encoded_without_the_link() -> None:
    link = f"{BASE}/subscriptions/unsubscribe/{SUBSCRIBER}/"
    msg = mail("Hi", f"{'y' * 60} {link}\n")
    del msg["Content-Transfer-Encoding"]
    msg.set_content(f"{'y' * 60} {link}\n", cte="quoted-printable")
    out = neutralize_message(msg.as_bytes())
    body = out.split(b"\n\n", 1)[1]
    assert SUBSCRIBER not in quopri.decodestring(body).decode()
    assert REMOVED.encode() in quopri.decodestring(body)


@pytest.mark.parametrize("written", ["as is", "RFC 2231", "RFC 2047"])
def test_a_file_name_in_a_content_type_is_neutralized(written: str) -> None:
    # Mail clients write a file's name in Content-Type (name=) beside Content-Disposition's.
    named = f"{SUBSCRIBER}.pdf"
    msg = mail("Minutes", "The minutes.\n", 5)
    msg.add_attachment(b"%PDF-1.4\n", "application", "pdf", filename="minutes.pdf")
    part = msg.get_payload()[-1]
    if written == "as is":
        part.set_param("name", named)
    elif written == "RFC 2231":
        part.set_param("name", f"café {named}", charset="utf-8")
    else:  # an encoded word inside the quotes, as Outlook writes it
        part.set_param("name", "encoded")
    raw = msg.as_bytes().replace(
        b'"encoded"', f'"{Header(f"café {named}", "utf-8").encode()}"'.encode()
    )
    assert holds_personal(raw)
    out = neutralize_message(raw)
    assert not holds_personal(out) and SUBSCRIBER not in out.decode("latin-1")
    attachment = list(message_from_bytes(out, policy=default).iter_attachments())[-1]
    assert attachment.get_content() == b"%PDF-1.4\n"
    name = collapse_rfc2231_value(attachment.get_param("name"))
    assert str(make_header(decode_header(name))).endswith(f"{REMOVED}.pdf")


def test_a_file_name_split_across_continuations_is_neutralized() -> None:
    # A long name is written in RFC 2231 continuations; wherever the token is cut, it is seen.
    for length in range(40):
        named = f"é{'x' * length} réunion {SUBSCRIBER}.pdf"
        msg = mail("Minutes", "The minutes.\n", 6)
        msg.add_attachment(b"%PDF-1.4\n", "application", "pdf", filename=named)
        raw = msg.as_bytes()
        assert holds_personal(raw), length
        out = neutralize_message(raw)
        attachment = list(message_from_bytes(out, policy=default).iter_attachments())[-1]
        assert attachment.get_filename() == f"é{'x' * length} réunion {REMOVED}.pdf", length


def test_an_attachment_download_holds_no_personal_link(  # type: ignore[no-untyped-def]
    client: Client, wanabidii: MailingList, bob
) -> None:
    links = subscriber_links(bob.pk)
    msg = mail("Notes", "See the file.\n", 3)
    msg.add_attachment(f"Manage: {links['manage_url']}\n".encode(), "text", "plain",
                       filename="notes.txt")  # fmt: skip
    post = archive_post(wanabidii, msg)
    data = client.get(reverse("archive:attachment", args=["wanabidii", post.slug, 1])).content
    assert b"Manage:" in data and b"/subscriptions/manage/" not in data


def test_a_page_rendered_before_is_neutralized_as_it_is_shown(  # type: ignore[no-untyped-def]
    client: Client, wanabidii: MailingList
) -> None:
    post = archive_post(wanabidii, mail("Old", "An old post.\n", 4))
    # As an older neutralizer left it: a link without its trailing slash was not caught.
    stale = f'<p><a href="{BASE}/subscriptions/manage/{SUBSCRIBER}">Manage</a></p>'
    Post.objects.filter(pk=post.pk).update(rendered=stale)
    page = client.get(reverse("archive:post", args=["wanabidii", post.slug])).content.decode()
    assert "Manage" in page and SUBSCRIBER not in page
    assert re.search(re.escape(REMOVED), page)


def test_a_bulletins_web_copy_shows_no_link_its_author_pasted(  # type: ignore[no-untyped-def]
    client: Client, account: Account, topic: Topic, bob
) -> None:
    # The author copied a paragraph from their own copy of an earlier bulletin, links and all.
    manage = subscriber_links(bob.pk)["manage_url"]
    body = f"Talks resume.\n\n[Manage your subscription]({manage}) or see {manage.rstrip('/')}"
    draft = create_bulletin(account, subject="Talks", body=body, topics=[topic])
    publish_bulletin(draft)
    for url in (
        reverse("bulletins:web_copy", args=[draft.pk]),
        reverse("bulletins:topic", args=[account.code, topic.code]),
        reverse("bulletins:topic_feed", args=[account.code, topic.code]),
    ):
        page = client.get(url).content.decode()
        assert "Talks resume" in page and "/subscriptions/manage/" not in page, url
