"""How the delivery worker writes a list send's copies: the stored post (or digest), with each
member's own one-click List-Unsubscribe (registered with delivery.compose when ready)."""

from __future__ import annotations

from django.dispatch import receiver

from tidings.bulletins.signals import shared_copy_addresses
from tidings.delivery.compose import Composer, Row, composes, finish
from tidings.delivery.models import Send
from tidings.lists.models import MailingList
from tidings.lists.relay import personalize


class PostComposer(Composer):
    def compose(self, row: Row, shared: bool) -> bytes:
        assert self.send.mailing_list_id is not None
        stored = bytes(self.send.message or b"")
        return finish(personalize(stored, self.send.mailing_list_id, row.address))


@composes
def post_composer(send: Send) -> Composer | None:
    return PostComposer(send) if send.mailing_list_id else None


@receiver(shared_copy_addresses)
def hosted_lists(sender: object, addresses: list[str], **kwargs: object) -> set[str]:
    """Tidings' own lists among the addresses: their archives show what they receive."""
    if not addresses:
        return set()
    hosted = MailingList.objects.filter(address__in=list({a.lower() for a in addresses}))
    return set(hosted.values_list("address", flat=True))
