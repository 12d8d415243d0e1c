"""Writes of the texts app: numbers, text subscriptions, keywords, sends, texts received,
receipts."""

from __future__ import annotations

import logging
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from tidings.accounts.models import Account
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.lib import segments
from tidings.subscribers.actions import allow
from tidings.texts.models import (
    InboundText,
    Keyword,
    Phone,
    TextPart,
    TextProgram,
    TextSubscription,
)
from tidings.topics.models import Topic

log = logging.getLogger("tidings.texts")

# The words carriers require every program to honour (CTIA, and the common gateways' rules).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES", "Y"}
HELP_WORDS = {"HELP", "INFO"}
SUBSCRIBE_WORDS = {"SUBSCRIBE", "JOIN", "SIGNUP"}
KEYWORD = re.compile(r"^[A-Z0-9]{2,20}$")


def normalize_number(raw: str) -> str:
    """A mobile number in E.164 (+254712345678); raise ValidationError with the reason."""
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, settings.PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        message = gettext("%(number)s is not a phone number.") % {"number": repr(text)}
        raise ValidationError(message) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            gettext("%(number)s is not a valid phone number.") % {"number": repr(text)}
        )
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            gettext("%(number)s is not a mobile number: it can't receive text messages.")
            % {"number": repr(text)}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def program(account: Account) -> TextProgram:
    found, _ = TextProgram.objects.get_or_create(account=account)
    return found


def send_text(account: Account | None, number: str, text: str) -> Send:
    """Queue one text to one number (a confirmation, an answer): the texts role sends it."""
    segments.check(text)
    with transaction.atomic():
        send = Send.objects.create(
            kind=Send.NOTICE, channel=Send.TEXT, message=text.encode(), account=account
        )
        Delivery.objects.create(send=send, address=number)
    return send


def subscribe_number(
    account: Account,
    raw_number: str,
    topics: list[Topic],
    *,
    source: str = Phone.WEB,
    subscriber_id: int | None = None,
) -> Phone:
    """Give a number texts of these topics. From the web it must answer YES first (a text asks
    it); from a text of its own, or entered by staff, it is confirmed at once."""
    number = normalize_number(raw_number)
    if any(topic.account_id != account.pk for topic in topics):
        raise ValidationError("A topic of another account can't be chosen.")
    with transaction.atomic():
        phone, created = Phone.objects.select_for_update().get_or_create(
            account=account, number=number, defaults={"source": source}
        )
        if subscriber_id and phone.subscriber_id is None:
            phone.subscriber_id = subscriber_id
        for topic in topics:
            TextSubscription.objects.get_or_create(phone=phone, topic=topic)
        now = timezone.now()
        if source in (Phone.TEXT, Phone.CONSOLE):
            if phone.status != Phone.CONFIRMED:
                phone.status, phone.confirmed_at = Phone.CONFIRMED, now
        elif phone.status == Phone.STOPPED and not created:
            pass  # it said STOP: only its own START brings texts back, never a web form
        elif phone.status != Phone.CONFIRMED:
            phone.status = Phone.PENDING
            names = ", ".join(t.name for t in topics) or "updates"
            # One request text per number per interval, whoever types it in: a form open to
            # anyone must not be a way to flood somebody's phone.
            key = f"texts-confirm:{account.pk}:{number}"
            if allow(key, 1, settings.CONFIRM_MAIL_INTERVAL):
                send_text(
                    account,
                    number,
                    f"{account.name}: reply YES to get texts about {names}. "
                    "Msg&data rates may apply. Reply STOP to cancel, HELP for help.",
                )
        phone.save()
    return phone


def set_text_topics(phone: Phone, topics: list[Topic]) -> None:
    """The topics a number gets by text, exactly these."""
    with transaction.atomic():
        TextSubscription.objects.filter(phone=phone).exclude(topic__in=topics).delete()
        for topic in topics:
            TextSubscription.objects.get_or_create(phone=phone, topic=topic)


def stop_number(phone: Phone) -> None:
    Phone.objects.filter(pk=phone.pk).update(status=Phone.STOPPED, stopped_at=timezone.now())


