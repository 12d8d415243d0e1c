"""Header-bound values are refused the same way at every door, and what is let in travels whole.

Generated strings mix the characters no header may carry (every control character, NEL, the
line and paragraph separators U+2028 and U+2029, lone surrogates, the bidi overrides and
isolates) with ones that must pass (quotes, colons, `=?`, accents, CJK, emoji, zero-width
joiners, right-to-left marks). Each door (model validation, the API, the console's forms, the
command line) must refuse exactly the unsafe ones, naming the field; values it accepted must
then reach a subscriber's inbox in a bulletin and a member's in a relayed post, each header on
its one line and the value as it was entered.

The rule is written out here again (`unsafe()`), not imported: the test checks the code
against the issue's words, not against itself.
"""

from __future__ import annotations

import itertools
import unicodedata
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default
from email.utils import formataddr, parseaddr
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Model
from django.test import Client
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from tests.api.test_api_base import Api, api, api_as  # noqa: F401
from tests.smtp_helpers import Sink, sink_server
from tidings.accounts.models import Account, SenderIdentity
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin, MessageTemplate
from tidings.delivery.models import Send
from tidings.delivery.worker import process_chunk
from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import route_one
from tidings.lib.mail import POLICY
from tidings.lists.models import MailingList, Member
from tidings.topics.models import Category, Topic

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
UNSAFE = [
    "\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9b",
    "\u2028", "\u2029", "\ud800", "\udfff", "\udc80", "\u202e", "\u2066", "\u202a",
]  # fmt: skip
# Characters a header may carry, some of which the writer must quote or encode.
TRICKY = [
    '"', "\\", ":", ";", ",", "=?", "?=", "=?utf-8?q?x?=", "<", ">", "(", ")", "@", "'", "[",
    " ", "  ", "\u00a0", "é", "中文", "🤝", "👩\u200d💻", "\u200c", "\u200f", "\u200e", "\u00ad",
    "\ufeff", " Bcc: x@attacker.example", "Subject: x", "\u0645\u0631\u062d\u0628\u0627",
]  # fmt: skip

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis directory in the tree
    # A failure is reported as found: shrinking it, a send and a relay per try, takes minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def unsafe(value: str) -> bool:
    """The issue's rule: a control (Cc, NEL among them), a line or paragraph separator, a bidi
    override or isolate, or anything UTF-8 cannot write (a lone surrogate)."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS:
            return True
        try:
            char.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def _strings(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # A letter first: every field may then be required, and none is blank.
    return st.lists(pieces, min_size=1, max_size=8).map(lambda parts: "N" + "".join(parts))


values = _strings(st.one_of(st.sampled_from(UNSAFE), st.sampled_from(TRICKY), st.text(max_size=3)))
safe_values = _strings(
    st.one_of(
        st.sampled_from(TRICKY),
        st.text(
            st.characters(
                exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=BIDI_CONTROLS
            ),
            min_size=1,
            max_size=3,
        ),
    )
)
serial = itertools.count(1)


def _errors(instance: Model) -> dict[str, list[str]]:
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


# --- the doors ---------------------------------------------------------------------------------


@EXAMPLES
@given(value=values)
@example(value="N\u2028Bcc: x@attacker.example")
@example(value="N\u2029")
@example(value="N\ud800")
def test_model_validation_refuses_exactly_the_unsafe_values(
    value: str, account: Account, topic: Topic, wanabidii: MailingList
) -> None:
    fields: list[tuple[Model, str, int]] = [
        (Topic(account=account, code="X_1"), "name", 200),
        (Topic(account=account, code="X_1"), "short_name", 100),
        (Category(account=account), "name", 200),
        (Account(code="X", sender_address="x@example.org"), "name", 200),
        (Account(code="X", sender_address="x@example.org", name="X"), "sender_name", 200),
        (SenderIdentity(account=account, address="x@example.org"), "name", 200),
        (MailingList(name="x", address="x@example.org"), "display_name", 200),
        (MailingList(name="x", address="x@example.org"), "subject_tag", 64),
        (Member(mailing_list=wanabidii, address="x@example.org"), "name", 200),
        (Bulletin(account=account, body="x"), "subject", 300),
        (MessageTemplate(account=account), "name", 100),
    ]
    for instance, field, length in fields:
        entered = value[:length]
        setattr(instance, field, entered)
        errors = _errors(instance)
        where = f"{type(instance).__name__}.{field} = {entered!r}"
        assert (field in errors) == unsafe(entered), where
        if field in errors:
            assert "control characters" in " ".join(errors[field]), where


@EXAMPLES
@given(value=values)
@example(value="N\u2028Bcc: x@attacker.example")
@example(value="N\ud800")
def test_the_api_answers_422_naming_the_field(
    value: str,
    api: Api,  # noqa: F811
    topic: Topic,
    wanabidii: MailingList,
) -> None:
    n = next(serial)
    calls: list[tuple[str, str, dict[str, Any], str, Any]] = [
        ("post", "/topics", {"name": value}, "name", lambda: Topic.objects.last().name),  # type: ignore[union-attr]
        ("patch", f"/topics/{topic.pk}", {"short_name": value}, "short_name",
         lambda: Topic.objects.get(pk=topic.pk).short_name),
        ("post", "/bulletins", {"subject": value, "body": "x", "topics": [topic.pk]}, "subject",
         lambda: Bulletin.objects.last().subject),  # type: ignore[union-attr]
        ("post", "/lists", {"name": f"list{n}", "display_name": value}, "display_name",
         lambda: MailingList.objects.get(name=f"list{n}").display_name),
        ("post", f"/lists/{wanabidii.pk}/members", {"address": f"m{n}@example.org", "name": value},
         "name", lambda: Member.objects.get(address=f"m{n}@example.org").name),
    ]  # fmt: skip
    for method, path, body, field, stored in calls:
        response = getattr(api, method)(path, body)
        where = f"{method.upper()} {path} {body!r}: {response.status_code} {response.content!r}"
        if unsafe(value):
            assert response.status_code == 422, where
            assert [e["field"] for e in response.json()["errors"]] == [field], where
        else:
            assert response.status_code in (200, 201), where
            assert stored() == value, where


def _form_data(form: Any) -> dict[str, Any]:
    """What a browser posts for a form as it is shown: each field's current value."""
    data: dict[str, Any] = {}
    for name in form.fields:
        shown = form[name].value()
        if shown is None or shown is False:
            continue
        data[name] = "on" if shown is True else shown
    return data


