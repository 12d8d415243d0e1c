"""An XSS corpus posted through Tidings' own SMTP server: no page runs anything it carries."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.smtp_helpers import tidings_smtpd
from tidings.archive.models import Post
from tidings.lists.actions import allow_sender
from tidings.lists.models import MailingList
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db(transaction=True)
ATTACKER = "attacker@example.com"
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "base",
                  "frame", "frameset", "applet", "link", "img", "video", "audio"}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background"}
# Tidings' own: its stylesheets, the feed, the favicon (from 'self').
SAFE_LINK_TAGS = {("link", "stylesheet"), ("link", "alternate"), ("link", "icon")}


class ExecutableContent(HTMLParser):
    """Collect everything in a page that could run code or load content from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in FORBIDDEN_TAGS and (tag, values.get("rel")) not in SAFE_LINK_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in values:
            self.found.append("<meta http-equiv>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")
            if name in URL_ATTRIBUTES and value:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower().split(":", 1)[0]
                if scheme in ("javascript", "data", "vbscript"):
                    self.found.append(f"{tag} {name}={value}")


def executable(html: str) -> list[str]:
    parser = ExecutableContent()
    parser.feed(html)
    return parser.found


def corpus() -> list[EmailMessage]:
    messages = []

    def new(subject: str, n: int, sender: str = f"Attacker <{ATTACKER}>") -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = "wanabidii@lists.tidings.localhost"
        msg["Subject"] = subject
        msg["Message-ID"] = f"<xss-{n}@example.com>"
        messages.append(msg)
        return msg

    new("<img src=x onerror=alert(1)>", 1).set_content(
        "Hello <script>alert(1)</script> <svg onload=alert(2)> javascript:alert(3)\n"
        "> <script>quoted()</script>\n"
    )
    new("=?utf-8?b?PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==?=", 2).set_content("encoded subject")
    new("Name", 3, sender=f'"<script>alert(5)</script>" <{ATTACKER}>').set_content("From name")
    new("HTML tricks", 4).set_content(
        "<svg onload=alert(6)><circle/></svg><a href='javascript:alert(7)'>a</a>"
        "<a href='jav&#x09;ascript:alert(8)'>b</a><a href=' javascript:alert(9)'>c</a>"
        "<a href='data:text/html;base64,PHNjcmlwdD4='>d</a><iframe srcdoc='<script>x</script>'>"
        "</iframe><object data='x.swf'></object><embed src='x.swf'>"
        "<meta http-equiv='refresh' content='0;url=javascript:alert(10)'><base href='//evil/'>"
        "<div style='background:url(javascript:alert(11))'>css</div>"
        "<style>@import 'https://evil.example/x.css';</style>"
        "<p style='behavior:url(x.htc)' onmouseover='alert(12)'>hover</p>"
        "<form action='javascript:alert(13)'><button formaction='javascript:alert(14)'>go</button>"
        "</form><math><mtext><table><mglyph><style><img src=x onerror=alert(15)>",
        subtype="html",
    )
    with_files = new("Attachments", 5)
    with_files.set_content("See attached.")
    with_files.add_attachment(
        b"<script>alert(16)</script>", maintype="text", subtype="html",
        filename='"><script>alert(17)</script>.html',
    )  # fmt: skip
    with_files.add_attachment(
        b"<svg onload=alert(18)/>", maintype="image", subtype="svg+xml", filename="../../x.svg"
    )
    return messages


@pytest.fixture
def archived(settings, live_server, wanabidii: MailingList) -> list[Post]:  # type: ignore[no-untyped-def]
    settings.BASE_URL = live_server.url
    allow_sender(wanabidii, ATTACKER)
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        for msg in corpus():
            smtp.send_message(msg, from_addr=ATTACKER, to_addrs=[wanabidii.address])
        drain()
    posts = list(Post.objects.filter(mailing_list=wanabidii))
    assert len(posts) == 5
    return posts


def test_it_renders_no_executable_content_from_the_corpus(archived: list[Post]) -> None:
    client = Client()
    pages = ["/lists/wanabidii/", "/lists/wanabidii/search/?q=alert"]
    for post in archived:
        pages.append(reverse("archive:post", args=["wanabidii", post.slug]))
        pages.append(reverse("archive:thread", args=["wanabidii", post.slug]))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert executable(response.content.decode()) == [], url
        assert "script-src" not in response["Content-Security-Policy"]


def test_it_keeps_the_attack_text_visible_but_inert(archived: list[Post]) -> None:
    first = next(p for p in archived if p.message_id == "<xss-1@example.com>")
    html = Client().get(reverse("archive:post", args=["wanabidii", first.slug])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_serves_hostile_attachments_only_as_downloads(archived: list[Post]) -> None:
    post = next(p for p in archived if p.subject.endswith("Attachments"))
    names = [a.filename for a in post.attachments.order_by("position")]
    assert names == ["script_.html", "x.svg"]
    for position in (1, 2):
        url = reverse("archive:attachment", args=["wanabidii", post.slug, position])
        response = Client().get(url)
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
