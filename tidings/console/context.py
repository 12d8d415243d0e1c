from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tidings.console.nav import entries_for


def console(request: HttpRequest) -> dict[str, Any]:
    """The account being worked on and its menu, for pages reached through account_for()."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "console_account": membership.account,
        "console_role": membership.get_role_display(),
        "console_nav": entries_for(membership),
    }
