"""What the lists app tells others without knowing them (the archive keeps accepted posts)."""

from __future__ import annotations

from django.dispatch import Signal

# A post was accepted and is about to be relayed, inside the relay's transaction; sent with
# mailing_list=, msg= (the EmailMessage, before DMARC rewriting and the footer) and inbound=.
# A receiver that keeps the post returns its permalink (an absolute URL), else "".
post_accepted = Signal()
