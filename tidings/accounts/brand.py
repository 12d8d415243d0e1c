"""The agency's look in mail: the values of the banner atop an HTML part."""

from __future__ import annotations

from typing import Any

from tidings.accounts.media import media_url
from tidings.accounts.models import Account


def text_on(color: str) -> str:
    """White or near-black, whichever reads on the colour (WCAG relative luminance)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#1b1b1b" if luminance > 0.179 else "#ffffff"


def email_brand(account: Account) -> dict[str, Any]:
    """For accounts/email_banner.html: the logo's absolute address, the colours, the name."""
    logo = account.logo
    return {
        "brand_color": account.brand_color,
        "brand_text": text_on(account.brand_color),
        "logo_url": media_url(logo) if logo is not None else "",
        "brand_name": account.name,
        "banner": True,
    }
