from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_noop

from tidings.lib.headers import validate_line
from tidings.lib.languages import codes, supported

# Translated when a mail is written, as long as the account keeps them (bulletins.email).
DEFAULT_HEADER = gettext_noop(
    "You are subscribed to {{ topic }} for {{ account }}. "
    "This information has recently been updated, and is now available."
)
DEFAULT_FOOTER = gettext_noop(
    "This email was sent to {{ recipient }} using Tidings, on behalf of: "
    "{{ account }} · {{ postal_address }}"
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. America/New_York).")


def validate_language(value: str) -> None:
    if not supported(value) or supported(value) != value:
        known = ", ".join(codes())
        raise ValidationError(f"{value!r} is not a language Tidings speaks ({known}).")


class Account(models.Model):
    """An organization that publishes: the tenant that owns topics, subscribers and bulletins."""

    code = models.CharField(
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", "Use capital letters, digits and _.")],
        help_text="Short code such as USSTATEBPA.",
    )
    name = models.CharField(max_length=200, validators=[validate_line])
    postal_address = models.CharField(max_length=300, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The language of its public pages and mail, for readers who ask for none Tidings has.
    language = models.CharField(
        max_length=8,
        default="en",
        db_default="en",
        validators=[validate_language],
        help_text="Public pages and subscriber mail, unless the reader chose another.",
    )
    sender_name = models.CharField(max_length=200, blank=True, validators=[validate_line])
    sender_address = models.EmailField(validators=[validate_line])
    # The agency's look on its public pages and in the HTML part of its mail.
    logo = models.ForeignKey(
        "MediaFile",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="An image of the media library, shown on public pages and atop emails.",
    )
    brand_color = models.CharField(
        "brand colour",
        max_length=7,
        default="#0b4f9c",
        db_default="#0b4f9c",
        validators=[
            RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #0b4f9c (# and six hex digits).")
        ],
    )
    header_template = models.TextField(default=DEFAULT_HEADER)
    footer_template = models.TextField(default=DEFAULT_FOOTER)
    courtesy_copy = models.BooleanField(
        default=True, help_text="Send the account admins a copy of every bulletin sent."
    )
    shared_copies_for_distribution_lists = models.BooleanField(
        default=True,
        help_text="Bulletins to subscribers marked as distribution lists carry no personal "
        "links and no tracking, like those to Tidings' own lists: anyone on the list could use "
        "them.",
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(models.Model):
    """A console user's role in one account. Users see only the accounts they belong to."""

    ADMIN = "admin"
    TOPIC_ADMIN = "topic_admin"
    AUTHOR = "author"
    VIEWER = "viewer"
    ROLES = [
        (ADMIN, "account admin"),
        (TOPIC_ADMIN, "topic admin"),
        (AUTHOR, "author"),
        (VIEWER, "viewer"),
    ]
    # Each role may do everything the roles below it may.
    RANK = {VIEWER: 0, AUTHOR: 1, TOPIC_ADMIN: 2, ADMIN: 3}

    user = models.ForeignKey("auth.User", models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=ROLES, default=VIEWER)
    # The topics an author may write to; empty means every topic of the account.
    topics = models.ManyToManyField("topics.Topic", blank=True, related_name="authors")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.account} · {self.role}"

    def has_role(self, role: str) -> bool:
        return self.RANK[self.role] >= self.RANK[role]


class SenderIdentity(models.Model):
    """A From name and address the account's authors may choose in the composer."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="sender_identities")
    name = models.CharField(max_length=200, validators=[validate_line])
    address = models.EmailField(validators=[validate_line])
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "sender identities"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name", "address"], name="sender_identity_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class MediaFile(models.Model):
    """An image an account uploaded (accounts.media): served at a public address that names its
    content, so mail that shows it keeps working and caches may keep it for ever."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="media")
    name = models.CharField(max_length=200, help_text="The uploaded file's name.")
    content_type = models.CharField(max_length=32)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the bytes.")
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "digest"], name="media_unique_digest")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def filename(self) -> str:
        return f"{self.digest}.{EXTENSIONS[self.content_type]}"


EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
