"""No working personal link in any public byte (issue 26, item 2).

Every kind of personal token Tidings signs is minted and planted in list posts every way mail
carries them; the posts take the real path (stored as received, routed, relayed, archived).
Then every public output is read from the running site: archive pages (twice, the second from
the page cache), search on this database, Atom feeds, every mbox export (its parts decoded from
quoted-printable and base64), attachment downloads. No minted token may be in any of it, and
everything URL-shaped in it is tried against the running site, GET and POST (one-click): no one
may be unsubscribed, confirmed, shown their preferences or counted.

The links: a subscriber's manage, unsubscribe and one-click (a digest's are the same signed
links), /texts/mine/, a subscription's confirmation, a network offer, the open image and a
tracked click (from bob's own copy of a bulletin, forwarded whole), a member's list unsubscribe
and re-enable, a join's confirmation, a comment notice's unsubscribe. bob's token is also in
a bulletin's subject, a commenter's name and an attachment's file name (read on the pages, in
the mbox's Content-Type and Content-Disposition, and in the download's headers).
"""

from __future__ import annotations

import mailbox
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import compat32, default
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import iri_to_uri

from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.accounts.models import Account
from tidings.archive import bulletin_urls
from tidings.archive import urls as archive_urls
from tidings.archive.actions import MAX_NAME, UNSUBSCRIBE_PURPOSE
from tidings.archive.models import Attachment, Comment, CommentOptOut, Post
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.inbound.actions import store_message
from tidings.lib.tokens import make_token
from tidings.lists.bounces import reenable_url
from tidings.lists.membership import confirm_url, request_join
from tidings.lists.models import MailingList, Member, MembershipRequest
from tidings.lists.tokens import member_token
from tidings.ops.worker import drain
from tidings.subscribers.actions import confirmation_url, send_confirmation, subscribe
from tidings.subscribers.links import subscriber_links
from tidings.subscribers.models import Subscriber, Subscription
from tidings.subscribers.network import offer_token
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic
from tidings.tracking.hits import hit_log
from tidings.tracking.models import Click, Open, TopicDay, Unsubscribe

WORD = "zanzibar"  # in every planted post, next to the links, so search shows them
SEARCHES = (WORD, "manage", "unsubscribe", "subscriptions", "lists", "texts mine", "one click")
# Routes of the archives that are themselves personal links (never crawled, only tried).
PERSONAL_ROUTES = {"archive:comment_unsubscribe"}
# The site's frame: a language switch (its ?next= is the page it is on) and static files.
CHROME = ("/language/", "/static/")
URLISH = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:)?//[^\s\"'<>()]+|(?:href|src)=\"([^\"]+)\"", re.I)


@dataclass
class Planted:
    """The personal links minted for the sweep, and the tokens they carry."""

    links: dict[str, str]
    tokens: dict[str, str]  # token: the name of the link that carries it
    post_ids: list[int] = field(default_factory=list)


@pytest.fixture
def live_site(settings, live_server):  # type: ignore[no-untyped-def]
    """The running site is where every personal link points, and the workers' relay."""
    settings.BASE_URL = live_server.url
    with tidings_smtpd(settings):
        yield live_server.url


def post_raw(mailing_list: MailingList, msg: Message) -> None:
    """Deliver a message to the list as the SMTP server would, and let the workers run."""
    store_message(
        msg.as_bytes(policy=compat32),
        mail_from="usstatebpa@tidings.localhost",
        local_rcpts=[mailing_list.address],
        captured_rcpts=[],
    )
    drain()


def headers(msg: Message, subject: str, number: int, reply_to: str = "") -> Message:
    msg["From"] = "U.S. Department of State <usstatebpa@tidings.localhost>"
    msg["To"] = "wanabidii@lists.tidings.localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<sweep-{number}@example.gov>"
    msg["Date"] = f"Tue, 0{number} Dec 2026 12:00:00 +0000"
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    return msg


def shout(url: str) -> str:
    """The link with its scheme and host in capitals, as some mail clients write it."""
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    return f"{scheme.upper()}://{host.upper()}/{path}"


def forms(links: dict[str, str]) -> str:
    """Every link as text, each next to WORD: as sent, without its trailing slash, shouting,
    escaped inside a redirector's query, and quoted in a reply."""
    lines = []
    for name, url in links.items():
        wrapped = urllib.parse.quote(url, safe="")
        lines += [
            f"{WORD} {name}: {url}",
            f"{WORD} {name} bare: {url.rstrip('/')}",
            f"{WORD} {name} loud: {shout(url)}",
            f"{WORD} {name} wrapped: https://eur01.safelinks.protection.outlook.com/"
            f"?url={wrapped}&amp;data=05",
            f"> {WORD} {name} quoted: {url}",
        ]
    return "\n".join(lines) + "\n"


