"""Joining and leaving lists: requests confirmed by link or by reply, invitations, commands.

Every join and leave is confirmed by the owner of the address: a request row is created and a
mail carries its signed code, both as a link (`/lists/<name>/confirm/<code>/`) and as a reply
address (`<name>-confirm+<code>@`). Answers never tell a stranger whether an address is a member.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tidings.lib.headers import validate_line
from tidings.lib.languages import supported
from tidings.lib.mail import header_addresses, normalize
from tidings.lib.tokens import BadToken, ExpiredToken
from tidings.lists.members import find_member
from tidings.lists.models import MailingList, Member, MembershipRequest
from tidings.lists.notices import send_notice
from tidings.lists.rules import plain_text
from tidings.lists.tokens import confirm_token, read_confirm_token, read_member_token

__all__ = ["read_member_token"]

# A second identical request within this time sends no second mail (no mail bombing by form).
RESEND_AFTER = timedelta(minutes=10)

JOIN_WORDS = {"subscribe", "join"}
LEAVE_WORDS = {"unsubscribe", "leave", "remove", "signoff"}
HELP_WORDS = {"help", "info"}
MAX_COMMAND_LINES = 10


def confirm_url(request: MembershipRequest) -> str:
    name = request.mailing_list.name
    return settings.BASE_URL + reverse("lists:confirm", args=[name, confirm_token(request.pk)])


def confirm_address(request: MembershipRequest) -> str:
    mailing_list = request.mailing_list
    return f"{mailing_list.name}-confirm+{confirm_token(request.pk)}@{mailing_list.domain}"


def add_member(
    mailing_list: MailingList,
    address: str,
    name: str = "",
    delivery_mode: str = Member.EACH,
    language: str = "",
) -> Member:
    """Put an address on the list at once (owners, imports, confirmed requests)."""
    address = clean_address(address)
    validate_line(name)
    member, _created = Member.objects.get_or_create(
        mailing_list=mailing_list,
        address=address,
        defaults={"name": name, "delivery_mode": delivery_mode, "language": language},
    )
    return member


def _request(
    mailing_list: MailingList,
    address: str,
    action: str,
    delivery_mode: str = Member.EACH,
    language: str = "",
) -> tuple[MembershipRequest, bool]:
    """Return a pending request and whether it is new (and so needs a mail)."""
    recent = MembershipRequest.objects.filter(
        mailing_list=mailing_list,
        address=address,
        action=action,
        done__isnull=True,
        created__gte=timezone.now() - RESEND_AFTER,
    ).first()
    if recent is not None:
        return recent, False
    request = MembershipRequest.objects.create(
        mailing_list=mailing_list,
        address=address,
        action=action,
        delivery_mode=delivery_mode,
        language=supported(language),
    )
    return request, True


def _send_confirmation(request: MembershipRequest, name: str, **context: object) -> None:
    code = confirm_token(request.pk)
    send_notice(
        request.mailing_list,
        [request.address],
        name,
        {
            "request": request,
            "code": code,
            "confirm_url": confirm_url(request),
            "confirm_address": confirm_address(request),
            "days": settings.LIST_INVITE_DAYS
            if request.action == MembershipRequest.INVITE
            else settings.LIST_CONFIRM_DAYS,
            **context,
        },
        reply_to=confirm_address(request),
        language=request.language,  # else the member's (a leave), else the list's
    )


def clean_address(address: str) -> str:
    from django.core.validators import validate_email

    address = normalize(address)
    validate_line(address)
    validate_email(address)
    return address


def request_join(
    mailing_list: MailingList, address: str, delivery_mode: str = Member.EACH, language: str = ""
) -> MembershipRequest | None:
    """Ask the address's owner to confirm joining; a member is told so instead, by mail only."""
    address = clean_address(address)
    if delivery_mode not in dict(Member.DELIVERY_MODES):
        raise ValidationError(f"Unknown delivery mode {delivery_mode!r}.")
    with transaction.atomic():
        if find_member(mailing_list, address) is not None:
            # Tell the member (only them), at most once per RESEND_AFTER: a row marks the mail.
            told = MembershipRequest.objects.filter(
                mailing_list=mailing_list,
                address=address,
                action=MembershipRequest.JOIN,
                created__gte=timezone.now() - RESEND_AFTER,
            ).exists()
            if not told:
                MembershipRequest.objects.create(
                    mailing_list=mailing_list,
                    address=address,
                    action=MembershipRequest.JOIN,
                    done=timezone.now(),
                )
                send_notice(mailing_list, [address], "already_member", {}, auto="auto-replied")
            return None
        request, new = _request(
            mailing_list, address, MembershipRequest.JOIN, delivery_mode, language
        )
        if new:
            _send_confirmation(request, "confirm_join")
    return request


