"""Two accounts with one of every object a URL can name, and the people who visit them.

tests/invariants/test_routes_roles.py fills every route's converters from these: account A's
objects for the walk, account B's to check that another tenant's ids are never found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from tidings.accounts.actions import add_member, add_sender_identity, create_account
from tidings.accounts.media import store
from tidings.api.actions import create_token
from tidings.archive.actions import UNSUBSCRIBE_PURPOSE, add_comment, archive_post
from tidings.bulletins.actions import create_bulletin, publish_bulletin, save_template
from tidings.delivery.actions import send_message
from tidings.delivery.notices import notice
from tidings.feeds.models import Item, Watch
from tidings.inbound.actions import store_message
from tidings.inbound.router import parse
from tidings.lib.tokens import make_token
from tidings.lists import membership as list_membership
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList
from tidings.lists.tokens import confirm_token, member_token
from tidings.subscribers.actions import confirmation_url, subscribe, suppress
from tidings.subscribers.actions import settings_for as subscribe_settings_for
from tidings.subscribers.links import subscriber_links
from tidings.subscribers.models import ImportJob
from tidings.subscribers.network import offer_token
from tidings.texts.actions import set_keyword, subscribe_number
from tidings.texts.gateways import hook_token
from tidings.texts.models import Phone
from tidings.topics.actions import create_topic, save_category
from tidings.tracking.actions import settings_for as tracking_settings_for
from tidings.tracking.models import Link
from tidings.tracking.tokens import recipient_token

# One pixel of PNG: the media library checks images by their bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
)

POST = (
    "From: Ann <ann@example.org>\r\nTo: {name}@lists.tidings.localhost\r\n"
    "Subject: Migration talks\r\nDate: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    "Message-ID: <talks-{name}@example.org>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nThe talks were productive.\r\n"
    "--b\r\nContent-Type: text/plain; name=notes.txt\r\n"
    "Content-Disposition: attachment; filename=notes.txt\r\n\r\nNotes.\r\n--b--\r\n"
)

CAPTURED = (
    b"From: usstatebpa@tidings.localhost\r\nTo: someone@example.com\r\n"
    b"Subject: Captured\r\nMessage-ID: <captured@tidings.localhost>\r\n\r\nKept.\r\n"
)


def _token_in(url: str) -> str:
    """The last path segment of a signed link."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


