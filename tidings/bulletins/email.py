"""Build a bulletin's email from the account's templates: once per send, filled per recipient."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from tidings.accounts.brand import email_brand
from tidings.accounts.models import DEFAULT_FOOTER, DEFAULT_HEADER
from tidings.bulletins.models import Bulletin, MessageTemplate
from tidings.delivery import mime
from tidings.lib.html import html_to_text, markdown_to_html, sanitize
from tidings.lib.languages import for_mail
from tidings.lib.mail import POLICY as MAIL_POLICY
from tidings.lib.mail import list_id_header, mailbox
from tidings.lib.tokens import sign_id
from tidings.subscribers.addresses import unsubscribe_address
from tidings.subscribers.links import links_for_token, subscriber_links
from tidings.topics.models import Topic
from tidings.tracking.links import Choice, choice_for, track
from tidings.tracking.tokens import recipient_token

# The one policy for every message Tidings writes (tidings.lib.mail.POLICY): CRLF, lines of
# 76 characters, free text headers folded without gaining or losing a space.
POLICY = MAIL_POLICY
# The recipient token's holes, in the text and the HTML part.
TRACK_RAW = ("track", mime.QP)
TRACK_HTML = ("track", mime.QP_HTML)
DEFAULTS = (DEFAULT_HEADER, DEFAULT_FOOTER)


def format_published(bulletin: Bulletin, language: str = "en") -> str:
    """Return the publication time in the account's zone, like 12/01/2015 12:38 PM EST (as
    GovDelivery writes it), or as the language writes dates (1 de diciembre de 2015 a las
    12:38 EST)."""
    when = (bulletin.published_at or timezone.now()).astimezone(bulletin.account.tz)
    if language == "en":
        return when.strftime("%m/%d/%Y %I:%M %p %Z")
    with translation.override(language):
        return f"{date_format(when, 'DATETIME_FORMAT')} {when.strftime('%Z')}"


class BulletinRenderer:
    """Render a bulletin's shared parts once; make per-topic templates and per-recipient values."""

    def __init__(self, bulletin: Bulletin) -> None:
        self.bulletin = bulletin
        self.account = bulletin.account
        if bulletin.body_format == Bulletin.HTML:
            self.body_html = sanitize(bulletin.body)
            self.body_text = html_to_text(self.body_html, links=True)
        else:
            self.body_html = markdown_to_html(bulletin.body)
            # The text part reads as text: no Markdown syntax, links as "text (address)".
            self.body_text = html_to_text(self.body_html, links=True)
        # When it is sent, never the (possibly back-dated) publication time, which the body
        # shows: spam filters punish a Date: in the past.
        self.date = format_datetime(timezone.now())
        chosen = bulletin.template
        self.header_source = chosen.header if chosen else self.account.header_template
        self.footer_source = chosen.footer if chosen else self.account.footer_template
        self.layout = chosen.layout if chosen else MessageTemplate.BANNER
        # The account's language: a recipient who chose none reads the mail in it.
        self.language = for_mail(self.account.language)
        self.templates: dict[tuple[int, str], mime.Template] = {}
        self.account_templates: dict[tuple[str, str], Template] = {}
        self._tracking: Choice | None = None
        # The agency's banner atop the HTML part: its logo (an absolute address) and colour.
        self.brand = email_brand(self.account) | {"banner": self.layout == MessageTemplate.BANNER}

    @property
    def tracking(self) -> Choice:
        """The account's open and click tracking choice, read once (the first template)."""
        if self._tracking is None:
            self._tracking = choice_for(self.account.pk)
        return self._tracking

    def _account_template(self, source: str) -> Template:
        """The account's header or footer in the active language (its defaults are translated;
        its own words are its own)."""
        language = translation.get_language()
        found = self.account_templates.get((source, language))
        if found is None:
            found = Template(gettext(source) if source in DEFAULTS else source)
            self.account_templates[(source, language)] = found
        return found

    def _account_text(self, source: str, topic: Topic, recipient: str, html: bool) -> str:
        template = self._account_template(source)
        context = {
            "topic": topic.name,
            "account": self.account.name,
            "recipient": recipient,
            "postal_address": self.account.postal_address,
        }
        return template.render(Context(context, autoescape=html))

    def _parts(
        self, topic: Topic, recipient: str, links: Mapping[str, object], language: str = ""
    ) -> tuple[str, str, str]:
        """Return the subject, text body and HTML body for one topic and recipient, the words
        around the bulletin in the language given (else the account's)."""
        with translation.override(language or self.language):
            return self._render_parts(topic, recipient, links)

    def _render_parts(
        self, topic: Topic, recipient: str, links: Mapping[str, object]
    ) -> tuple[str, str, str]:
        context = {
            "language": translation.get_language(),
            "bulletin": self.bulletin,
            "topic": topic,
            "published": format_published(self.bulletin, translation.get_language() or "en"),
            "body_text": self.body_text,
            "body_html": self.body_html,
            **links,
        }
        text = render_to_string(
            "bulletins/email_body.txt",
            {
                **context,
                "header": self._account_text(self.header_source, topic, recipient, False),
                "footer": self._account_text(self.footer_source, topic, recipient, False),
            },
        )
        html = render_to_string(
            "bulletins/email_body.html",
            {
                **context,
                **self.brand,
                "header": self._account_text(self.header_source, topic, recipient, True),
                "footer": self._account_text(self.footer_source, topic, recipient, True),
            },
        )
        subject = " ".join(render_to_string("bulletins/email_subject.txt", context).split())
        return subject, text, html

    def _headers(self, topic: Topic, subject: str) -> list[tuple[str, str]]:
        sender = mailbox(*self.bulletin.from_name_address())
        list_id = f"{topic.code.lower().replace('_', '-')}.{settings.MAIL_DOMAIN}"
        return [
            ("From", sender),
            ("Subject", subject),
            ("Date", self.date),
            ("List-Id", list_id_header(topic.name, list_id)),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]

    def shared_template_for(self, topic: Topic) -> mime.Template:
        """Return the copy for a shared address (a hosted list, a distribution list): whoever
        reads it, in the list's archive or inbox, must not be able to manage the subscription,
        so it has no personal link, no one-click header and no tracking; it points at the
        public subscribe page instead."""
        key = (-topic.pk, self.language)
        template = self.templates.get(key)
        if template is None:
            subscribe_url = settings.BASE_URL + reverse(
                "subscribers:subscribe", args=[self.account.code]
            )
            links = {"subscribe_url": subscribe_url, "shared": True}
            subject, text, html = self._parts(topic, mime.hole("rcpt"), links)
            personal = [("To", mime.hole("rcpt")), ("Message-ID", mime.hole("message_id"))]
            template = mime.compile_message(self._headers(topic, subject) + personal, text, html)
            self.templates[key] = template
        return template

    def template_for(self, topic: Topic, language: str = "") -> mime.Template:
        """Return the message for one topic and language with holes for the recipient's own
        values."""
        language = language or self.language
        template = self.templates.get((topic.pk, language))
        if template is None:
            links = links_for_token(mime.hole("token"))
            subject, text, html = self._parts(topic, mime.hole("rcpt"), links, language)
            text, html = track(
                self.bulletin.pk, self.tracking, mime.hole("track"), text, html, links.values()
            )
            personal = [
                ("To", mime.hole("rcpt")),
                ("Message-ID", mime.hole("message_id")),
                (
                    "List-Unsubscribe",
                    f"<{links['one_click_url']}>,\r\n <mailto:{mime.hole('unsubscribe')}>",
                ),
            ]
            template = mime.compile_message(self._headers(topic, subject) + personal, text, html)
            self.templates[(topic.pk, language)] = template
        return template

    def values_for(
        self, recipient: str, subscriber_id: int, message_id: str, delivery_id: int | None = None
    ) -> dict[str, str]:
        values = {
            "rcpt": recipient,
            "token": sign_id("subscriber", subscriber_id),
            "message_id": message_id,
            "unsubscribe": unsubscribe_address(subscriber_id),
        }
        if delivery_id is not None:
            values["track"] = recipient_token(delivery_id)
        return values

    def render(
        self,
        *,
        topic: Topic,
        recipient: str,
        subscriber_id: int,
        message_id: str,
        delivery_id: int | None = None,
        shared: bool = False,
        language: str = "",
    ) -> bytes:
        """Return the finished message for one recipient, from the topic's template in their
        language (shared: the copy without personal links, for an address many people read,
        in the account's language)."""
        template = self.shared_template_for(topic) if shared else self.template_for(topic, language)
        if delivery_id is None and (TRACK_RAW in template.holes or TRACK_HTML in template.holes):
            raise ValueError("A tracked bulletin needs each recipient's delivery id.")
        return template.fill(self.values_for(recipient, subscriber_id, message_id, delivery_id))

    def message_for(
        self,
        *,
        topic: Topic,
        recipient: str,
        subscriber_id: int,
        message_id: str = "",
        delivery_id: int | None = None,
        language: str = "",
    ) -> EmailMessage:
        """Build the same message with the email package: for previews, and as the reference.

        Links are tracked only for a delivery (a preview shows the bulletin's own links).
        """
        links = subscriber_links(subscriber_id)
        subject, text, html = self._parts(topic, recipient, links, language)
        if delivery_id is not None:
            token = recipient_token(delivery_id)
            text, html = track(self.bulletin.pk, self.tracking, token, text, html, links.values())
        msg = EmailMessage(policy=POLICY)
        for name, value in self._headers(topic, subject):
            msg[name] = value
        msg["To"] = recipient
        msg["Message-ID"] = message_id or make_msgid("bulletin", domain=settings.MAIL_DOMAIN)
        msg["List-Unsubscribe"] = (
            f"<{links['one_click_url']}>, <mailto:{unsubscribe_address(subscriber_id)}>"
        )
        msg.set_content(text, cte="quoted-printable")
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        return msg
