from __future__ import annotations

import zoneinfo

from django.db import models

from tidings.accounts.models import validate_time_zone


class MailingList(models.Model):
    OPEN = "open"
    HELD = "held"
    FIRST_TIME = "first"
    COMMENT_MODES = [
        (OPEN, "comments appear at once"),
        (HELD, "comments are held for review"),
        (FIRST_TIME, "a first-time commenter's comments are held for review"),
    ]

    MEMBERS = "members"
    MODERATED = "moderated"
    ANNOUNCE = "announce"
    OPEN_POSTING = "open"
    POSTING_POLICIES = [
        (MEMBERS, "members post; others are held"),
        (MODERATED, "every post is held for a moderator"),
        (ANNOUNCE, "only accept-listed senders post; others are held"),
        (OPEN_POSTING, "anyone may post"),
    ]

    account = models.ForeignKey(
        "accounts.Account", models.CASCADE, null=True, blank=True, related_name="lists"
    )
    name = models.SlugField(max_length=64, unique=True, help_text="Local part of the address.")
    address = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    subject_tag = models.CharField(max_length=64, blank=True, help_text="e.g. [wanabidii]")
    footer = models.TextField(blank=True)
    archive_public = models.BooleanField(default=True)
    comment_moderation = models.CharField(max_length=8, choices=COMMENT_MODES, default=OPEN)
    posting_policy = models.CharField(max_length=16, choices=POSTING_POLICIES, default=ANNOUNCE)
    max_message_size = models.PositiveIntegerField(
        default=0, help_text="Bytes; larger posts are held. 0: only the SMTP server's limit."
    )
    hold_headers = models.TextField(
        blank=True,
        default="X-Spam-Flag: yes",
        help_text="One 'Header: regular expression' a line; a post with a matching header is held.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.address

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def list_id(self) -> str:
        return f"{self.name}.{self.domain}"

    @property
    def bounces_address(self) -> str:
        return f"{self.name}-bounces@{self.domain}"


class Member(models.Model):
    mailing_list = models.ForeignKey(MailingList, models.CASCADE, related_name="members")
    address = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing_list", "address"], name="member_unique"),
        ]

    def __str__(self) -> str:
        return self.address


class ListSender(models.Model):
    """A sender the list treats specially, whatever the posting policy says."""

    ACCEPT = "accept"
    HOLD = "hold"
    REJECT = "reject"
    DISCARD = "discard"
    BAN = "ban"
    ACTIONS = [
        (ACCEPT, "always accept"),
        (HOLD, "always hold"),
        (REJECT, "reject"),
        (DISCARD, "discard"),
        (BAN, "ban"),
    ]

    mailing_list = models.ForeignKey(MailingList, models.CASCADE, related_name="senders")
    address = models.EmailField()
    action = models.CharField(max_length=16, choices=ACTIONS, default=ACCEPT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing_list", "address"], name="list_sender_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.address}"


class ListMessage(models.Model):
    """What a list decided about one message posted to it, and why."""

    ACCEPTED = "accepted"
    HELD = "held"
    DISCARDED = "discarded"
    REJECTED = "rejected"
    STATUSES = [
        (ACCEPTED, "accepted"),
        (HELD, "held"),
        (DISCARDED, "discarded"),
        (REJECTED, "rejected"),
    ]

    mailing_list = models.ForeignKey(MailingList, models.CASCADE, related_name="messages")
    inbound = models.ForeignKey(
        "inbound.InboundMessage", models.CASCADE, related_name="list_messages"
    )
    status = models.CharField(max_length=16, choices=STATUSES)
    rule = models.CharField(max_length=64, blank=True, help_text="The rule that decided.")
    reason = models.TextField(blank=True)
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing_list", "inbound"], name="list_message_once"),
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.subject}"
