"""The limits Tidings' SMTP server enforces, read from the settings when it starts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings

from tidings.lib.network import parse_networks

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Limits:
    max_message_size: int
    max_recipients: int
    connections_per_ip: int
    sender_messages_per_minute: int
    commit_batch: int
    client_messages_per_minute: int = 0
    unlimited_clients: tuple[IPNetwork, ...] = ()
    max_connections: int = 1000


def limits() -> Limits:
    """Return the limits in force (TIDINGS_SMTP_* settings)."""
    return Limits(
        max_message_size=settings.SMTP_MAX_MESSAGE_SIZE,
        max_recipients=settings.SMTP_MAX_RECIPIENTS,
        connections_per_ip=settings.SMTP_MAX_CONNECTIONS_PER_IP,
        sender_messages_per_minute=settings.SMTP_SENDER_MESSAGES_PER_MINUTE,
        commit_batch=settings.SMTP_COMMIT_BATCH,
        client_messages_per_minute=settings.SMTP_CLIENT_MESSAGES_PER_MINUTE,
        unlimited_clients=tuple(parse_networks(settings.SMTP_UNLIMITED_CLIENTS)),
        max_connections=settings.SMTP_MAX_CONNECTIONS,
    )
