"""How each kind of send's messages are written: the delivery worker knows none of the kinds.

A send that carries one finished message (a notice, a confirmation) is sent as it is. An app
whose sends are written per recipient registers a factory from its AppConfig.ready():

    @composes
    def bulletin_composer(send: Send) -> Composer | None:
        return BulletinComposer(send) if send.bulletin_id else None

The worker asks the factories in turn for each send it meets (the first answer wins) and keeps
the composer while the send runs, so whatever a composer prepares once is reused per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tidings.delivery.dkim import sign
from tidings.delivery.models import Send
from tidings.delivery.smtp import dot_stuff


@dataclass(frozen=True)
class Row:
    """One leased delivery, as the worker claimed it."""

    id: int
    send_id: int
    address: str
    subscriber_id: int | None
    topic_id: int | None
    attempts: int


@dataclass
class Screened:
    """What a composer decided about a send's rows before writing them."""

    # Rows whose recipient no longer wants the mail (left, suppressed): cancelled, not sent.
    cancelled: set[int] = field(default_factory=set)
    # Rows that get the shared copy: no personal link, no tracking (a list's archive shows it).
    shared: set[int] = field(default_factory=set)


class Composer:
    """Writes the messages of one send; this one sends the send's stored message to everyone."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._finished: bytes | None = None

    def screen(self, rows: list[Row]) -> Screened:
        """Decide which of the send's rows are still wanted, and which get a shared copy."""
        return Screened()

    def compose(self, row: Row, shared: bool) -> bytes:
        """Return one row's finished message: signed and dot-stuffed, ready for DATA."""
        if self._finished is None:
            self._finished = finish(bytes(self.send.message or b""))
        return self._finished


class Broken(Composer):
    """A send whose composer could not be made: each of its rows fails with the reason."""

    def __init__(self, send: Send, error: Exception) -> None:
        super().__init__(send)
        self.error = error

    def compose(self, row: Row, shared: bool) -> bytes:
        raise self.error


def finish(message: bytes) -> bytes:
    """Sign a message (DKIM) and dot-stuff it for DATA."""
    return dot_stuff(sign(message))


Factory = Callable[[Send], Composer | None]
FACTORIES: list[Factory] = []


def composes(factory: Factory) -> Factory:
    """Register a factory of composers (see the module's docstring)."""
    if factory not in FACTORIES:
        FACTORIES.append(factory)
    return factory


def composer_for(send: Send) -> Composer:
    """Return the composer of a send: a registered one, else the stored message's."""
    try:
        for factory in FACTORIES:
            composer = factory(send)
            if composer is not None:
                return composer
    except Exception as error:  # its rows fail with the reason; the worker goes on
        return Broken(send, error)
    return Composer(send)
