from __future__ import annotations

import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from tidings.accounts.models import Account
from tidings.delivery.actions import send_message
from tidings.lib.headers import validate_line
from tidings.lib.languages import supported
from tidings.lib.mail import normalize
from tidings.lib.ratelimit import Rule, refill, take, wait_for_token
from tidings.lib.tokens import BadToken, ExpiredToken, make_token, read_token, sign_id
from tidings.subscribers.mail import notice
from tidings.subscribers.models import (
    RateBucket,
    Subscriber,
    SubscribeSettings,
    Subscription,
    Suppression,
)
from tidings.subscribers.signals import topics_dropped
from tidings.topics.models import Topic

# Confirmation tokens carry their own expiry (the account's setting); this only bounds the
# signature check so that no token lives forever whatever its payload says.
CONFIRM_TOKEN_MAX_AGE = 366 * 86400


class UsedToken(BadToken):
    """The link was genuine but has been used, or a newer one replaced it."""


def subscribe(
    account: Account, email: str, topics: list[Topic], *, confirmed: bool = False
) -> Subscriber:
    """Subscribe an address to topics; confirmed=True skips opt-in (operator import)."""
    email = normalize(email)
    validate_line(email)
    validate_email(email)
    for topic in topics:
        if topic.account_id != account.pk:
            raise ValidationError(f"Topic {topic.code} belongs to another account.")
    with transaction.atomic():
        subscriber = find_or_add(account, email)
        if confirmed:
            # The same UPDATE whatever the state, so a known address costs what a new one does.
            now = timezone.now()
            changed = (
                Subscriber.objects.filter(pk=subscriber.pk)
                .exclude(status=Subscriber.CONFIRMED)
                .update(status=Subscriber.CONFIRMED, confirmed_at=now)
            )
            if changed:
                subscriber.status, subscriber.confirmed_at = Subscriber.CONFIRMED, now
        Subscription.objects.bulk_create(
            [Subscription(subscriber=subscriber, topic=topic) for topic in topics],
            ignore_conflicts=True,
        )
    return subscriber


def find_or_add(account: Account, email: str) -> Subscriber:
    """Return the account's record of an address, adding a pending one if there is none.

    Always one INSERT … ON CONFLICT DO NOTHING and one SELECT: a new address and a known one
    cost the same queries, so the time of the answer does not tell them apart.
    """
    Subscriber.objects.bulk_create(
        [Subscriber(account=account, email=email)], ignore_conflicts=True
    )
    return Subscriber.objects.select_related("account").get(account=account, email=email)


def unsubscribe_topic(subscriber: Subscriber, topic: Topic) -> None:
    deleted, _ = Subscription.objects.filter(subscriber=subscriber, topic=topic).delete()
    if deleted and subscriber.status == Subscriber.CONFIRMED:
        topics_dropped.send(Subscriber, subscriber=subscriber, topics=[topic])


def unsubscribe_all(subscriber: Subscriber) -> None:
    """Stop all mail to this subscriber; idempotent."""
    with transaction.atomic():
        subscriber.subscriptions.all().delete()
        if subscriber.status != Subscriber.UNSUBSCRIBED:
            subscriber.status = Subscriber.UNSUBSCRIBED
            subscriber.save(update_fields=["status"])


def set_topics(subscriber: Subscriber, topics: list[Topic]) -> None:
    """Make the subscriber follow exactly these topics; choosing any confirms the address."""
    for topic in topics:
        if topic.account_id != subscriber.account_id:
            raise ValidationError(f"Topic {topic.code} belongs to another account.")
    with transaction.atomic():
        leaving = subscriber.subscriptions.exclude(topic__in=topics)
        dropped = list(Topic.objects.filter(subscriptions__in=leaving))
        leaving.delete()
        if dropped and subscriber.status == Subscriber.CONFIRMED:
            topics_dropped.send(Subscriber, subscriber=subscriber, topics=dropped)
        for topic in topics:
            Subscription.objects.get_or_create(subscriber=subscriber, topic=topic)
        # The signed link that leads here is only ever mailed to this address, so choosing topics
        # is consent enough: it confirms a pending address and lifts an earlier unsubscribe.
        if topics and subscriber.status != Subscriber.CONFIRMED:
            subscriber.status = Subscriber.CONFIRMED
            subscriber.confirmed_at = timezone.now()
            subscriber.save(update_fields=["status", "confirmed_at"])


