"""The moderation chain: small named rules, run in order; the first that decides says why."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tidings.lib.mail import header_addresses, normalize
from tidings.lists.attachments import listed_parts
from tidings.lists.models import ListMessage, ListSender, MailingList, Member


@dataclass(frozen=True)
class Decision:
    status: str
    rule: str
    reason: str


Rule = Callable[[MailingList, EmailMessage, str], Decision | None]

# Words that make a short post a request to the list software rather than to the members.
ADMINISTRIVIA = {"subscribe", "unsubscribe", "help", "join", "leave", "remove", "signoff"}
ADMINISTRIVIA_MAX_WORDS = 4

# The strongest override wins when a post's From, Sender and envelope sender name several.
# Only a held post's reason reaches its author (in the notice when it expires), so only that one
# is marked for translation (gettext_noop: translated when the rule decides); the others are
# read by staff.
SENDER_OUTCOMES = {
    ListSender.DISCARD: (
        ListMessage.DISCARDED,
        "sender-discard",
        "%(sender)s's posts are discarded.",
    ),
    ListSender.REJECT: (ListMessage.REJECTED, "sender-reject", "%(sender)s's posts are rejected."),
    ListSender.HOLD: (
        ListMessage.HELD,
        "sender-hold",
        gettext_noop("%(sender)s's posts are always held."),
    ),
    ListSender.ACCEPT: (ListMessage.ACCEPTED, "accept-list", "The sender is on the accept-list."),
}


def sender_candidates(msg: EmailMessage, mail_from: str) -> list[str]:
    """Return the addresses a post claims to come from: From, Sender, then the envelope sender."""
    values = [str(v) for name in ("From", "Sender") for v in msg.get_all(name, [])]
    candidates = header_addresses(values)
    if mail_from:
        candidates.append(normalize(mail_from).lower())
    return candidates


def from_addresses(msg: EmailMessage) -> list[str]:
    """Return the From addresses: the identity that accept-lists and membership are judged by
    (as Mailman does); Sender and the envelope are anybody's to write."""
    return header_addresses([str(v) for v in msg.get_all("From", [])])


def shown_sender(msg: EmailMessage, mail_from: str) -> str:
    candidates = sender_candidates(msg, mail_from)
    # Translators: stands for a post's sender in "... is not a member of ..." when it names none.
    return candidates[0] if candidates else _("an unknown sender")


def message_size(msg: Message) -> int:
    """Return about how many bytes the message takes on the wire, without serializing it."""
    size = sum(len(name) + len(str(value)) + 4 for name, value in msg.raw_items()) + 2
    payload = msg.get_payload()
    if isinstance(payload, list):
        return size + sum(message_size(part) for part in payload if isinstance(part, Message))
    return size + len(payload) if isinstance(payload, str | bytes) else size


def plain_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return ""  # an unknown charset: no text to judge
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""


