"""Limits of Tidings' SMTP server, from TIDINGS_SMTP_* environment variables."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings

from tidings.lib.env import env_int, env_str
from tidings.lib.network import parse_networks

# Recipients one message may name (452 past it); RFC 5321 asks servers to take at least 100.
SMTP_MAX_RECIPIENTS = env_int("TIDINGS_SMTP_MAX_RECIPIENTS", 100)
# Open connections from one client address (421 past it); Postfix's default is 50 too. The
# delivery worker relays captured mail over TIDINGS_SMTP_CONNECTIONS connections per process.
SMTP_MAX_CONNECTIONS_PER_IP = env_int("TIDINGS_SMTP_MAX_CONNECTIONS_PER_IP", 50)
# Transactions one envelope sender may start per minute (450 past it; 0: no limit). Sessions
# logged in with the capture secret (Tidings' own worker) are not counted.
SMTP_SENDER_MESSAGES_PER_MINUTE = env_int("TIDINGS_SMTP_SENDER_MESSAGES_PER_MINUTE", 120)
# Transactions one client network (an IPv4 address, an IPv6 /64) may start per minute (451
# past it; 0: no limit), whatever envelope senders it names. The capture login is not counted,
# nor are the TIDINGS_SMTP_UNLIMITED_CLIENTS networks: the MX in front of Tidings, which hands
# over all inbound mail from one address.
SMTP_CLIENT_MESSAGES_PER_MINUTE = env_int("TIDINGS_SMTP_CLIENT_MESSAGES_PER_MINUTE", 300)
SMTP_UNLIMITED_CLIENTS = env_str("TIDINGS_SMTP_UNLIMITED_CLIENTS", "127.0.0.0/8, ::1")
# Most messages committed in one transaction (group commit).
SMTP_COMMIT_BATCH = env_int("TIDINGS_SMTP_COMMIT_BATCH", 500)

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


def limits() -> Limits:
    """Return the limits in force (the message size comes from TIDINGS_SMTP_MAX_MESSAGE_SIZE)."""
    return Limits(
        max_message_size=settings.SMTP_MAX_MESSAGE_SIZE,
        max_recipients=SMTP_MAX_RECIPIENTS,
        connections_per_ip=SMTP_MAX_CONNECTIONS_PER_IP,
        sender_messages_per_minute=SMTP_SENDER_MESSAGES_PER_MINUTE,
        commit_batch=SMTP_COMMIT_BATCH,
        client_messages_per_minute=SMTP_CLIENT_MESSAGES_PER_MINUTE,
        unlimited_clients=tuple(parse_networks(SMTP_UNLIMITED_CLIENTS)),
    )