@EXAMPLES
@given(value=values)
@example(value="N\u2028Bcc: x@attacker.example")
@example(value="N\u202eevil")
@example(value="N\u2028")
def test_the_console_shows_a_form_error_on_the_field(
    value: str,
    client: Client,
    alice: Any,
    account: Account,
    wanabidii: MailingList,
) -> None:
    from tidings.console.forms import AccountSettingsForm, TopicForm
    from tidings.lists.forms import SettingsForm

    # A form post is UTF-8: a lone surrogate has no bytes (Django reads broken ones as U+FFFD).
    assume(not any("\ud800" <= char <= "\udfff" for char in value))
    wanabidii.account = account
    wanabidii.save(update_fields=["account"])
    client.force_login(alice)
    n = next(serial)
    base = f"/console/{account.code}"
    account.refresh_from_db()
    wanabidii.refresh_from_db()
    pages: list[tuple[str, dict[str, Any], str, Any]] = [
        (f"{base}/settings/", _form_data(AccountSettingsForm(instance=account)), "sender_name",
         lambda: Account.objects.get(pk=account.pk).sender_name),
        (f"{base}/topics/new/", _form_data(TopicForm(account=account)), "name",
         lambda: Topic.objects.last().name),  # type: ignore[union-attr]
        (f"{base}/senders/", {"address": f"s{n}@example.org"}, "name",
         lambda: SenderIdentity.objects.get(address=f"s{n}@example.org").name),
        (f"{base}/lists/{wanabidii.name}/", _form_data(SettingsForm(instance=wanabidii)),
         "display_name", lambda: MailingList.objects.get(pk=wanabidii.pk).display_name),
    ]  # fmt: skip
    # A form field strips the whitespace around a value (U+2028 is whitespace to Python).
    entered = value.strip()
    for path, data, field, stored in pages:
        response = client.post(path, {**data, field: value})
        where = f"POST {path} {field}={value!r}: {response.status_code}"
        if unsafe(entered):
            assert response.status_code in (200, 400), where
            assert field in response.context["form"].errors, where
        else:
            assert response.status_code == 302, (where, response.context["form"].errors)
            assert stored() == entered, where


