"""A subscriber's own unsubscribe address (the mailto: of List-Unsubscribe), signed."""

from __future__ import annotations

from django.conf import settings

from tidings.inbound.addresses import Destination, reads
from tidings.lib.tokens import read_signed_local, signed_local

UNSUBSCRIBE = "unsubscribe"


def unsubscribe_address(subscriber_id: int) -> str:
    return f"{signed_local(UNSUBSCRIBE, subscriber_id)}@{settings.MAIL_DOMAIN}"


@reads("mail")
def unsubscribe_destination(local: str, address: str) -> Destination | None:
    ident = read_signed_local(UNSUBSCRIBE, local)
    return None if ident is None else Destination(UNSUBSCRIBE, address, ident=ident)
