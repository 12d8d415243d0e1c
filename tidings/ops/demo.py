"""The reference scenario: the State Department's press release, relayed by wanabidii."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

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


def web_address(base_url: str) -> str:
    """Where the demo's web server listens: the base URL's own address when it is an http URL
    on an IP address (the printed links then reach it), else 127.0.0.1:8000."""
    parts = urlsplit(base_url)
    try:
        ip = ipaddress.ip_address(
            "127.0.0.1" if parts.hostname == "localhost" else parts.hostname or ""
        )
    except ValueError:
        return "127.0.0.1:8000"
    if parts.scheme != "http":
        return "127.0.0.1:8000"
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"{host}:{parts.port or 80}"


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
    """The pages the demo tells its user to open, reversed from the URL names so that a page
    that moves can't leave the demo printing a dead address."""
    from tidings.subscribers.links import subscriber_links

    wanabidii = seeded["list"]
    reader = seeded["reader"]
    account = seeded["account"]
    assert isinstance(wanabidii, MailingList) and isinstance(reader, Subscriber)
    assert isinstance(account, Account)
    links = subscriber_links(reader.pk)
    return [
        ("Home", base + reverse("home")),
        (
            "Subscribe to the State Department",
            base + reverse("subscribers:subscribe", args=[account.code]),
        ),
        ("wanabidii archive", base + reverse("archive:index", args=[wanabidii.name])),
        (
            "Publisher console (log in as admin)",
            base + reverse("console:account", args=[account.code]),
        ),
        ("Captured outbox", base + reverse("inbound:outbox")),
        ("Administration", base + reverse("admin:index")),
        (f"{READER}'s subscriptions", links["manage_url"]),
    ]
