"""The reference scenario: the State Department's press release, relayed by wanabidii."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from tidings.accounts.actions import create_account
from tidings.accounts.models import Account, Membership
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.lists.actions import add_member, allow_sender, create_list
from tidings.lists.models import MailingList
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

PRESS_RELEASE = Path(__file__).resolve().parent.parent / "fixtures" / "press-release.md"
PUBLISHED_AT = datetime(2015, 12, 1, 12, 38, tzinfo=ZoneInfo("America/New_York"))
MEMBERS = [
    ("amina@example.org", "Amina"),
    ("baraka@example.net", "Baraka"),
    ("chiku@example.com", "Chiku"),
]
READER = "reader@example.org"


def admin_password() -> str:
    """Return the demo admin's password, generated once into the data directory."""
    path = settings.DATA_DIR / "demo_admin_password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


@transaction.atomic
def seed() -> dict[str, object]:
    """Create the scenario once; running it again changes nothing."""
    account = Account.objects.filter(code="USSTATEBPA").first() or create_account(
        code="USSTATEBPA",
        name="U.S. Department of State",
        sender_name="U.S. Department of State",
        sender_address=f"usstatebpa@{settings.MAIL_DOMAIN}",
        postal_address="2201 C Street NW · Washington, DC 20520",
        time_zone="America/New_York",
    )
    topic = Topic.objects.filter(account=account, code="USSTATEBPA_1").first() or create_topic(
        account,
        name="Press Releases",
        code="USSTATEBPA_1",
        description="Press releases and media notes from the Office of the Spokesperson.",
    )
    wanabidii = MailingList.objects.filter(name="wanabidii").first() or create_list(
        "wanabidii",
        account=account,
        display_name="wanabidii",
        description="A Kenyan discussion list that follows U.S. State Department press releases.",
        time_zone="Africa/Nairobi",
    )
    allow_sender(wanabidii, account.sender_address)
    for address, name in MEMBERS:
        add_member(wanabidii, address, name)
    subscribe(account, wanabidii.address, [topic], confirmed=True)
    reader = subscribe(account, READER, [topic], confirmed=True)

    User = get_user_model()
    password = admin_password()
    admin = User.objects.filter(username="admin").first() or User.objects.create_superuser(
        "admin", f"admin@{settings.MAIL_DOMAIN}", password
    )
    # The admin is also the account's admin member: the console lists the account for them.
    Membership.objects.get_or_create(
        user=admin, account=account, defaults={"role": Membership.ADMIN}
    )

    text = PRESS_RELEASE.read_text()
    title, _, body = text.partition("\n")
    bulletin = Bulletin.objects.filter(account=account, subject=title.strip()).first()
    send = None
    if bulletin is None:
        bulletin = create_bulletin(
            account, subject=title.strip(), body=body.strip(), topics=[topic]
        )
        send = publish_bulletin(bulletin, published_at=PUBLISHED_AT)
    return {
        "account": account,
        "topic": topic,
        "list": wanabidii,
        "reader": reader,
        "bulletin": bulletin,
        "send": send,
        "password": password,
    }


def urls(seeded: dict[str, object], base: str) -> list[tuple[str, str]]:
    from tidings.subscribers.links import subscriber_links

    wanabidii = seeded["list"]
    reader = seeded["reader"]
    account = seeded["account"]
    assert isinstance(wanabidii, MailingList) and isinstance(reader, Subscriber)
    assert isinstance(account, Account)
    links = subscriber_links(reader.pk)
    return [
        ("Home", f"{base}/"),
        ("Subscribe to the State Department", f"{base}/subscriptions/USSTATEBPA/"),
        ("wanabidii archive", f"{base}/lists/{wanabidii.name}/"),
        ("Publisher console (log in as admin)", f"{base}/console/{account.code}/"),
        ("Captured outbox", f"{base}/outbox/"),
        ("Administration", f"{base}/admin/"),
        (f"{READER}'s subscriptions", links["manage_url"]),
    ]
