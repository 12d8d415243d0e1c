"""Postfix in front of and behind Tidings, on loopback ports, as deploy/postfix/ sets it up.

In front, Postfix is the MX: mail for the lists domain and the mail domain's return paths goes
to Tidings' SMTP server. Behind, Tidings relays everything through it. A recipient that Postfix
accepts and the receiving server then refuses comes back as a DSN to the delivery's return path
and is suppressed.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp_helpers import free_port, sink_server, tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.inbound.models import InboundMessage
from tidings.ops.worker import drain
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Suppression

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def main_cf(root: Path, tidings_port: int, internet_port: int, lists: str, mail: str) -> str:
    to_tidings = f"smtp:[127.0.0.1]:{tidings_port}"
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
inet_interfaces = 127.0.0.1
myhostname = mx.tidings.test
mydomain = tidings.test
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# In front: the lists domain and the mail domain's return paths go to Tidings.
relay_domains = {lists}, {mail}
transport_maps = inline:{{ {lists}={to_tidings}, {mail}={to_tidings} }}
# Behind: everything else leaves for "the internet" (here: a test server).
default_transport = smtp:[127.0.0.1]:{internet_port}
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


@pytest.fixture
def postfix(settings) -> Iterator[tuple[int, Path]]:  # type: ignore[no-untyped-def]
    if shutil.which("postfix") is None or not Path("/etc/postfix").is_dir():
        pytest.skip("needs Debian's postfix package")
    if os.geteuid() != 0:
        pytest.skip("a Postfix instance of its own needs root to start")
    root = Path(tempfile.mkdtemp(prefix="tidings-postfix-"))
    root.chmod(0o755)  # Postfix's daemons run as the postfix user and must reach the queue
    (root / "etc").mkdir()
    (root / "queue").mkdir()
    (root / "data").mkdir()
    shutil.chown(root / "data", "postfix")
    yield free_port(), root
    subprocess.run(["postfix", "-c", str(root / "etc"), "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def start(root: Path, port: int, tidings_port: int, internet_port: int, settings) -> None:  # type: ignore[no-untyped-def]
    (root / "etc" / "main.cf").write_text(
        main_cf(root, tidings_port, internet_port, settings.LISTS_DOMAIN, settings.MAIL_DOMAIN)
    )
    (root / "etc" / "master.cf").write_text(MASTER.format(port=port))
    for action in ("check", "start"):
        done = subprocess.run(["postfix", "-c", str(root / "etc"), action], capture_output=True)
        assert done.returncode == 0, (action, done.stderr)
    deadline = time.monotonic() + 15
    while True:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return
        except OSError:
            assert time.monotonic() < deadline, "Postfix did not start listening"
            time.sleep(0.2)


def until(condition, seconds: float = 30) -> bool:  # type: ignore[no-untyped-def]
    """Run the worker's steps until condition() holds (Postfix works at its own pace)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        drain()
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_the_chain_runs_through_postfix_and_a_late_refusal_is_suppressed(  # type: ignore[no-untyped-def]
    postfix, settings, account, topic, wanabidii
) -> None:
    port, root = postfix
    with tidings_smtpd(settings) as tidings_port, sink_server() as internet:
        assert internet.relay is not None
        internet.replies["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
        start(root, port, tidings_port, internet.relay.port, settings)
        settings.SMTP_RELAY = f"smtp://127.0.0.1:{port}"  # Tidings relays through Postfix

        # In front: a post to the list arrives at Postfix, which hands it to Tidings.
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(
                account.sender_address,
                [wanabidii.address],
                f"From: {account.sender_address}\r\nTo: {wanabidii.address}\r\n"
                "Subject: Through the MX\r\nMessage-ID: <mx-1@example.org>\r\n\r\nHello.\r\n",
            )
        assert until(lambda: InboundMessage.objects.exists()), "Postfix never handed it over"
        # Behind: the members' copies leave through Postfix for "the internet".
        members = {"carol@example.net", "dave@example.com"}
        assert until(lambda: members <= set(internet.recipients())), internet.recipients()

        # A bulletin: Postfix takes both copies, the receiver refuses one later.
        for address in ("bob@example.org", "gone@example.org"):
            subscribe(account, address, [topic], confirmed=True)
        publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
        assert until(lambda: "bob@example.org" in internet.recipients())
        # Postfix's DSN comes back to the delivery's return path through the MX: suppressed.
        assert until(
            lambda: Suppression.objects.filter(email="gone@example.org").exists(), seconds=45
        ), "the late refusal never came back as a bounce"
    assert not Suppression.objects.filter(email="bob@example.org").exists()
