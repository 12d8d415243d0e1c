"""A publisher in a real browser, without JavaScript: log in → compose → preview → test send →
schedule → the scheduler publishes it → the workers send it → the report."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.browser import screenshot
from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tests.smtp_helpers import deliver_in_thread as deliver
from tidings.bulletins.models import Bulletin
from tidings.ops.models import JobRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TITLE = "United States and Cuba Hold Migration Talks"
BODY = "The United States and Cuba held the **latest round** of Migration Talks in Washington."


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(page, f"console-{name}.png")


def test_a_publisher_composes_tests_schedules_and_sends(
    page, live_server, settings, account, topic, bob, alice
):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings):
        page.goto(f"{live_server.url}/console/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "correct horse 9")
        page.click("button:has-text('Log in')")
        page.click("a:has-text('U.S. Department of State')")
        page.click("nav.console >> text=New bulletin")
        shot(page, "1-composer")

        page.fill("#id_subject", TITLE)
        page.check("label.choice:has-text('Press Releases') input")
        page.fill("#id_body", BODY)
        page.fill("#id_preview_as", "bob@example.org")
        page.click("button[value=preview]")
        preview = page.locator("#preview")
        assert "Preview for bob@example.org" in preview.inner_text()
        assert f"Press Releases: {TITLE}" in preview.locator(".subject").inner_text()
        assert "This email was sent to bob@example.org" in preview.locator("pre").inner_text()
        frame = page.frame_locator("iframe.preview-html")
        assert frame.locator("strong").inner_text() == "latest round"
        shot(page, "2-preview")

        page.fill("#id_test_addresses", "qa@example.gov")
        page.click("button[value=test]")
        assert "Test sent to 1 address." in page.locator(".messages").inner_text()
        deliver()
        (test,) = captured_for("qa@example.gov")
        assert test["Subject"] == f"[TEST] Press Releases: {TITLE}"
        assert "latest round" in text_part(test)
        assert captured_for("bob@example.org") == []

        when = (timezone.now() + timedelta(hours=1)).astimezone(account.tz)
        page.fill("#id_schedule_at", when.strftime("%Y-%m-%dT%H:%M"))
        page.click("button[value=schedule]")
        assert page.locator("#bulletin-state").inner_text() == "scheduled"
        shot(page, "3-scheduled")

        # The hour passes; the next worker step runs the scheduler, then sends.
        bulletin = Bulletin.objects.get()
        Bulletin.objects.filter(pk=bulletin.pk).update(
            scheduled_at=timezone.now() - timedelta(seconds=1)
        )
        JobRun.objects.filter(name="bulletins.scheduled").update(last_started_at=None)
        deliver()
        (received,) = captured_for("bob@example.org")
        assert received["Subject"] == f"Press Releases: {TITLE}"
        (copy,) = captured_for("alice@example.gov")
        assert copy["Subject"] == f"[Courtesy copy] Press Releases: {TITLE}"

        page.reload()
        assert page.locator("#bulletin-state").inner_text() == "sent"
        assert page.locator("#count-sent").inner_text() == "1"
        shot(page, "4-sent")

        page.click("nav.console >> text=Bulletins")
        assert page.locator('.count[data-state="sent"]').inner_text() == "1"
        shot(page, "5-list")

        try:
            reverse("insights:report", args=[account.code, bulletin.pk])
        except NoReverseMatch:
            return  # the analytics pages are not there yet
        page.click("a:has-text('Report')")
        assert page.url.startswith(live_server.url + "/console/")
        shot(page, "6-report")


def test_the_composer_autosaves_a_draft_with_javascript_on(page, live_server, account, topic, erin):  # type: ignore[no-untyped-def]
    context = page.context.browser.new_context(java_script_enabled=True)
    try:
        js = context.new_page()
        js.goto(f"{live_server.url}/console/login/")
        js.fill("#id_username", "erin")
        js.fill("#id_password", "correct horse 9")
        js.click("button:has-text('Log in')")
        js.goto(f"{live_server.url}/console/{account.code}/bulletins/new/")
        js.fill("#id_subject", "Autosaved title")
        js.check("label.choice:has-text('Press Releases') input")
        js.fill("#id_body", "Typed, never saved by hand.")
        # Locators, not wait_for_function: the console's CSP forbids evaluating strings.
        saved = js.locator("#autosave-status").filter(has_text=re.compile(r"^Draft saved"))
        saved.wait_for(timeout=15_000)
        bulletin = Bulletin.objects.get()
        assert (bulletin.subject, bulletin.body) == (
            "Autosaved title",
            "Typed, never saved by hand.",
        )
        assert js.url.endswith(f"/bulletins/{bulletin.pk}/edit/")
        js.fill("#id_subject", "Autosaved title, changed")
        saved.wait_for(timeout=15_000)
        js.wait_for_url("**/edit/", timeout=15_000)
        js.wait_for_timeout(6_000)  # one more period: the change went to the same draft
        assert Bulletin.objects.count() == 1
        assert Bulletin.objects.get().subject == "Autosaved title, changed"
        shot(js, "7-autosaved")
    finally:
        context.close()
