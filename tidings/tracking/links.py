"""Rewrite a bulletin's links to click redirects and add the open image, once per send.

The rewritten mail carries one per-recipient value, the recipient token (tokens.py), in every
tracked link and in the image; the link itself is named by the id of its Link row, so a
redirect can only ever lead to a URL that was in the bulletin.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from tidings.delivery.mime import MARK
from tidings.tracking.models import Link, TrackingSettings

PLACEHOLDER = "TIDINGSTRACK"
# An <a> element's href that points at the web (the sanitizer and templates quote with ").
HREF = re.compile(r'(<a\b[^>]*?\bhref=")(https?://[^"]+)(")', re.IGNORECASE)
# After a URL in plain text: trailing punctuation, then something that ends a URL.
# Longer URLs are not tracked: PostgreSQL refuses index entries over about 2,700 bytes.
MAX_URL = 2000
URL_END = r"(?=[.,;:!?]*(?:[\s<>\"')\]]|$))"


@dataclass(frozen=True)
class Choice:
    opens: bool
    clicks: bool


IMG = re.compile(r"<img\b", re.I)


def choice_for(account_id: int) -> Choice:
    """Return whether the account counts opens and clicks (both, unless it said otherwise)."""
    row = TrackingSettings.objects.filter(account_id=account_id).values("opens", "clicks").first()
    return Choice(**row) if row else Choice(opens=True, clicks=True)


def click_url(token: str, link_id: int) -> str:
    path = reverse("tracking:click", args=[PLACEHOLDER, link_id]).replace(PLACEHOLDER, token)
    return settings.BASE_URL + path


def open_url(token: str) -> str:
    return settings.BASE_URL + reverse("tracking:open", args=[PLACEHOLDER]).replace(
        PLACEHOLDER, token
    )


def _trackable(url: str, keep: Collection[str]) -> bool:
    # The recipient's own links (manage, unsubscribe; in a template they carry a hole) are
    # never redirected: they must work whatever happens to tracking.
    # A URL too long for the unique index is left as it is.
    return (
        len(url) <= MAX_URL
        and url not in keep
        and MARK not in url
        and not url.startswith(settings.BASE_URL + "/t/")
    )


def links_for(bulletin_id: int, urls: list[str]) -> dict[str, int]:
    """Return the Link id of each URL, creating the rows missing (workers may race: fine)."""
    if not urls:
        return {}
    start = Link.objects.filter(bulletin_id=bulletin_id).count()
    Link.objects.bulk_create(
        [Link(bulletin_id=bulletin_id, position=start + i, url=u) for i, u in enumerate(urls)],
        ignore_conflicts=True,
    )
    found = Link.objects.filter(bulletin_id=bulletin_id, url__in=urls).values_list("url", "id")
    return dict(found)


def track(
    bulletin_id: int,
    choice: Choice,
    token: str,
    text: str,
    body_html: str,
    keep: Collection[str] = (),
) -> tuple[str, str]:
    """Return the text and HTML parts with links redirected and the open image added.

    keep: URLs left as they are (the recipient's manage and unsubscribe links).
    """
    if choice.clicks:
        urls = []
        for match in HREF.finditer(body_html):
            url = html.unescape(match.group(2))
            if _trackable(url, keep) and url not in urls:
                urls.append(url)
        ids = links_for(bulletin_id, urls)

        def redirect(match: re.Match[str]) -> str:
            url = html.unescape(match.group(2))
            if url not in ids:
                return match.group(0)
            return match.group(1) + html.escape(click_url(token, ids[url])) + match.group(3)

        body_html = HREF.sub(redirect, body_html)
        if ids:
            # Only URLs that are links in the HTML part too: a URL cut short in prose is
            # left alone rather than redirected somewhere else.
            known = sorted(ids, key=len, reverse=True)
            pattern = re.compile("|".join(re.escape(u) for u in known) + URL_END)
            text = pattern.sub(lambda m: click_url(token, ids[m.group(0)]), text)
    if choice.opens:
        if IMG.search(body_html):
            image = (
                f'<img src="{html.escape(open_url(token))}" width="1" height="1" alt="" '
                'style="display:block;border:0;width:1px;height:1px;">'
            )
        else:
            # A 1x1 image as a message's only image is what spam filters score as an
            # image-only mail (SpamAssassin's HTML_IMAGE_ONLY_*, about 2 points): with no
            # picture of its own, the bulletin loads it as a background instead.
            image = (
                f"<div style=\"background-image:url('{html.escape(open_url(token))}');"
                'width:1px;height:1px;line-height:1px;font-size:1px;">&#8203;</div>'
            )
        at = body_html.rfind("</body>")
        at = at if at >= 0 else len(body_html)
        body_html = body_html[:at] + image + "\n" + body_html[at:]
    return text, body_html