def html_forms(links: dict[str, str]) -> str:
    anchors = "".join(
        f'<p>{WORD} <a href="{url.replace("&", "&amp;")}">{name}</a> '
        f'<a href="{shout(url).rstrip("/")}">{name} loud</a></p>'
        for name, url in links.items()
    )
    return f'<html><body>{anchors}<img src="{links["open"]}" alt=""></body></html>'


def plant(account: Account, topic: Topic, mailing_list: MailingList, base: str) -> Planted:
    """Mint every kind of personal link and post them to the list every way mail carries them."""
    bob = subscribe(account, "bob@example.org", [topic], confirmed=True)
    # bob's own copy of a bulletin with a tracked link: open image, click, manage, unsubscribe,
    # one-click (in the body and List-Unsubscribe), as he received it.
    # Its author pasted a personal link from an earlier copy, in its body and its subject: it
    # reaches the list's shared copy, the web copy, the topic's pages and feed and the search
    # index too.
    links = dict(subscriber_links(bob.pk))
    pasted = links["unsubscribe_url"]
    body = f"Read [the remarks](https://www.state.gov/remarks/) on {WORD}. Pasted: {pasted}"
    subject = f"Remarks {pasted}"
    publish_bulletin(create_bulletin(account, subject=subject, body=body, topics=[topic]))
    drain()
    bobs = captured_for("bob@example.org")[-1]
    shown = text_part(bobs)
    click = re.search(r"https?://\S+/t/c/\S+/\d+/", shown)
    html = bobs.get_body(preferencelist=("html",))
    assert html is not None
    opened = re.search(r"https?://[^\s\"]+/t/o/[^\s\"]+\.gif", str(html.get_content()))
    assert click and opened, "the bulletin to bob was not tracked"

    token = links["manage_url"].rstrip("/").rsplit("/", 1)[1]
    links["mine"] = base + reverse("texting:mine", args=[token])
    links["click"], links["open"] = click.group(0), opened.group(0)
    newbie = subscribe(account, "newbie@example.org", [topic])
    send_confirmation(newbie, [topic])
    newbie.refresh_from_db()
    assert newbie.confirm_nonce, "no confirmation was sent"
    links["confirm"] = confirmation_url(newbie, newbie.email, [topic], newbie.confirm_nonce)
    carol = Member.objects.get(mailing_list=mailing_list, address="carol@example.net")
    links["member_unsubscribe"] = base + reverse(
        "lists:unsubscribe", args=[mailing_list.name, member_token(mailing_list.pk, carol.address)]
    )
    links["member_reenable"] = reenable_url(carol)
    join = request_join(mailing_list, "frank@example.org")
    assert join is not None
    links["join_confirm"] = confirm_url(join)
    travel = create_topic(account, name="Travel", code="USSTATEBPA_2")
    links["offer"] = base + reverse("subscribers:network_offer", args=[offer_token(bob, travel)])

    planted = Planted(links, {})
    # 1. Text, quoted-printable, the subject too.
    first = EmailMessage()
    first.set_content(forms(links), cte="quoted-printable")
    post_raw(mailing_list, headers(first, f"{WORD} manage {links['manage_url']}", 1))
    post = Post.objects.get(message_id="<sweep-1@example.gov>")
    comment_token = make_token(UNSUBSCRIBE_PURPOSE, [post.pk, "gina@example.org"])
    links["comment_unsubscribe"] = (
        base
        + reverse("archive:comment_unsubscribe", args=[mailing_list.name, post.slug])
        + "?"
        + urllib.parse.urlencode({"t": comment_token})
    )
    # A reader typed a personal link as their name (within the form's 100 characters).
    name = f"Gina {links['manage_url']}"
    assert len(name) <= MAX_NAME, name
    Comment.objects.create(post=post, name=name, email="gina@example.org", body="Thanks.",
                           status=Comment.PUBLISHED, notify=True)  # fmt: skip

    # 2. Text in base64 and HTML in quoted-printable, a text attachment, a binary one.
    second = EmailMessage()
    second.set_content(forms(links), cte="base64")
    second.add_alternative(html_forms(links), subtype="html", cte="quoted-printable")
    second.add_attachment(forms(links).encode(), "text", "plain", filename="links.txt")
    second.add_attachment(b"\x00\x01" + links["one_click_url"].encode() + b"\xff",
                          "application", "octet-stream", filename="blob.bin")  # fmt: skip
    # A file named after a personal link's token, the name in both places mail clients write it.
    named = f"{pasted.rstrip('/').rsplit('/', 1)[1]}.pdf"
    second.add_attachment(b"%PDF-1.4\n", "application", "pdf", filename=named)
    second.get_payload()[-1].set_param("name", named)
    post_raw(mailing_list, headers(second, f"{WORD} links", 2))

    # 3. bob's bulletin forwarded as an attachment.
    third = EmailMessage()
    third.set_content(f"FYI, {WORD}: the bulletin as I got it.\n")
    original = message_from_bytes(bobs.as_bytes(), policy=default)
    third.add_attachment(original)
    post_raw(mailing_list, headers(third, f"Fwd: {WORD} remarks", 3))

    # 4. A reply quoting the links, the comment notice's among them (&amp;-escaped).
    fourth = EmailMessage()
    quoted = "".join(f"> {line}\n" for line in forms(links).splitlines())
    fourth.set_content(f"{WORD} agreed.\n\n{quoted}", cte="quoted-printable")
    post_raw(mailing_list, headers(fourth, f"Re: {WORD} manage", 4, "<sweep-1@example.gov>"))

    planted.post_ids = list(Post.objects.filter(message_id__startswith="<sweep-").values_list(
        "pk", flat=True))  # fmt: skip
    assert len(planted.post_ids) == 4, "a planted post was not archived"
    for name, url in links.items():
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query).get("t", [])
        segments = parts.path.rstrip("/").split("/")
        token = query[0] if query else segments[-2 if name == "click" else -1]
        planted.tokens[token.removesuffix(".gif")] = name
    return planted