@EXAMPLES
@given(value=values)
@example(value="N\u2028Bcc: x@attacker.example")
@example(value="N\x85")
def test_the_command_line_fails_naming_the_field(value: str, account: Account) -> None:
    n = next(serial)
    commands: list[tuple[str, list[str], dict[str, Any], str, Any]] = [
        ("create_topic", [], {"account": account.code, "name": value}, "name",
         lambda: Topic.objects.last().name),  # type: ignore[union-attr]
        ("create_list", [f"cli{n}"], {"account": account.code, "display_name": value},
         "display_name", lambda: MailingList.objects.get(name=f"cli{n}").display_name),
        ("create_account", [], {"code": f"CLI{n}", "name": "CLI", "sender_name": value,
                                "sender_address": f"cli{n}@example.org"}, "sender_name",
         lambda: Account.objects.get(code=f"CLI{n}").sender_name),
    ]  # fmt: skip
    for command, args, options, field, stored in commands:
        where = f"{command} {args!r} {options!r}"
        if unsafe(value):
            with pytest.raises(CommandError) as refused:
                call_command(command, *args, stdout=StringIO(), **options)
            assert str(refused.value).startswith(f"{field}: "), (where, str(refused.value))
        else:
            call_command(command, *args, stdout=StringIO(), **options)
            assert stored() == value, where


# --- what was let in, sent and relayed ---------------------------------------------------------


