"""What the delivery worker tells the apps whose mail it sends, without knowing them."""

from __future__ import annotations

from django.dispatch import Signal

# A relay refused a delivery for good (5xx); sent with delivery_id=, code= and reply=, inside
# the transaction that records the outcome (subscribers records it as a bounce).
refused = Signal()

# Sends have no recipient left to try and are marked done; sent with send_ids= and at= inside
# that transaction (bulletins marks their bulletins sent).
sends_finished = Signal()