# --- rate limits -------------------------------------------------------------------------------


def allow(key: str, limit: int, window: int) -> bool:
    """Count one event against key: at most `limit` at once and `limit` per `window` seconds
    after that (a token bucket in the database, shared by every process); False when refused."""
    rule = Rule(limit, window)
    now = timezone.now()
    with transaction.atomic():
        try:
            throttle, created = RateBucket.objects.select_for_update().get_or_create(
                key=key, defaults={"stamp": now, "tokens": limit - 1}
            )
        except IntegrityError:  # another process created it between our get and create
            throttle, created = RateBucket.objects.select_for_update().get(key=key), False
        if created:
            return limit >= 1
        ok, left = take(throttle.tokens, (now - throttle.stamp).total_seconds(), rule)
        RateBucket.objects.filter(pk=throttle.pk).update(tokens=left, stamp=now)
        return ok


def seconds_until_allowed(key: str, limit: int, window: int) -> int:
    """Return how long until key may have one more event (at least 1): a Retry-After value."""
    row = RateBucket.objects.filter(key=key).values_list("tokens", "stamp").first()
    if row is None:
        return 1
    rule = Rule(limit, window)
    tokens = refill(row[0], (timezone.now() - row[1]).total_seconds(), rule)
    return max(1, math.ceil(wait_for_token(tokens, rule)))


# --- suppression -------------------------------------------------------------------------------


def suppressed_filter(account: Account | None) -> Q:
    """Return the condition on Suppression rows that apply to an account's sends."""
    if account is None:
        return Q(account__isnull=True)
    return Q(account__isnull=True) | Q(account=account)


def is_suppressed(account: Account | None, email: str) -> bool:
    return Suppression.objects.filter(suppressed_filter(account), email=normalize(email)).exists()


def suppress(
    account: Account | None, email: str, reason: str = Suppression.MANUAL, note: str = ""
) -> Suppression:
    """Keep every send from reaching an address (account None: for every account); idempotent."""
    email = normalize(email)
    validate_line(email)
    validate_email(email)
    if reason not in dict(Suppression.REASONS):
        raise ValidationError(f"Unknown suppression reason {reason!r}.")
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                account=account, email=email, reason=reason, note=note
            )
    except IntegrityError:
        return Suppression.objects.get(account=account, email=email)


def unsuppress(suppression: Suppression) -> None:
    """Let sends reach the address again."""
    suppression.delete()


# --- double opt-in -----------------------------------------------------------------------------


def settings_for(account: Account) -> SubscribeSettings:
    """Return the account's subscribe settings, or the defaults if it never changed them."""
    found = SubscribeSettings.objects.filter(account=account).first()
    return found or SubscribeSettings(account=account)


def confirmation_url(subscriber: Subscriber, email: str, topics: list[Topic], nonce: str) -> str:
    days = settings_for(subscriber.account).confirm_link_days
    payload = {
        "s": subscriber.pk,
        "e": email,
        "t": [t.pk for t in topics],
        "n": nonce,
        "x": int(time.time()) + days * 86400,
    }
    token = make_token("confirm", payload)
    path = reverse("subscribers:confirm", args=[subscriber.account.code, token])
    return settings.BASE_URL + path