def set_keyword(topic: Topic, word: str) -> Keyword | None:
    """The word that subscribes to a topic by text (empty: none)."""
    word = word.strip().upper()
    if not word:
        Keyword.objects.filter(topic=topic).delete()
        return None
    reserved = STOP_WORDS | START_WORDS | HELP_WORDS | SUBSCRIBE_WORDS
    if not KEYWORD.match(word) or word in reserved:
        raise ValidationError(
            f"{word!r} can't be a keyword: use 2 to 20 letters or digits, not one of "
            f"{', '.join(sorted(reserved))}."
        )
    taken = Keyword.objects.filter(account_id=topic.account_id, word=word).exclude(topic=topic)
    if taken.exists():
        raise ValidationError(f"{word!r} is the keyword of another topic already.")
    keyword, _ = Keyword.objects.update_or_create(
        topic=topic, defaults={"word": word, "account_id": topic.account_id}
    )
    return keyword


def text_followers(topic_ids: list[int]) -> QuerySet[TextSubscription]:
    """Who a bulletin of these topics reaches by text: confirmed numbers following one of them
    (a number following several is one recipient). A segment is of email subscribers' answers
    and does not narrow it."""
    return TextSubscription.objects.filter(topic_id__in=topic_ids, phone__status=Phone.CONFIRMED)


def text_recipient_count(bulletin: Bulletin) -> int:
    """How many numbers the bulletin's text send would reach now."""
    topic_ids = list(bulletin.topics.values_list("pk", flat=True))
    return text_followers(topic_ids).values("phone_id").distinct().count()


def start_bulletin_texts(bulletin: Bulletin) -> Send | None:
    """Start the text send of a bulletin just published: one row per confirmed number that
    follows one of its topics by text (the first of them), in one statement."""
    topic_ids = list(bulletin.topics.values_list("pk", flat=True))
    if not topic_ids or not text_followers(topic_ids).exists():
        return None
    send = Send.objects.create(
        kind=Send.BULLETIN, channel=Send.TEXT, bulletin=bulletin, state=Send.SENDING
    )
    in_topics = ", ".join(["%s"] * len(topic_ids))
    sql = f"""
        INSERT INTO {Delivery._meta.db_table}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, p.number, p.subscriber_id, MIN(sub.topic_id), %s, 0, '', ''
        FROM {TextSubscription._meta.db_table} sub
        JOIN {Phone._meta.db_table} p ON p.id = sub.phone_id
        WHERE sub.topic_id IN ({in_topics}) AND p.status = %s
        GROUP BY p.id, p.number, p.subscriber_id
    """  # noqa: S608 - table names come from models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [send.pk, Delivery.QUEUED, *topic_ids, Phone.CONFIRMED])
    return send


def account_for_number(destination: str) -> Account | None:
    """The account whose number a text was sent to (the only one, when none names it)."""
    digits = destination.lstrip("+")
    if digits:
        numbered = TextProgram.objects.filter(number__in=[digits, f"+{digits}"])
        found = numbered.select_related("account").first()
        if found is not None:
            return found.account
    accounts = list(Account.objects.all()[:2])
    return accounts[0] if len(accounts) == 1 else None


def help_answer(account: Account) -> str:
    settings_ = program(account)
    parts = [f"{account.name}: {settings_.help_text or 'news and updates by text.'}"]
    if settings_.contact:
        parts.append(f"Help: {settings_.contact}.")
    parts.append("Msg&data rates may apply. Reply STOP to cancel.")
    return " ".join(parts)


def handle_text(source: str, destination: str, body: str) -> InboundText:
    """Act on a text someone sent (keywords: STOP, START, HELP, SUBSCRIBE, a topic's word) and
    queue the answer. Every text is kept with what was done."""
    inbound = InboundText.objects.create(source=source, destination=destination, body=body[:2000])
    account = account_for_number(destination)
    words = re.sub(r"[^A-Za-z0-9 ]", " ", body).upper().split()
    first = words[0] if words else ""
    action, reply = "", ""
    try:
        number = normalize_number(source if source.startswith("+") else f"+{source}")
    except ValidationError:
        number = ""
    if account is None or not number:
        action = "ignored: unknown number" if account is None else "ignored: not a mobile number"
    elif first in STOP_WORDS:
        action, reply = _stop(account, number)
    elif first in HELP_WORDS or not first:
        action, reply = "help", help_answer(account)
    elif first in START_WORDS:
        action, reply = _start(account, number)
    else:
        action, reply = _subscribe(account, number, words)
    with transaction.atomic():
        InboundText.objects.filter(pk=inbound.pk).update(
            account=account, action=action, reply=reply
        )
        if reply and number:
            send_text(account, number, reply)
    inbound.refresh_from_db()
    return inbound


