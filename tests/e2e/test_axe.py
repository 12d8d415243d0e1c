"""axe-core (npm, pinned in tests/axe) finds no serious or critical violation on public and
console pages, in the machine's Chromium."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.paths import TESTS
from tidings.archive.actions import archive_post
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.inbound.router import parse

AXE = TESTS / "axe" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not AXE.exists(), reason="axe-core missing: npm ci --prefix tests/axe"),
    pytest.mark.django_db(transaction=True),
]
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '));
}"""
POST = (
    "From: Ann <ann@example.org>\r\nTo: wanabidii@lists.tidings.localhost\r\n"
    "Subject: Migration talks\r\nDate: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    "Message-ID: <talks@example.org>\r\n\r\nThe talks were productive.\r\n"
)


def test_no_serious_or_critical_violation(live_server, settings, account, topic, wanabidii, alice):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    settings.BASE_URL = live_server.url
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    msg, _ = parse(POST.encode())
    assert msg is not None
    archive_post(wanabidii, msg)
    bulletin = create_bulletin(
        account, subject="Talks", body="The **talks**.\n\n    code block", topics=[topic]
    )
    publish_bulletin(bulletin)
    client = Client()
    index = client.get("/lists/wanabidii/").content.decode()
    permalink = re.search(r'href="(/lists/wanabidii/[0-9a-f]{8,}[^"]*/)"', index)
    assert permalink is not None
    client.force_login(alice)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    draft = create_bulletin(account, subject="Draft", body="Not yet.", topics=[topic])
    public = ["/lists/wanabidii/", permalink.group(1), f"/subscriptions/{account.code}/",
              f"/bulletins/{bulletin.pk}/", f"/bulletins/{account.code}/{topic.code}/",
              "/lists/wanabidii/about/", "/lists/wanabidii/join/", "/lists/wanabidii/2015/",
              f"/texts/{account.code}/",
              # The same pages in the other languages (lang, names, lengths).
              f"/subscriptions/{account.code}/?lang=es", "/lists/wanabidii/?lang=sw",
              f"/bulletins/{bulletin.pk}/?lang=sw"]  # fmt: skip
    base = f"/console/{account.code}"
    console = [f"{base}/", f"{base}/bulletins/", f"{base}/bulletins/{bulletin.pk}/",
               f"{base}/bulletins/new/", f"{base}/settings/", f"{base}/texts/",
               f"{base}/network/", f"{base}/subscribers/", f"{base}/signup-form/",
               f"{base}/bulletins/{draft.pk}/send/"]  # fmt: skip
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        # The pages' own CSP forbids injected scripts; axe is the test's, not the page's.
        context = browser.new_context(bypass_csp=True)
        host = live_server.url.split("//", 1)[1].split(":")[0]
        context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session,
                              "domain": host, "path": "/"}])  # fmt: skip
        page = context.new_page()
        for url in public + console:
            page.goto(live_server.url + url)
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(RUN)
            if violations:
                found[url] = violations
        browser.close()
    assert not found, found
