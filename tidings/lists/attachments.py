"""The attachment policy: which parts of a post count as attachments of a refused type."""

from __future__ import annotations

from email.message import EmailMessage, Message

from tidings.lists.models import MailingList


def listed_types(mailing_list: MailingList) -> list[str]:
    return [t.strip().lower() for t in mailing_list.attachment_types.splitlines() if t.strip()]


def type_matches(content_type: str, patterns: list[str]) -> bool:
    """Say whether a content type is listed: exactly, or by family ("application/*")."""
    family = content_type.partition("/")[0] + "/*"
    return content_type in patterns or family in patterns


def listed_parts(mailing_list: MailingList, msg: Message) -> list[str]:
    """Return the content types of the post's leaf parts that the list's policy names."""
    patterns = listed_types(mailing_list)
    if not patterns:
        return []
    return [
        part.get_content_type()
        for part in msg.walk()
        if not part.is_multipart() and type_matches(part.get_content_type(), patterns)
    ]


def _note(content_type: str) -> EmailMessage:
    note = EmailMessage()
    note.set_content(f"[An attachment of type {content_type} was removed by the list.]\n")
    return note


def strip_attachments(mailing_list: MailingList, msg: EmailMessage) -> int:
    """Under the strip policy, replace each listed part with a short note; return how many."""
    if mailing_list.attachment_policy != MailingList.STRIP:
        return 0
    patterns = listed_types(mailing_list)
    if not patterns:
        return 0
    if not msg.is_multipart():
        content_type = msg.get_content_type()
        if not type_matches(content_type, patterns):
            return 0
        for name in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
            del msg[name]
        msg.set_content(_note(content_type).get_content())
        return 1
    removed = 0
    for part in list(msg.walk()):
        if not part.is_multipart():
            continue
        children = part.get_payload()
        assert isinstance(children, list)
        kept: list[Message | str] = []
        for child in children:
            if (
                isinstance(child, Message)
                and not child.is_multipart()
                and type_matches(child.get_content_type(), patterns)
            ):
                kept.append(_note(child.get_content_type()))
                removed += 1
            else:
                kept.append(child)
        part.set_payload(kept)
    return removed