def fetch(url: str) -> tuple[int, bytes]:
    status, body, _ = fetch_whole(url)
    return status, body


def fetch_whole(url: str) -> tuple[int, bytes, bytes]:
    """Return the status, the body and the headers (a download's file name is in them)."""
    request = urllib.request.Request(url, headers={"Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), bytes(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), bytes(e.headers)


def post_one_click(url: str) -> int:
    data = b"List-Unsubscribe=One-Click"
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def decoded_views(data: bytes) -> list[str]:
    """The body as sent, and, for an mbox, each message's headers and parts decoded."""
    views = [data.decode("utf-8", "replace")]
    if not data.startswith(b"From "):
        return views
    with tempfile.NamedTemporaryFile(suffix=".mbox") as f:
        f.write(data)
        f.flush()
        for message in mailbox.mbox(f.name, create=False):
            for part in message.walk():
                views += [f"{k}: {make_header(decode_header(v))}" for k, v in part.items()]
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    views.append(payload.decode("utf-8", "replace"))
    return views


def urls_in(text: str) -> set[str]:
    """Everything URL-shaped, also once entities and percent-escapes are undone (what a
    redirector's query carries)."""
    found: set[str] = set()
    for variant in {text, unescape(text), urllib.parse.unquote(unescape(text))}:
        for match in URLISH.finditer(variant):
            found.add(match.group(1) or match.group(0))
    return found


def on_site(url: str, base: str) -> str | None:
    """The URL's path and query on the running site (whatever host it names), or None; as a
    browser asks for it (a link a search excerpt cut short ends in "…")."""
    parts = urllib.parse.urlsplit(iri_to_uri(unescape(url)))
    if not parts.path.startswith("/") or parts.scheme not in ("", "http", "https"):
        return None
    if parts.path.startswith(CHROME):  # on every page, never personal: tried once is enough
        return base + parts.path
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def public_outputs(base: str, account: Account, mailing_list: MailingList) -> dict[str, bytes]:
    """Read every public output: crawl the archive's pages, then search, feeds, mbox exports
    and attachments of every post."""
    name = mailing_list.name
    seeds = [f"/lists/{name}/", f"/bulletins/{account.code}/", f"/lists/{name}/feed/"]
    # The API's public part: its schema and docs (every endpoint with data asks for a token).
    seeds += ["/api/v1/openapi.json", "/api/v1/docs"]
    for query in SEARCHES:
        q = urllib.parse.urlencode({"q": query})
        seeds += [f"/lists/{name}/search/?{q}", f"/lists/{name}/search/?{q}&all=1",
                  f"/bulletins/{account.code}/search/?{q}"]  # fmt: skip
    for post in Post.objects.filter(mailing_list=mailing_list):
        seeds += [
            reverse("archive:post", args=[name, post.slug]),
            reverse("archive:thread", args=[name, post.slug]),
            reverse("archive:post_mbox", args=[name, post.slug]),
            reverse("archive:thread_mbox", args=[name, post.slug]),
            reverse("archive:comments_feed", args=[name, post.slug]),
            reverse("archive:month_mbox", args=[name, post.date.year, post.date.month]),
        ]
    for comment in Comment.objects.filter(post__mailing_list=mailing_list):  # "Replying to …"
        seeds.append(
            reverse("archive:post", args=[name, comment.post.slug]) + f"?reply={comment.pk}"
        )
    for attachment in Attachment.objects.filter(post__mailing_list=mailing_list):
        seeds.append(
            reverse("archive:attachment", args=[name, attachment.post.slug, attachment.position])
        )
    read: dict[str, bytes] = {}
    queue = list(dict.fromkeys(seeds))
    while queue:
        path = queue.pop(0)
        if path in read or len(read) > 400:
            continue
        status, first, head = fetch_whole(base + path)
        # The second from the page cache, where it keeps one.
        _, again, again_head = fetch_whole(base + path)
        assert status == 200 or path not in seeds, (path, status)
        read[path] = first + b"\n" + again + b"\n" + head + again_head
        # Follow the archive's own pages, as a crawler would.
        for url in urls_in(first.decode("utf-8", "replace")):
            parts = urllib.parse.urlsplit(unescape(url))
            inside = parts.path.startswith((f"/lists/{name}/", "/bulletins/"))
            if not parts.netloc and inside and "unsubscribe" not in parts.path:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return read


def state() -> dict[str, Any]:
    """Everything a working personal link could change or count."""
    hit_log().flush()
    models = (Subscriber, Subscription, Member, MembershipRequest, Open, Click, Unsubscribe,
              TopicDay, CommentOptOut, Comment)  # fmt: skip
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


@pytest.mark.django_db(transaction=True)
def test_no_public_byte_holds_a_working_personal_link(  # type: ignore[no-untyped-def]
    account, topic, wanabidii, live_site
):
    planted = plant(account, topic, wanabidii, live_site)
    # The links are live: each opens its page on this site (so trying them below means something).
    for name in ("manage_url", "mine", "member_unsubscribe", "confirm", "join_confirm"):
        status, page = fetch(planted.links[name])
        assert status == 200 and b"not valid" not in page, name
    assert b"bob@example.org" in fetch(planted.links["manage_url"])[1]
    before = state()

    outputs = public_outputs(live_site, account, wanabidii)
    # Every public route of the archives was read: a new one joins the sweep or fails it.
    read = {resolve(urllib.parse.urlsplit(path).path).view_name for path in outputs}
    confs = (("archive", archive_urls), ("bulletins", bulletin_urls))
    routes = {f"{space}:{route.name}" for space, conf in confs for route in conf.urlpatterns}
    assert routes - PERSONAL_ROUTES <= read, routes - PERSONAL_ROUTES - read
    mboxes = [path for path in outputs if path.endswith("/mbox/")]
    assert len(mboxes) >= 3 and any("/attachments/" in path for path in outputs)
    found: set[str] = set()
    leaks = set()
    for path, data in outputs.items():
        for view in decoded_views(data):
            plain = urllib.parse.unquote(unescape(view))
            leaks |= {(path, name) for token, name in planted.tokens.items() if token in plain}
            found |= urls_in(view)
    assert not leaks, "personal tokens in public outputs:\n" + "\n".join(sorted(map(str, leaks)))
    # The forwarded bulletin's export was read decoded, down to the parts of bob's copy.
    forwarded = Post.objects.get(message_id="<sweep-3@example.gov>")
    exported = decoded_views(
        outputs[reverse("archive:post_mbox", args=["wanabidii", forwarded.slug])]
    )
    assert any("the bulletin as I got it" in view for view in exported)
    assert any("the remarks" in view and "/t/" not in view for view in exported)

    tried = sorted({u for u in (on_site(url, live_site) for url in found) if u})
    assert len(tried) > 20, tried
    client = Client()  # in process, without CSRF: a form's POST is tried as its page would
    for url in tried:
        status, page = fetch(url)
        text = page.decode("utf-8", "replace")
        assert "bob@example.org" not in text, f"{url} showed bob's subscription"
        assert not any(t in text for t in planted.tokens), f"{url} answered with a live token"
        post_one_click(url)
        client.post(url.removeprefix(live_site), {"List-Unsubscribe": "One-Click"})
    assert state() == before, "a link read from a public page changed or counted someone"
    # The check can fail: bob's own open image, loaded once, is counted.
    fetch(planted.links["open"])
    assert state()["Open"] != before["Open"]
