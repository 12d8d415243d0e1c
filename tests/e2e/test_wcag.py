"""WCAG 2.1 AA checks a browser can make on every archive page: headings, labels, focus, contrast.

The pages are read in the machine's Chromium (JavaScript off for the page; Playwright's own
evaluation still runs), so what is measured is what a reader gets: computed styles, not CSS text.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.archive.test_archive import press_release
from tests.archive.test_archive_threads import mail
from tests.archive.test_bulletin_web_copy import bulletin
from tests.browser import screenshot
from tidings.accounts.models import Account
from tidings.archive.actions import add_comment, archive_post
from tidings.lists.models import MailingList
from tidings.topics.models import Topic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every element that has text of its own, with its colour, the colour behind it and its size.
TEXT_COLOURS = """() => {
  const out = [];
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && bg !== 'transparent' && !bg.endsWith(', 0)')) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!own || box.width < 2 || box.height < 2 || style.visibility === 'hidden') continue;
    if (el.closest('[aria-hidden=true]')) continue;
    out.push({
      text: el.textContent.trim().slice(0, 40), tag: el.tagName, color: style.color,
      background: background(el), size: parseFloat(style.fontSize),
      weight: parseInt(style.fontWeight, 10),
    });
  }
  return out;
}"""
HEADINGS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(f => f.type !== 'hidden' && f.type !== 'submit' && f.type !== 'button')
  .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label')
               && !f.getAttribute('aria-labelledby'))
  .map(f => f.name || f.id)"""
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 40),
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow};
}"""


def rgb(css: str) -> tuple[float, float, float, float]:
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0


def luminance(r: float, g: float, b: float) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG contrast ratio, the text's colour blended over its background."""
    br, bg, bb, _ = rgb(background)
    fr, fg, fb, alpha = rgb(foreground)
    blended = [alpha * f + (1 - alpha) * b for f, b in ((fr, br), (fg, bg), (fb, bb))]
    light, dark = sorted([luminance(*blended), luminance(br, bg, bb)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_matches_wcag() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)"), 2) == 4.54
    assert contrast("rgb(255, 255, 255)", "rgb(255, 255, 255)") == 1.0


@pytest.fixture
def pages(live_server, account: Account, topic: Topic, wanabidii: MailingList) -> dict[str, str]:  # type: ignore[no-untyped-def]
    post = archive_post(wanabidii, press_release())
    archive_post(
        wanabidii,
        mail(2, "Re: Migration Talks", "Wed, 02 Dec 2015 09:00:00 -0500", post.message_id),
    )
    add_comment(post, name="Carol", email="carol@example.net", body="Asante.\n\n> quoted")
    talks = bulletin(account, topic, "Migration Talks", datetime(2015, 12, 1, 17, 38, tzinfo=UTC))
    base = live_server.url
    return {
        "list index": f"{base}/lists/wanabidii/",
        "month": f"{base}/lists/wanabidii/2015/12/",
        "post": f"{base}{reverse('archive:post', args=['wanabidii', post.slug])}",
        "thread": f"{base}{reverse('archive:thread', args=['wanabidii', post.slug])}",
        "search": f"{base}/lists/wanabidii/search/?q=migration",
        "account": f"{base}{reverse('bulletins:account', args=['USSTATEBPA'])}",
        "account search": f"{base}/bulletins/USSTATEBPA/search/?q=migration",
        "topic": f"{base}{reverse('bulletins:topic', args=['USSTATEBPA', 'USSTATEBPA_1'])}",
        "web copy": f"{base}{reverse('bulletins:web_copy', args=[talks.pk])}",
    }


def test_headings_start_at_h1_and_never_skip_a_level(page, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, url in pages.items():
        page.goto(url)
        levels = page.evaluate(HEADINGS)
        assert levels[:1] == [1], (name, levels)
        assert levels.count(1) == 1, (name, levels)
        jumps = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert not jumps, (name, levels)


def test_every_form_field_has_a_label(page, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    fields = 0
    for name, url in pages.items():
        page.goto(url)
        assert page.evaluate(UNLABELLED) == [], name
        fields += page.locator("input:not([type=hidden]), textarea").count()
    assert fields > 5  # the search forms and the comment form were there to check


def test_keyboard_focus_is_visible(page, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name in ("post", "topic", "web copy"):
        page.goto(pages[name])
        seen = 0
        for _ in range(25):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUS_STYLE)
            if focused["tag"] == "BODY":
                break
            seen += 1
            visible = focused["outline"] != "none" and focused["width"] >= 2
            assert visible or focused["shadow"] != "none", (name, focused)
        assert seen >= 3, name
    page.goto(pages["post"])
    page.keyboard.press("Tab")
    screenshot(page, "wcag-skip-link-focused.png", full_page=False)


def test_text_contrast_is_at_least_4_5_to_1(page, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    checked = set()
    for name, url in pages.items():
        page.goto(url)
        for item in page.evaluate(TEXT_COLOURS):
            large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
            needed = 3.0 if large else 4.5
            ratio = contrast(item["color"], item["background"])
            assert ratio >= needed, (name, item, round(ratio, 2))
            checked.add((item["color"], item["background"]))
    # body text, muted text, links, highlighted matches, the button: all measured
    assert len(checked) >= 5, checked


def test_the_default_themes_colours_pass(page, pages: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(pages["search"])
    body = page.evaluate("() => getComputedStyle(document.body).color")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    link = page.locator("main a").first.evaluate("a => getComputedStyle(a).color")
    muted = page.locator(".muted").first.evaluate("e => getComputedStyle(e).color")
    button = page.locator("button").first.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert contrast(body, background) >= 4.5
    assert contrast(link, background) >= 4.5
    assert contrast(muted, background) >= 4.5
    assert contrast(button[0], button[1]) >= 4.5
    screenshot(page, "wcag-search.png")
