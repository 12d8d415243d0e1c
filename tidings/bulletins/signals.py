"""What the bulletins app asks of others without knowing them."""

from __future__ import annotations

from django.dispatch import Signal

# Which of these recipient addresses do many people read (a hosted list: its archive is public)?
# Sent with addresses= (a list of str); a receiver returns the ones it knows. Those get the
# shared copy of a bulletin: no personal link, no tracking.
shared_copy_addresses = Signal()

# A bulletin was published: its email send exists (send=), inside the publishing transaction.
# Other channels start their own sends from here (texts.receivers).
published = Signal()
