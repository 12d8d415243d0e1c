"""Build a bulletin's email for one recipient from the account's templates."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tidings.bulletins.models import Bulletin
from tidings.inbound.addresses import unsubscribe_address
from tidings.lib.html import html_to_text, markdown_to_html, sanitize
from tidings.lib.tokens import sign_id
from tidings.topics.models import Topic

# Lines up to 998 octets, CRLF endings: what SMTP wants on the wire.
POLICY = SMTP.clone(max_line_length=998)


def format_published(bulletin: Bulletin) -> str:
    """Return the publication time in the account's zone, like 12/01/2015 12:38 PM EST."""
    when = (bulletin.published_at or timezone.now()).astimezone(bulletin.account.tz)
    return when.strftime("%m/%d/%Y %I:%M %p %Z")


def subscriber_links(subscriber_id: int) -> dict[str, str]:
    token = sign_id("subscriber", subscriber_id)
    base = settings.BASE_URL
    return {
        "manage_url": base + reverse("subscribers:manage", args=[token]),
        "unsubscribe_url": base + reverse("subscribers:unsubscribe", args=[token]),
        "one_click_url": base + reverse("subscribers:one_click", args=[token]),
    }


class BulletinRenderer:
    """Render a bulletin's shared parts once; fill in each recipient with message_for()."""

    def __init__(self, bulletin: Bulletin) -> None:
        self.bulletin = bulletin
        self.account = bulletin.account
        if bulletin.body_format == Bulletin.HTML:
            self.body_html = sanitize(bulletin.body)
            self.body_text = html_to_text(self.body_html)
        else:
            self.body_html = markdown_to_html(bulletin.body)
            self.body_text = bulletin.body.strip()
        self.published = format_published(bulletin)
        self.header_template = Template(self.account.header_template)
        self.footer_template = Template(self.account.footer_template)

    def _account_text(self, template: Template, topic: Topic, recipient: str, html: bool) -> str:
        context = {
            "topic": topic.name,
            "account": self.account.name,
            "recipient": recipient,
            "postal_address": self.account.postal_address,
        }
        return template.render(Context(context, autoescape=html))

    def message_for(
        self, *, topic: Topic, recipient: str, subscriber_id: int, message_id: str = ""
    ) -> EmailMessage:
        links = subscriber_links(subscriber_id)
        context = {
            "bulletin": self.bulletin,
            "topic": topic,
            "published": self.published,
            "body_text": self.body_text,
            "body_html": self.body_html,
            **links,
        }
        text = render_to_string(
            "bulletins/email_body.txt",
            {
                **context,
                "header": self._account_text(self.header_template, topic, recipient, False),
                "footer": self._account_text(self.footer_template, topic, recipient, False),
            },
        )
        html = render_to_string(
            "bulletins/email_body.html",
            {
                **context,
                "header": self._account_text(self.header_template, topic, recipient, True),
                "footer": self._account_text(self.footer_template, topic, recipient, True),
            },
        )
        subject = render_to_string("bulletins/email_subject.txt", context).strip()

        msg = EmailMessage(policy=POLICY)
        msg["From"] = formataddr(
            (self.account.sender_name or self.account.name, self.account.sender_address)
        )
        msg["To"] = recipient
        msg["Subject"] = " ".join(subject.split())
        msg["Date"] = format_datetime(self.bulletin.published_at or timezone.now())
        msg["Message-ID"] = message_id or make_msgid("bulletin", domain=settings.MAIL_DOMAIN)
        msg["List-Id"] = (
            f'"{topic.name}" <{topic.code.lower().replace("_", "-")}.{settings.MAIL_DOMAIN}>'
        )
        msg["List-Unsubscribe"] = (
            f"<{links['one_click_url']}>, <mailto:{unsubscribe_address(subscriber_id)}>"
        )
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(text, cte="quoted-printable")
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        return msg
