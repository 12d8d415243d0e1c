"""What the subscribers app tells others without knowing them (tracking counts these)."""

from __future__ import annotations

from django.dispatch import Signal

# A confirmed subscriber stopped following some topics but stays subscribed to the account;
# sent with subscriber= and topics= (the topics dropped). Leaving everything is the status
# change to `unsubscribed` instead.
topics_dropped = Signal()

# A report came back to the return path of a delivery that was not to a subscriber (a list
# member's copy of a post, a notice); sent with delivery= and kind= (a BounceEvent kind). A
# receiver returns a note of what it did ("" for nothing), shown with the routed message.
delivery_bounced = Signal()
