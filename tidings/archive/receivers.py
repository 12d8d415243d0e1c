"""How the archive hears of what other apps do: accepted list posts, saved bulletins."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse

from tidings.archive.actions import archive_post, index_bulletin
from tidings.inbound.models import InboundMessage
from tidings.lists.models import MailingList
from tidings.lists.signals import post_accepted


@receiver(post_accepted, dispatch_uid="archive.keep_post")
def keep_post(
    sender: object, mailing_list: MailingList, msg: EmailMessage, inbound: InboundMessage, **_: Any
) -> str:
    """Archive an accepted post unless the list's archive is off; return its permalink."""
    if mailing_list.archive_visibility == MailingList.ARCHIVE_OFF:
        return ""
    post = archive_post(mailing_list, msg, inbound=inbound)
    return settings.BASE_URL + reverse("archive:post", args=[mailing_list.name, post.slug])


# Bulletins are written by tidings.bulletins.actions; every save (publishing, an edit) refreshes
# their searchable text here, so search never needs the bulletins app's help.
@receiver(post_save, sender="bulletins.Bulletin", dispatch_uid="archive.index_bulletin")
def keep_bulletin_searchable(sender: type, instance: Any, **_: Any) -> None:
    index_bulletin(instance)