def loop(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision | None:
    """Discard a post that already passed through this list."""
    been_there = [str(v).strip().lower() for v in msg.get_all("X-BeenThere", [])]
    if mailing_list.address.lower() in been_there:
        return Decision(
            ListMessage.DISCARDED, "loop", "The message already passed through this list."
        )
    return None


def banned(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision | None:
    """Discard a banned sender's post before a moderator ever sees it."""
    candidates = sender_candidates(msg, mail_from)
    ban = ListSender.objects.filter(
        mailing_list=mailing_list, action=ListSender.BAN, address__in=candidates
    ).first()
    if ban is None:
        return None
    return Decision(
        ListMessage.DISCARDED, "banned", f"{ban.address} is banned from {mailing_list.address}."
    )


def _is_command(text: str) -> bool:
    words = [w.strip(".,!:;").lower() for w in text.split()]
    if words[:1] == ["please"]:
        words = words[1:]
    return 0 < len(words) <= ADMINISTRIVIA_MAX_WORDS and words[0] in ADMINISTRIVIA


def administrivia(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision | None:
    """Hold a post that is only "subscribe", "unsubscribe" or "help": meant for the software."""
    body = plain_text(msg).split("\n-- \n")[0].strip()
    subject = str(msg.get("Subject", ""))
    if _is_command(body) or (not body and _is_command(subject)):
        return Decision(
            ListMessage.HELD,
            "administrivia",
            _(
                "The post looks like a request to subscribe, unsubscribe or get help, "
                "not a message for the members."
            ),
        )
    return None


def size(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision | None:
    """Hold a post larger than the list's maximum message size."""
    limit = mailing_list.max_message_size
    measured = message_size(msg)
    if not limit or measured <= limit:
        return None
    return Decision(
        ListMessage.HELD,
        "size",
        _("The post is about %(size)s bytes; the list's limit is %(limit)s bytes.")
        % {"size": measured, "limit": limit},
    )


def implicit_destination(
    mailing_list: MailingList, msg: EmailMessage, mail_from: str
) -> Decision | None:
    """Hold a post that does not name the list in To or Cc (a Bcc, often spam)."""
    values = [str(v) for name in ("To", "Cc") for v in msg.get_all(name, [])]
    if mailing_list.address.lower() in header_addresses(values):
        return None
    return Decision(
        ListMessage.HELD,
        "implicit-destination",
        # Translators: "To or Cc" are the names of the mail headers that list the recipients.
        _("%(address)s is not in the post's To or Cc.") % {"address": mailing_list.address},
    )


def sender_override(
    mailing_list: MailingList, msg: EmailMessage, mail_from: str
) -> Decision | None:
    """Apply the list's per-sender setting: always accept, always hold, reject or discard.

    Holds, rejects and discards match any address the post names; acceptance only its From.
    """
    candidates = sender_candidates(msg, mail_from)
    senders = from_addresses(msg)
    found = {
        action: address
        for action, address in ListSender.objects.filter(
            mailing_list=mailing_list, address__in=candidates, action__in=list(SENDER_OUTCOMES)
        ).values_list("action", "address")
        if action != ListSender.ACCEPT or address in senders
    }
    for action, (status, rule, reason) in SENDER_OUTCOMES.items():
        if action in found:
            return Decision(status, rule, _(reason) % {"sender": found[action]})
    return None


def posting_policy(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision | None:
    """Hold what the list's posting policy does not let through on its own."""
    policy = mailing_list.posting_policy
    shown = shown_sender(msg, mail_from)
    if policy == MailingList.OPEN_POSTING:
        return None
    if policy == MailingList.MODERATED:
        return Decision(
            ListMessage.HELD,
            "moderated",
            _("Every post to %(address)s is held for a moderator.")
            % {"address": mailing_list.address},
        )
    if policy == MailingList.MEMBERS:
        candidates = from_addresses(msg)
        # Members keep the case they were added with; senders are compared lowercased.
        members = Member.objects.filter(mailing_list=mailing_list).annotate(lower=Lower("address"))
        if members.filter(lower__in=candidates).exists():
            return None
        return Decision(
            ListMessage.HELD,
            "non-member",
            _("%(sender)s is not a member of %(address)s; held for a moderator.")
            % {"sender": shown, "address": mailing_list.address},
        )
    return Decision(
        ListMessage.HELD,
        "not-on-accept-list",
        _("%(sender)s is not allowed to post to %(address)s; held for a moderator.")
        % {"sender": shown, "address": mailing_list.address},
    )


def held_header_patterns(mailing_list: MailingList) -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for line in mailing_list.hold_headers.splitlines():
        name, colon, expression = line.partition(":")
        if not colon or not name.strip():
            continue
        try:
            pattern = re.compile(expression.strip(), re.IGNORECASE)
        except re.error:  # a typo in the setting still matches its literal text
            pattern = re.compile(re.escape(expression.strip()), re.IGNORECASE)
        patterns.append((name.strip(), pattern))
    return patterns


def suspicious_header(
    mailing_list: MailingList, msg: EmailMessage, mail_from: str
) -> Decision | None:
    """Hold a post with a header the list's hold_headers setting names (e.g. a spam flag)."""
    for name, pattern in held_header_patterns(mailing_list):
        for value in msg.get_all(name, []):
            if pattern.search(str(value)):
                return Decision(
                    ListMessage.HELD,
                    "suspicious-header",
                    # Translators: header is a mail header's name, pattern what it matched.
                    _("The %(header)s header matches %(pattern)s.")
                    % {"header": name, "pattern": repr(pattern.pattern)},
                )
    return None


def attachment_type(
    mailing_list: MailingList, msg: EmailMessage, mail_from: str
) -> Decision | None:
    """Hold a post carrying an attachment of a type the list refuses."""
    if mailing_list.attachment_policy != MailingList.REFUSE:
        return None
    found = listed_parts(mailing_list, msg)
    if not found:
        return None
    return Decision(
        ListMessage.HELD,
        "attachment-type",
        _("The post carries an attachment of a refused type: %(types)s.")
        % {"types": ", ".join(sorted(set(found)))},
    )


CHAIN: list[Rule] = [
    loop,
    banned,
    administrivia,
    size,
    attachment_type,
    implicit_destination,
    # Spam flags and suspicious headers before any accept rule: an accept-listed From is no
    # reason to relay what a filter flagged.
    suspicious_header,
    sender_override,
    posting_policy,
]


def run_chain(mailing_list: MailingList, msg: EmailMessage, mail_from: str) -> Decision:
    """Run every rule in order; the first that decides wins, and with none the post is accepted."""
    for rule in CHAIN:
        decision = rule(mailing_list, msg, mail_from)
        if decision is not None:
            return decision
    return Decision(
        ListMessage.ACCEPTED,
        "posting-policy",
        f"No rule held the post (posting policy: {mailing_list.posting_policy}).",
    )
