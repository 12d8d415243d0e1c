"""A viewer opens a bulletin's report in a real browser, without JavaScript."""

from __future__ import annotations

import time

import pytest

from tests.browser import screenshot
from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.tracking.hits import Hit, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sent(account, topic, bob):  # type: ignore[no-untyped-def]
    # Sent before the page fixture starts Playwright's event loop in this thread.
    bulletin = create_bulletin(
        account,
        subject="Migration Talks",
        body="[Statement](https://www.state.gov/s)",
        topics=[topic],
    )
    publish_bulletin(bulletin)
    with sink_server() as sink:
        process_chunk(sink.relay)
    write("browser-test", [Hit(Delivery.objects.get().pk, time.time())])
    return bulletin


def test_it_shows_the_report_from_the_console_menu(sent, victor, page, live_server):  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", "victor")
    page.fill("input[name=password]", "correct horse 9")
    page.click("button[type=submit], input[type=submit]")
    page.goto(f"{live_server.url}/console/USSTATEBPA/")
    page.click("nav.console >> text=Analytics")
    page.click("text=Migration Talks")

    assert page.locator("#delivered").inner_text() == "1"
    assert page.locator("#opens").inner_text() == "1"
    assert page.locator("#engagement").inner_text() == "100 %"
    assert page.locator("figure svg").count() == 2
    screenshot(page, "tracking-report.png")