@dataclass
class Tenant:
    """One account's objects, by the names the route table uses."""

    code: str
    ids: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def build_tenant(code: str, n: int) -> Tenant:
    """Create an account with one of everything; `n` keeps names unique across tenants."""
    account = create_account(
        code=code,
        name=f"Agency {code}",
        sender_address=f"{code.lower()}@tidings.localhost",
        postal_address="1 Main Street",
    )
    t = Tenant(code=code)
    topic1 = create_topic(account, name=f"Press {n}", code=f"{code}_1")
    topic2 = create_topic(account, name=f"Travel {n}", code=f"{code}_2")
    category = save_category(account, name=f"Category {n}", parent=None)
    identity = add_sender_identity(account, name="Press Office", address=account.sender_address)
    template = save_template(
        account, name=f"Plain {n}", header="{{ topic }}", footer="{{ account }}", layout="plain"
    )
    draft = create_bulletin(account, subject="Draft one", body="A **draft**.", topics=[topic1])
    draft2 = create_bulletin(account, subject="Draft two", body="Another.", topics=[topic2])
    subscriber = subscribe(account, f"reader{n}@example.org", [topic1, topic2], confirmed=True)
    # Before the bulletins: each sent one has a text send too.
    phone = subscribe_number(account, f"+1202555{n:04d}", [topic1, topic2])
    Phone.objects.filter(pk=phone.pk).update(status=Phone.CONFIRMED)
    sent = create_bulletin(
        account, subject="Sent one", body="See [the site](https://example.org/).", topics=[topic1]
    )
    send = publish_bulletin(sent)
    sent2 = create_bulletin(account, subject="Sent two", body="Travel.", topics=[topic2])
    send2 = publish_bulletin(sent2)
    link = Link.objects.create(bulletin=sent, position=1, url="https://example.org/")
    delivery = send.deliveries.order_by("pk").first()
    assert delivery is not None
    notice_send = send_message(
        notice(
            sender=("Tidings", account.sender_address),
            to="someone@example.org",
            subject="A notice",
            text="Hello.",
            kind="test",
        ),
        ["someone@example.org"],
        account=account,
    )
    public = create_list(f"open{n}", account=account)
    private = create_list(f"closed{n}", account=account)
    private.archive_public = False
    private.members_visible = True
    private.save(update_fields=["archive_public", "members_visible"])
    member = list_membership.add_member(public, f"member{n}@example.org", "Member")
    list_membership.add_member(private, f"member{n}@example.org", "Member")
    join = list_membership.request_join(public, f"joiner{n}@example.org")
    assert join is not None
    posts = {}
    for mailing_list in (public, private):
        msg, _ = parse(POST.format(name=mailing_list.name).encode())
        assert msg is not None
        posts[mailing_list.name] = archive_post(
            mailing_list, msg, received=datetime(2015, 12, 1, 17, 38, tzinfo=UTC)
        )
    post = posts[public.name]
    add_comment(post, name="Juma", email="juma@example.org", body="Asante.", ip="192.0.2.1")
    watch = Watch.objects.create(topic=topic1, url="http://127.0.0.1:9/feed.xml")
    feed_draft = create_bulletin(account, subject="From a feed", body="Item.", topics=[topic1])
    Item.objects.create(watch=watch, guid="g1", title="Item", content_hash="x", bulletin=feed_draft)
    job = ImportJob.objects.create(account=account, confirmed=True, filename="people.csv")
    suppression = suppress(account, f"gone{n}@example.org")
    set_keyword(topic1, f"PRESS{n}")
    media = store(account, SimpleUploadedFile(f"logo{n}.png", PNG, content_type="image/png"))
    token, _secret = create_token(account, name="CMS", role="viewer")
    t.ids.update(
        account=code,
        account_pk=account.pk,
        code=code,
        topic=topic1.pk,
        topic2=topic2.pk,
        topic_code=topic1.code,
        category=category.pk,
        identity=identity.pk,
        template=template.pk,
        draft=draft.pk,
        draft2=draft2.pk,
        sent=sent.pk,
        sent2=sent2.pk,
        send=send.pk,
        send2=send2.pk,
        notice_send=notice_send.pk,
        subscriber=subscriber.pk,
        list=public.name,
        list_id=public.pk,
        private=private.name,
        member=member.pk,
        post=post.slug,
        private_post=posts[private.name].slug,
        position=1,
        watch=watch.pk,
        feed_draft=feed_draft.pk,
        job=job.pk,
        suppression=suppression.pk,
        phone=phone.pk,
        media=media.filename,
        token=token.pk,
        link=link.pk,
    )
    subscriber_token = _token_in(subscriber_links(subscriber.pk)["manage_url"])
    t.secrets.update(
        subscriber_token=subscriber_token,
        confirm=_token_in(confirmation_url(subscriber, subscriber.email, [topic1], "nonce")),
        network=offer_token(subscriber, topic2),
        list_confirm=confirm_token(join.pk),
        list_member=member_token(public.pk, member.address),
        recipient=recipient_token(delivery.pk),
        comment_unsubscribe=make_token(UNSUBSCRIBE_PURPOSE, [post.pk, "juma@example.org"]),
    )
    return t


@dataclass
class World:
    a: Tenant
    b: Tenant
    users: dict[str, User]
    api_secrets: dict[str, str]
    outbox: int
    hook: str


def build_world() -> World:
    """Account A with its staff in every role, account B with its admin, and the others."""
    a = build_tenant("ROUTEA", 1)
    b = build_tenant("ROUTEB", 2)
    from tidings.accounts.models import Account

    account_a = Account.objects.get(code=a.code)
    account_b = Account.objects.get(code=b.code)
    users = {
        # No passwords: the walk logs in with sessions, and hashing costs a second each.
        "superuser": User.objects.create_superuser("root", "root@example.gov", None),
        "member": User.objects.create_user("member", "member1@example.org", None),
    }
    for role in ("admin", "topic_admin", "author", "viewer"):
        users[role] = User.objects.create_user(role, f"{role}@example.gov", None)
        topics = account_a.topics.filter(pk=a.ids["topic"]) if role == "author" else []
        membership = add_member(account_a, role, role, topics)
        a.ids["membership"] = membership.pk  # the viewer's, the last one
    users["outsider"] = User.objects.create_user("outsider", "outsider@example.gov", None)
    b.ids["membership"] = add_member(account_b, "outsider", "admin").pk
    api_secrets = {}
    for role in ("admin", "topic_admin", "author", "viewer"):
        api_secrets[f"token_{role}"] = create_token(account_a, name=role, role=role)[1]
    api_secrets["token_outsider"] = create_token(account_b, name="other", role="admin")[1]
    Group.objects.create(name="Operators")
    for account in (account_a, account_b):
        subscribe_settings_for(account)
        tracking_settings_for(account)
    captured = store_message(
        CAPTURED,
        mail_from="usstatebpa@tidings.localhost",
        local_rcpts=[],
        captured_rcpts=["someone@example.com"],
    )
    if not captured.captured:
        type(captured).objects.filter(pk=captured.pk).update(captured=True)
    return World(a, b, users, api_secrets, captured.pk, hook_token())


def fill(route: str, values: dict[str, Any]) -> str:
    """Return the path of a route string with each converter or group filled from values."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


__all__ = ["MailingList", "Tenant", "World", "build_world", "fill"]
