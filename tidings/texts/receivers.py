"""What the texts app does when other apps' things happen."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tidings.bulletins.signals import published
from tidings.texts.actions import start_bulletin_texts


@receiver(published)
def text_the_bulletin(sender: object, bulletin: Any, **kwargs: object) -> None:
    """A published bulletin goes by text too, to the numbers that follow its topics by text."""
    start_bulletin_texts(bulletin)