def request_leave(mailing_list: MailingList, address: str) -> MembershipRequest | None:
    """Ask a member to confirm leaving; for a non-member nothing happens (and nothing says so)."""
    address = clean_address(address)
    with transaction.atomic():
        member = find_member(mailing_list, address)
        if member is None:
            return None
        request, new = _request(mailing_list, member.address, MembershipRequest.LEAVE)
        if new:
            _send_confirmation(request, "confirm_leave")
    return request


def invite(mailing_list: MailingList, address: str, *, by: str = "") -> MembershipRequest | None:
    """Invite an address to join: the mail carries a signed accept link; members are skipped."""
    address = clean_address(address)
    with transaction.atomic():
        if find_member(mailing_list, address) is not None:
            return None
        request, new = _request(mailing_list, address, MembershipRequest.INVITE)
        if new:
            _send_confirmation(request, "invite", inviter=by)
    return request


def read_request(mailing_list: MailingList, code: str) -> MembershipRequest:
    """Return the pending request a code names; raise BadToken or ExpiredToken."""
    return pending_request(mailing_list, read_confirm_token(code))


def pending_request(mailing_list: MailingList, pk: int) -> MembershipRequest:
    """Return the list's request #pk if it can still be confirmed; raise BadToken if not."""
    request = MembershipRequest.objects.filter(pk=pk, mailing_list=mailing_list).first()
    if request is None:
        raise BadToken(_("This link is not valid."))
    if request.done is not None:
        raise BadToken(_("This request was already confirmed."))
    days = (
        settings.LIST_INVITE_DAYS
        if request.action == MembershipRequest.INVITE
        else settings.LIST_CONFIRM_DAYS
    )
    if request.created < timezone.now() - timedelta(days=days):
        raise ExpiredToken(_("This link has expired; please ask again."))
    return request


def remove_member(mailing_list: MailingList, address: str) -> bool:
    """Take an address off the list; return whether it was a member."""
    member = find_member(mailing_list, address)
    if member is None:
        return False
    member.delete()
    return True


def set_delivery_mode(member: Member, mode: str) -> Member:
    """Change how a member gets the list's mail: each post, a digest, or nothing."""
    if mode not in dict(Member.DELIVERY_MODES):
        raise ValidationError(f"Unknown delivery mode {mode!r}.")
    Member.objects.filter(pk=member.pk).update(delivery_mode=mode)
    member.delivery_mode = mode
    return member


def confirm(request: MembershipRequest) -> str:
    """Carry out a confirmed request, once; return what happened, for the page or the note."""
    mailing_list = request.mailing_list
    with transaction.atomic():
        claimed = MembershipRequest.objects.filter(pk=request.pk, done__isnull=True).update(
            done=timezone.now()
        )
        if claimed != 1:
            raise BadToken(_("This request was already confirmed."))
        if request.action == MembershipRequest.LEAVE:
            remove_member(mailing_list, request.address)
            # Translators: an address left a list, e.g. "ann@example.org left news@example.org."
            return _("%(address)s left %(list)s.") % {
                "address": request.address,
                "list": mailing_list.address,
            }
        if find_member(mailing_list, request.address) is None:
            add_member(
                mailing_list,
                request.address,
                delivery_mode=request.delivery_mode,
                language=request.language,
            )
        send_notice(mailing_list, [request.address], "welcome", {})
    # Translators: an address joined a list, e.g. "ann@example.org joined news@example.org."
    return _("%(address)s joined %(list)s.") % {
        "address": request.address,
        "list": mailing_list.address,
    }