def _header_lines(data: bytes) -> list[str]:
    """The header section's logical lines, each unfolded."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 8-bit in a header: a failure too
    return head.replace("\r\n ", " ").replace("\r\n\t", "\t").split("\r\n")


def _one_header_each(data: bytes) -> EmailMessage:
    """Check every line is a header of its own and none is there twice; return the message."""
    names = [line.partition(":")[0].lower() for line in _header_lines(data)]
    assert all(name and " " not in name for name in names), names
    for once in ("from", "to", "subject", "list-id", "message-id", "date", "bcc", "cc"):
        assert names.count(once) <= 1, (once, names)
    assert "bcc" not in names
    msg = message_from_bytes(data, policy=default)
    assert isinstance(msg, EmailMessage)
    assert not msg.defects and all(not h.defects for h in msg.values()), msg.defects  # type: ignore[attr-defined]
    return msg


def _squashed(text: str) -> str:
    """Text as it reads: runs of spaces are one (a subject is written so on purpose; between
    the words of a phrase, RFC 5322 gives them no meaning)."""
    return " ".join(text.split())


def _phrase(data: bytes, header: str) -> tuple[str, str]:
    """Return the name of a `name <id>` header as an RFC 2047 reader shows it (Python's address
    parser reads a space between two encoded words; RFC 2047 says to ignore it), and the <id>
    as written: outside any encoded word, where filters look for it."""
    raw = next(line for line in _header_lines(data) if line.startswith(f"{header}: "))
    phrase, _, rest = raw[len(header) + 2 :].rpartition("<")
    phrase = phrase.strip()
    if phrase.startswith('"'):
        name = parseaddr(f"{phrase} <x@example.org>")[0]
    else:
        name = str(make_header(decode_header(phrase)))
    return _squashed(name), rest.removesuffix(">")


def _received_by(sink: Sink, address: str) -> bytes:
    found = [data for _, rcpts, data in sink.received if address in rcpts]
    assert len(found) == 1, sink.received
    return found[0]


@EXAMPLES
@given(topic_name=safe_values, sender_name=safe_values, title=safe_values)
@example(topic_name='N"quoted" \\ (c) =?x?=', sender_name="N, Bcc: x@a.example", title="N  a")
@example(
    # Python's folder wrote this From as `=?utf-8?…?= Bcc: x@attacker.example, y@… <…>`: a group.
    topic_name="N" + "ü" * 90,
    sender_name="Ñews: Bcc: x@attacker.example, y@attacker.example and a name long enough to fold",
    title="N" + "ä" * 200,
)
def test_accepted_values_reach_a_subscriber_whole(
    topic_name: str, sender_name: str, title: str, account: Account, topic: Topic, bob: Any
) -> None:
    topic.name = topic_name
    topic.full_clean()
    topic.save()
    account.sender_name = sender_name
    account.full_clean()
    account.save()
    bulletin = create_bulletin(account, subject=title, body="Text.", topics=[topic])
    send = publish_bulletin(bulletin)
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    send.refresh_from_db()
    data = _received_by(sink, "bob@example.org")
    msg = _one_header_each(data)
    assert [a.addr_spec for a in msg["From"].addresses] == [account.sender_address]
    assert _phrase(data, "From") == (_squashed(sender_name), account.sender_address)
    assert msg["Subject"] == _squashed(f"{topic_name}: {title}")
    list_id = f"{topic.code.lower().replace('_', '-')}.{django_settings.MAIL_DOMAIN}"
    assert _phrase(data, "List-Id") == (_squashed(topic_name), list_id)


@EXAMPLES
@given(display_name=safe_values, author=safe_values, subject=safe_values)
@example(display_name='N"News" \\ ', author="N (x) <y>", subject="N\u00a0=?utf-8?q?a?=")
def test_accepted_values_reach_a_list_member_whole(
    display_name: str,
    author: str,
    subject: str,
    account: Account,
    wanabidii: MailingList,
) -> None:
    wanabidii.display_name = display_name
    wanabidii.full_clean()
    wanabidii.save()
    post = EmailMessage(policy=POLICY)  # Tidings' folder: an encoded word stays text
    post["From"] = formataddr((author, account.sender_address))
    post["To"] = wanabidii.address
    post["Subject"] = subject
    post["Message-ID"] = f"<post{next(serial)}@example.org>"
    post.set_content("Hello members.")
    message = store_message(
        post.as_bytes(), mail_from=account.sender_address, local_rcpts=[wanabidii.address],
        captured_rcpts=[],
    )  # fmt: skip
    assert route_one()
    message.refresh_from_db()
    assert message.state == InboundMessage.DONE, message.notes
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    assert Send.objects.filter(kind=Send.LIST_POST).exists()
    data = _received_by(sink, "carol@example.net")
    msg = _one_header_each(data)
    assert _phrase(data, "List-Id") == (_squashed(display_name), wanabidii.list_id)
    assert _squashed(str(msg["Subject"])) == _squashed(f"{wanabidii.subject_tag} {subject}")
    assert [a.addr_spec for a in msg["From"].addresses] == [account.sender_address]
    assert _phrase(data, "From") == (_squashed(author), account.sender_address)


@settings(max_examples=200, deadline=None, database=None)
@given(names=st.lists(safe_values, min_size=1, max_size=3), header=st.sampled_from(["From", "To"]))
def test_every_mailbox_header_reads_back_as_its_mailboxes(names: list[str], header: str) -> None:
    addresses = [f"p{index}@example.org" for index in range(len(names))]
    msg = EmailMessage(policy=POLICY)
    msg[header] = ", ".join(formataddr(pair) for pair in zip(names, addresses, strict=True))
    data = msg.as_bytes()
    lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert all(len(line) <= 76 for line in lines), lines
    parsed = message_from_bytes(data, policy=default)[header]
    assert [a.addr_spec for a in parsed.addresses] == addresses