def _stop(account: Account, number: str) -> tuple[str, str]:
    phone = Phone.objects.filter(account=account, number=number).first()
    if phone is None or phone.status == Phone.STOPPED:
        # Answered all the same: carriers require a confirmation of every STOP.
        return "stop (was not subscribed)", f"{account.name}: you will get no texts from us."
    stop_number(phone)
    return "stop", (
        f"{account.name}: you are unsubscribed and will get no more texts. "
        "Reply START to subscribe again."
    )


def _start(account: Account, number: str) -> tuple[str, str]:
    phone = Phone.objects.filter(account=account, number=number).first()
    if phone is None:
        return "start (unknown number)", help_answer(account)
    Phone.objects.filter(pk=phone.pk).update(
        status=Phone.CONFIRMED, confirmed_at=timezone.now(), stopped_at=None
    )
    names = ", ".join(phone.topics.values_list("name", flat=True)) or "updates"
    return "start", (
        f"{account.name}: you will get texts about {names}. "
        "Msg&data rates may apply. Reply STOP to cancel, HELP for help."
    )


def _subscribe(account: Account, number: str, words: list[str]) -> tuple[str, str]:
    keywords = dict(
        Keyword.objects.filter(account=account).select_related("topic").values_list("word", "topic")
    )
    asked = words[1:] if words[0] in SUBSCRIBE_WORDS else words[:1]
    topic_ids = [keywords[w] for w in asked if w in keywords]
    if words[0] in SUBSCRIBE_WORDS and not asked:
        # SUBSCRIBE alone: every topic that has a keyword, else every listed topic.
        topic_ids = list(keywords.values()) or list(
            Topic.objects.filter(account=account, listed=True).values_list("pk", flat=True)
        )
    if not topic_ids:
        words_list = ", ".join(sorted(keywords)) or "SUBSCRIBE"
        return "unknown keyword", (
            f"{account.name}: we did not understand. Text {words_list} to subscribe, "
            "HELP for help, STOP to cancel."
        )
    topics = list(Topic.objects.filter(pk__in=topic_ids))
    subscribe_number(account, number, topics, source=Phone.TEXT)
    Phone.objects.filter(account=account, number=number).update(
        status=Phone.CONFIRMED, stopped_at=None
    )
    names = ", ".join(t.name for t in topics)
    return "subscribe", (
        f"{account.name}: you will get texts about {names}. "
        "Msg&data rates may apply. Reply STOP to cancel, HELP for help."
    )


# Delivery receipt states (SMPP stat:, the HTTP gateways' status) that mean the text never
# reached the handset.
UNDELIVERED = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNDELIVERED", "FAILED", "REJECTED"}


def record_receipts(receipts: list[tuple[str, str, str]]) -> int:
    """Record delivery receipts (gateway message id, state, detail): a text that never reached
    the handset fails in the ledger with the reason. Return how many named a known text.

    They come at the sending rate, so a batch costs a few statements whatever its size: one
    lookup per thousand ids, then one update per kind of outcome."""
    outcome: dict[str, tuple[str, str]] = {
        message_id: (state.upper()[:16], detail) for message_id, state, detail in receipts
    }
    found: list[tuple[int, str, int]] = []  # (part, message id, delivery)
    ids = list(outcome)
    for start in range(0, len(ids), 1000):
        found += TextPart.objects.filter(message_id__in=ids[start : start + 1000]).values_list(
            "pk", "message_id", "delivery_id"
        )
    by_outcome: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for part, message_id, delivery in found:
        parts, deliveries = by_outcome.setdefault(outcome[message_id], ([], []))
        parts.append(part)
        deliveries.append(delivery)
    with transaction.atomic():
        for (state, detail), (all_parts, all_deliveries) in by_outcome.items():
            for start in range(0, len(all_parts), 1000):
                parts, deliveries = (
                    all_parts[start : start + 1000],
                    all_deliveries[start : start + 1000],
                )
                TextPart.objects.filter(pk__in=parts).update(receipt=state)
                if state in UNDELIVERED:
                    reply = f"receipt: {state} {detail}".strip()[:2000]
                    Delivery.objects.filter(pk__in=deliveries).update(
                        state=Delivery.FAILED, last_reply=reply
                    )
                else:
                    Delivery.objects.filter(pk__in=deliveries, state=Delivery.SENT).update(
                        last_reply=f"receipt: {state}"
                    )
    return len({message_id for _, message_id, _ in found})