def unsubscribe_by_token(token: str) -> MailingList:
    """Remove the member a one-click token names (RFC 8058); raise BadToken."""
    list_id, address = read_member_token(token)
    mailing_list = MailingList.objects.filter(pk=list_id).first()
    if mailing_list is None:
        raise BadToken(_("This list no longer exists."))
    remove_member(mailing_list, address)
    return mailing_list


def send_help(mailing_list: MailingList, to: str) -> None:
    join_url = settings.BASE_URL + reverse("lists:join", args=[mailing_list.name])
    leave_url = settings.BASE_URL + reverse("lists:leave", args=[mailing_list.name])
    send_notice(
        mailing_list,
        [to],
        "help",
        {"join_url": join_url, "leave_url": leave_url},
        auto="auto-replied",
    )


# Mail commands ---------------------------------------------------------------------------


def wants_no_reply(msg: EmailMessage, mail_from: str) -> bool:
    """Never answer a null sender, a robot or another list: that is how mail loops start."""
    if not mail_from:
        return True
    if str(msg.get("Auto-Submitted", "no")).strip().lower() != "no":
        return True
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return precedence in ("bulk", "junk", "list") or bool(msg.get("List-Id"))


def command_sender(msg: EmailMessage, mail_from: str) -> str:
    """Return the address a command acts for: From, else the envelope sender."""
    found = header_addresses([str(v) for v in msg.get_all("From", [])])
    return found[0] if found else normalize(mail_from)


def command_lines(msg: EmailMessage) -> list[str]:
    """Return the subject and the first lines of the body, where commands are written."""
    subject = str(msg.get("Subject", "")).strip()
    for prefix in ("re:", "aw:", "fwd:", "fw:"):
        if subject.lower().startswith(prefix):
            subject = subject[len(prefix) :].strip()
    lines = [subject]
    for line in plain_text(msg).split("\n"):
        line = line.strip()
        if line == "--" or line.startswith(">"):
            break
        if line:
            lines.append(line)
        if len(lines) > MAX_COMMAND_LINES:
            break
    return lines


def parse_command(msg: EmailMessage) -> tuple[str, str]:
    """Return the first command found ("join", "leave", "help", "confirm") and its argument."""
    for line in command_lines(msg):
        words = line.lower().split()
        if not words:
            continue
        word = words[0].strip(".,:;!")
        if word in JOIN_WORDS:
            return "join", ""
        if word in LEAVE_WORDS:
            return "leave", ""
        if word in HELP_WORDS:
            return "help", ""
        if word == "confirm" and len(words) > 1:
            return "confirm", words[1].strip(".,:;!")
    return "", ""


def confirm_by_mail(mailing_list: MailingList, request_id: int) -> str:
    """Confirm a request by a reply to its -confirm+code address (the code was checked)."""
    try:
        return confirm(pending_request(mailing_list, request_id))
    except BadToken as exc:
        return f"not confirmed: {exc}"


def handle_command(mailing_list: MailingList, kind: str, msg: EmailMessage, mail_from: str) -> str:
    """Act on mail to a list's -join, -leave, -request or -confirm address; return a note."""
    if wants_no_reply(msg, mail_from):
        return "ignored: automatic mail or a null sender"
    sender = command_sender(msg, mail_from)
    command, argument = parse_command(msg) if kind == "request" else (kind, "")
    try:
        if command == "join":
            request_join(mailing_list, sender)
            return f"join requested for {sender}"
        if command == "leave":
            request_leave(mailing_list, sender)
            return f"leave requested for {sender}"
        if command == "confirm":
            try:
                return confirm_by_mail(mailing_list, read_confirm_token(argument))
            except BadToken:
                return "not confirmed: the code is not valid"
    except ValidationError:
        return f"ignored: {sender!r} is not a valid address"
    send_help(mailing_list, sender)
    return f"sent help to {sender}"
