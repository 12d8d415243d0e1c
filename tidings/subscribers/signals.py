"""What the subscribers app tells others without knowing them (tracking counts these)."""

from __future__ import annotations

from django.dispatch import Signal

# A confirmed subscriber stopped following some topics but stays subscribed to the account;
# sent with subscriber= and topics= (the topics dropped). Leaving everything is the status
# change to `unsubscribed` instead.
topics_dropped = Signal()
