"""How the texts role writes a text send's messages (registered with delivery.compose).

A bulletin's text is the same for every number: its own text version, or the title and the
address of its web copy. A notice (a confirmation, an answer to HELP) carries its text as the
send's message. Rows whose number stopped, or left the topic, since the snapshot are cancelled.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tidings.bulletins.models import Bulletin
from tidings.delivery.compose import Composer, Row, Screened, composes
from tidings.delivery.models import Send
from tidings.texts.models import Phone, TextProgram, TextSubscription


def bulletin_text(bulletin: Bulletin) -> str:
    """The text message of a bulletin: the one written in the composer, else derived."""
    if bulletin.text.strip():
        return bulletin.text.strip()
    url = settings.BASE_URL + reverse("bulletins:web_copy", args=[bulletin.pk])
    name = bulletin.account.name
    return f"{name}: {bulletin.subject} {url}"


class TextComposer(Composer):
    def __init__(self, send: Send) -> None:
        super().__init__(send)
        self.text: bytes | None = None
        self.bulletin: Bulletin | None = None
        account_id = send.account_id or 0
        if send.bulletin_id:
            self.bulletin = Bulletin.objects.select_related("account").get(pk=send.bulletin_id)
            self.text = bulletin_text(self.bulletin).encode()
            account_id = self.bulletin.account_id
        # The account's number: what texts come from (empty: the gateway's own).
        self.source = (
            TextProgram.objects.filter(account_id=account_id)
            .values_list("number", flat=True)
            .first()
            or ""
        )

    def screen(self, rows: list[Row]) -> Screened:
        screened = Screened()
        if self.bulletin is None:
            return screened  # a notice goes to whoever it was written for
        phone_of = dict(
            Phone.objects.filter(
                account_id=self.bulletin.account_id,
                number__in=[r.address for r in rows],
                status=Phone.CONFIRMED,
            ).values_list("number", "pk")
        )
        following = set(
            TextSubscription.objects.filter(phone_id__in=phone_of.values()).values_list(
                "phone_id", "topic_id"
            )
        )
        for row in rows:
            phone = phone_of.get(row.address)
            if phone is None or (phone, row.topic_id) not in following:
                screened.cancelled.add(row.id)
        return screened

    def compose(self, row: Row, shared: bool) -> bytes:
        if self.text is not None:
            return self.text
        return bytes(self.send.message or b"")


@composes
def text_composer(send: Send) -> Composer | None:
    return TextComposer(send) if send.channel == Send.TEXT else None
