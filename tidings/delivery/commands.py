"""Shared shape of the pause, resume and cancel commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError

from tidings.delivery.actions import SendStateError
from tidings.delivery.models import Send
from tidings.lib.commands import TidingsCommand, get_or_error


class SendStateCommand(TidingsCommand):
    action: Callable[[Send], Any]

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("send", type=int, help="send id (see tidings status)")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        send = get_or_error(Send, "send", pk=options["send"])
        try:
            type(self).action(send)
        except SendStateError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Send #{send.pk} is now {send.state}.")