def send_confirmation(
    subscriber: Subscriber, topics: list[Topic], *, email: str | None = None
) -> bool:
    """Mail a single-use link to confirm (the address, or a new one); at most one per interval."""
    to = email or subscriber.email
    if is_suppressed(subscriber.account, to):
        return False
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CONFIRM_MAIL_INTERVAL)
    nonce = secrets.token_urlsafe(16)
    with transaction.atomic():
        claimed = (
            Subscriber.objects.filter(pk=subscriber.pk)
            .filter(Q(confirm_sent_at__isnull=True) | Q(confirm_sent_at__lt=cutoff))
            .update(confirm_nonce=nonce, confirm_sent_at=now)
        )
        if not claimed:
            return False
        context = {
            "confirm_url": confirmation_url(subscriber, to, topics, nonce),
            "topics": topics,
            "changing": to != subscriber.email,
            "days": settings_for(subscriber.account).confirm_link_days,
        }
        message = notice(subscriber.account, to, "confirm", context, language=subscriber.language)
        send_message(message, [to], account=subscriber.account)
    subscriber.confirm_nonce, subscriber.confirm_sent_at = nonce, now
    return True


def request_subscription(
    account: Account, email: str, topics: list[Topic], *, language: str = ""
) -> str:
    """Handle a request from the public subscribe page; return what was done (for logs, tests).
    The language chosen there is kept for an address not yet confirmed (anyone may type any
    address: a confirmed subscriber's language changes only on their own preferences page)."""
    email = normalize(email)
    validate_line(email)
    validate_email(email)
    if any(t.account_id != account.pk for t in topics):
        raise ValidationError("Every topic must belong to the account.")
    key = f"subscribe-address:{account.pk}:{email.lower()}"
    if not allow(key, settings.SUBSCRIBE_RATE_PER_ADDRESS, 3600):
        return "throttled"
    if is_suppressed(account, email):
        return "suppressed"
    language = supported(language)
    # The same statements whether the address is new or known (the answer must not tell).
    if not settings_for(account).double_opt_in:
        started = timezone.now()
        subscriber = subscribe(account, email, topics, confirmed=True)
        if language:
            new = Subscriber.objects.filter(pk=subscriber.pk, created__gte=started)
            new.update(language=language)
        return "subscribed"
    subscriber = find_or_add(account, email)
    if language:
        pending = Subscriber.objects.filter(pk=subscriber.pk).exclude(status=Subscriber.CONFIRMED)
        if pending.update(language=language):
            subscriber.language = language
    if send_confirmation(subscriber, topics):
        return "confirmation sent"
    return "confirmation sent recently"


@dataclass(frozen=True)
class Confirmation:
    subscriber: Subscriber
    email: str
    topics: list[Topic]
    nonce: str


def read_confirmation(account_code: str, token: str) -> Confirmation:
    """Return what a confirmation link confirms; raise BadToken (Expired, Used) if it can't."""
    payload = read_token("confirm", token, CONFIRM_TOKEN_MAX_AGE)
    if not isinstance(payload, dict) or not {"s", "e", "t", "n", "x"} <= payload.keys():
        raise BadToken(gettext("This link is not valid."))
    if payload["x"] < time.time():
        raise ExpiredToken(gettext("This link has expired."))
    subscriber = Subscriber.objects.select_related("account").filter(pk=payload["s"]).first()
    if subscriber is None or subscriber.account.code != account_code:
        raise BadToken(gettext("This link is not valid."))
    if not subscriber.confirm_nonce or not hmac.compare_digest(
        str(payload["n"]), subscriber.confirm_nonce
    ):
        raise UsedToken(gettext("This link has already been used."))
    topics = list(Topic.objects.filter(pk__in=payload["t"], account=subscriber.account))
    return Confirmation(subscriber, str(payload["e"]), topics, str(payload["n"]))


