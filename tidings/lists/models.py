from __future__ import annotations

import zoneinfo
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from tidings.accounts.models import validate_time_zone
from tidings.lib.headers import validate_line

DEFAULT_ATTACHMENT_TYPES = "\n".join(
    [
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-executable",
        "application/x-sh",
        "application/java-archive",
        "application/vnd.microsoft.portable-executable",
    ]
)


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
    display_name = models.CharField(max_length=200, blank=True, validators=[validate_line])
    description = models.TextField(blank=True)
    subject_tag = models.CharField(
        max_length=64, blank=True, help_text="e.g. [wanabidii]", validators=[validate_line]
    )
    footer = models.TextField(blank=True)
    REPLY_TO_LIST = "list"
    REPLY_TO_AUTHOR = "author"
    REPLY_TO_BOTH = "both"
    REPLY_TO_POLICIES = [
        (REPLY_TO_AUTHOR, "replies go to the author"),
        (REPLY_TO_LIST, "replies go to the list"),
        (REPLY_TO_BOTH, "replies go to the author and the list"),
    ]

    KEEP = "keep"
    STRIP = "strip"
    REFUSE = "refuse"
    ATTACHMENT_POLICIES = [
        (KEEP, "keep attachments"),
        (STRIP, "strip attachments of the listed types"),
        (REFUSE, "hold posts with attachments of the listed types"),
    ]

    ARCHIVE_PUBLIC = "public"
    ARCHIVE_MEMBERS = "members"
    ARCHIVE_OFF = "off"
    ARCHIVE_VISIBILITIES = [
        (ARCHIVE_PUBLIC, "public"),
        (ARCHIVE_MEMBERS, "members only"),
        (ARCHIVE_OFF, "off: posts are not archived"),
    ]

    # Kept in step with archive_visibility by save(); the archive's pages read it.
    archive_public = models.BooleanField(default=True)
    archive_visibility = models.CharField(
        max_length=8, choices=ARCHIVE_VISIBILITIES, default=ARCHIVE_PUBLIC
    )
    members_visible = models.BooleanField(
        default=False, help_text="Members may see who else is on the list."
    )
    reply_to = models.CharField(max_length=8, choices=REPLY_TO_POLICIES, default=REPLY_TO_AUTHOR)
    attachment_policy = models.CharField(max_length=8, choices=ATTACHMENT_POLICIES, default=KEEP)
    attachment_types = models.TextField(
        blank=True,
        default=DEFAULT_ATTACHMENT_TYPES,
        help_text="Content types the attachment policy applies to, one a line; "
        "'application/*' matches a whole family.",
    )
    digest_sent_until = models.DateTimeField(
        null=True, blank=True, help_text="Posts relayed before this went into a digest."
    )
    comment_moderation = models.CharField(max_length=8, choices=COMMENT_MODES, default=OPEN)
    posting_policy = models.CharField(max_length=16, choices=POSTING_POLICIES, default=ANNOUNCE)
    bounce_score_threshold = models.FloatField(
        default=5.0,
        help_text="A member whose bounce score reaches this stops getting mail until they "
        "re-enable it (permanent bounce +1, temporary +0.5, at most once a day).",
    )
    # An accept-listed or member From counts only when DKIM (aligned), SPF (aligned) or Tidings'
    # own signed return path vouches for it; otherwise anyone could post by naming the sender.
    # On by default for announce-only lists (create_list).
    require_sender_authentication = models.BooleanField(
        "senders must be authenticated",
        default=False,
        help_text="Accept-listed and member senders count only when DKIM or SPF vouches for "
        "their From address (or the post is Tidings' own bulletin); others are held.",
    )
    max_message_size = models.PositiveIntegerField(
        default=5 * 2**20,
        help_text="Bytes; larger posts are held. 0: only the SMTP server's limit.",
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.archive_public = self.archive_visibility == self.ARCHIVE_PUBLIC
        super().save(*args, **kwargs)

    @property
    def language(self) -> str:
        """The language of its pages and notices for readers who chose none: its account's."""
        return self.account.language if self.account is not None else ""

    def command_address(self, command: str) -> str:
        """Return the list's address for a command: join, leave, request, owner."""
        return f"{self.name}-{command}@{self.domain}"

    @property
    def label(self) -> str:
        return self.display_name or self.name

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
    EACH = "each"
    DIGEST = "digest"
    PLAIN_DIGEST = "plain"
    NOMAIL = "nomail"
    DIGESTS = (DIGEST, PLAIN_DIGEST)
    DELIVERY_MODES = [
        (EACH, _("each message")),
        (DIGEST, _("a daily digest")),
        (PLAIN_DIGEST, _("a daily digest in plain text (RFC 1153)")),
        (NOMAIL, _("no mail (read on the web)")),
    ]

    mailing_list = models.ForeignKey(MailingList, models.CASCADE, related_name="members")
    address = models.EmailField(validators=[validate_line])
    name = models.CharField(max_length=200, blank=True, validators=[validate_line])
    delivery_mode = models.CharField(max_length=8, choices=DELIVERY_MODES, default=EACH)
    # Bounces to <list>-bounces@ or a list delivery's return path, scored as Mailman does:
    # permanent +1, temporary +0.5, at most once a day; past the list's threshold, delivery
    # stops until the member re-enables it. db_default: members are added by raw SQL too.
    bounce_score = models.FloatField(default=0, db_default=0)
    last_bounce_on = models.DateField(null=True, blank=True)
    disabled_by_bounces = models.BooleanField(default=False, db_default=False)
    # The language of the list's notices to this member ("": the list's account's).
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
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
    EXPIRED = "expired"
    STATUSES = [
        (ACCEPTED, "accepted"),
        (HELD, "held"),
        (DISCARDED, "discarded"),
        (REJECTED, "rejected"),
        (EXPIRED, "expired"),
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
        indexes = [
            # Serves the moderation queue and the expiry job: a list's held posts, oldest first.
            models.Index(fields=["status", "created"], name="list_message_status"),
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.subject}"


class MembershipRequest(models.Model):
    """A join or leave waiting for the address's owner to confirm it, by link or by reply."""

    JOIN = "join"
    LEAVE = "leave"
    INVITE = "invite"
    ACTIONS = [(JOIN, "join"), (LEAVE, "leave"), (INVITE, "invitation")]

    mailing_list = models.ForeignKey(MailingList, models.CASCADE, related_name="requests")
    address = models.EmailField()
    action = models.CharField(max_length=8, choices=ACTIONS)
    delivery_mode = models.CharField(
        max_length=8, choices=Member.DELIVERY_MODES, default=Member.EACH
    )
    # The language of the page it was asked on: its confirmation and the welcome that follows.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    created = models.DateTimeField(auto_now_add=True)
    done = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.action} {self.address}"