def confirm(confirmation: Confirmation) -> Subscriber:
    """Apply a confirmation link once: confirm the address (or move to the new one), add topics."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=confirmation.subscriber.pk)
        if subscriber.confirm_nonce != confirmation.nonce:
            raise UsedToken(gettext("This link has already been used."))
        if confirmation.email != subscriber.email:
            subscriber = _move_address(subscriber, confirmation.email)
        subscriber.confirm_nonce = ""
        welcome = subscriber.status != Subscriber.CONFIRMED
        if welcome:
            subscriber.status = Subscriber.CONFIRMED
            subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirm_nonce", "status", "confirmed_at", "email"])
        for topic in confirmation.topics:
            Subscription.objects.get_or_create(subscriber=subscriber, topic=topic)
        if welcome:
            send_welcome(subscriber)
    return subscriber


def send_welcome(subscriber: Subscriber) -> None:
    """Welcome an address that just confirmed: its topics, the account's words, its links."""
    topics = list(Topic.objects.filter(subscriptions__subscriber=subscriber).order_by("name"))
    context = {
        "topics": topics,
        "welcome_text": settings_for(subscriber.account).welcome_text.strip(),
        "manage_url": manage_url(subscriber),
    }
    message = notice(
        subscriber.account, subscriber.email, "welcome", context, language=subscriber.language
    )
    send_message(message, [subscriber.email], account=subscriber.account)


def set_welcome_text(account: Account, text: str) -> None:
    # NUL is no text (PostgreSQL refuses it in a column: it was a 500).
    text = text.replace("\x00", "")
    SubscribeSettings.objects.update_or_create(account=account, defaults={"welcome_text": text})


def _move_address(subscriber: Subscriber, email: str) -> Subscriber:
    """Give the subscriber a new address, merging into the record that already has it."""
    existing = (
        Subscriber.objects.select_for_update()
        .filter(account_id=subscriber.account_id, email=email)
        .exclude(pk=subscriber.pk)
        .first()
    )
    if existing is None:
        subscriber.email = email
        return subscriber
    for topic_id in subscriber.subscriptions.values_list("topic_id", flat=True):
        Subscription.objects.get_or_create(subscriber=existing, topic_id=topic_id)
    existing.delivery_mode = subscriber.delivery_mode
    existing.digest_sent_until = subscriber.digest_sent_until
    existing.save(update_fields=["delivery_mode", "digest_sent_until"])
    subscriber.delete()
    return existing


# --- preferences -------------------------------------------------------------------------------


def request_address_change(subscriber: Subscriber, new_email: str) -> bool:
    """Mail a confirmation link to the new address; the change happens when it is used."""
    new_email = normalize(new_email)
    validate_line(new_email)
    validate_email(new_email)
    if new_email == subscriber.email:
        raise ValidationError(gettext("That is already your address."))
    return send_confirmation(subscriber, [], email=new_email)


def set_delivery_mode(subscriber: Subscriber, mode: str) -> None:
    """Choose immediate mail or a daily or weekly digest."""
    if mode not in dict(Subscriber.DELIVERY_MODES):
        raise ValidationError(f"Unknown delivery mode {mode!r}.")
    if mode == subscriber.delivery_mode:
        return
    if subscriber.delivery_mode == Subscriber.IMMEDIATE:
        # Everything published so far went (or is going) out immediately: the digest starts now.
        subscriber.digest_sent_until = timezone.now()
    subscriber.delivery_mode = mode
    subscriber.save(update_fields=["delivery_mode", "digest_sent_until"])


def set_language(subscriber: Subscriber, language: str) -> None:
    """Choose the language of one's mail ("" for the account's)."""
    if language and supported(language) != language:
        raise ValidationError(f"Unknown language {language!r}.")
    subscriber.language = language
    subscriber.save(update_fields=["language"])


def mark_distribution_list(subscriber: Subscriber, shared: bool) -> None:
    """Mark (or unmark) an address as shared by many people, such as a distribution list."""
    subscriber.distribution_list = shared
    subscriber.save(update_fields=["distribution_list"])


def delete_subscriber(subscriber: Subscriber) -> None:
    """Forget the address and everything it chose."""
    subscriber.delete()


def manage_url(subscriber: Subscriber) -> str:
    token = sign_id("subscriber", subscriber.pk)
    return settings.BASE_URL + reverse("subscribers:manage", args=[token])


def set_network(account: Account, member: bool) -> None:
    """Join or leave the network of accounts that recommend each other's topics."""
    SubscribeSettings.objects.update_or_create(account=account, defaults={"network": member})
