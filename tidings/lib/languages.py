"""The languages Tidings speaks to subscribers, list members and readers, and which one a page or
a mail is in.

A public page is in the language the reader chose (`?lang=xx`, or the footer's chooser, kept in
a cookie), else a subscriber's own on their pages, else the first of the browser's
Accept-Language that Tidings has, else the account's default (`speak_for`, called by the views
that know the account or the subscriber), else English. Staff pages stay in English.
A mail goes in the recipient's own language (a subscriber's, a list member's), else their
account's. The page cache keys pages by `requested` (what the request itself asks for), so
readers of different languages never get each other's pages.

The catalogs are the `.po` files under tidings/locale, compiled into the data dir when a process
starts and they changed (`compile_catalogs`): nothing to run at install, no GNU gettext needed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

SOURCE = Path(__file__).resolve().parent.parent / "locale"


def codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def supported(code: str | None) -> str:
    """The language Tidings has for a code ("es-MX" → "es"), or "" when it has none."""
    if not code:
        return ""
    code = code.strip().lower().replace("_", "-")
    known = codes()
    if code in known:
        return code
    base = code.split("-")[0]
    return base if base in known else ""


@lru_cache(maxsize=1000)
def from_accept_language(header: str) -> str:
    """The first language of an Accept-Language header that Tidings has ("" for none)."""
    for code, _quality in parse_accept_lang_header(header[:1000]):
        if code == "*":
            break
        found = supported(code)
        if found:
            return found
    return ""


def _from_query(query: str) -> str:
    if "lang=" not in query:
        return ""
    for name, value in parse_qsl(query[:2000]):
        if name == "lang":
            return supported(value)
    return ""


def _from_cookie(header: str) -> str:
    name = settings.LANGUAGE_COOKIE_NAME + "="
    if name not in header:
        return ""
    for part in header.split(";"):
        part = part.strip()
        if part.startswith(name):
            return supported(part[len(name) :][:16])
    return ""


def chosen(meta: dict[str, Any]) -> str:
    """The language this reader chose: `?lang=`, else the chooser's cookie ("" for none)."""
    return _from_query(meta.get("QUERY_STRING", "")) or _from_cookie(meta.get("HTTP_COOKIE", ""))


def requested(meta: dict[str, Any]) -> str:
    """What a request itself asks for (the reader's choice, else Accept-Language), from the
    WSGI environment: "" when it asks for nothing Tidings has."""
    return chosen(meta) or from_accept_language(meta.get("HTTP_ACCEPT_LANGUAGE", ""))


def speak_for(request: HttpRequest, *, own: str = "", account: str = "") -> str:
    """Switch the rest of this request to the reader's language and return it: the one chosen
    (?lang=, the chooser's cookie), else the subscriber's own, else the browser's, else the
    account's."""
    meta = request.META
    language = (
        chosen(meta)
        or supported(own)
        or from_accept_language(meta.get("HTTP_ACCEPT_LANGUAGE", ""))
        or supported(account)
        or settings.LANGUAGE_CODE
    )
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


# Staff pages (the console, the API, Django's admin) are in English whatever the browser says:
# their words are not translated, and Django's own catalogs would mix languages on one page.
STAFF_PATHS = ("/console/", "/api/", "/admin/")


class Language:
    """Middleware: each public request in the language it asks for (or the default one), every
    response marked as varying with Accept-Language; staff pages in the default language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(STAFF_PATHS):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            try:
                return self.get_response(request)
            finally:
                translation.deactivate()
        language = requested(request.META) or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        translation.deactivate()
        return response


def for_mail(*choices: str) -> str:
    """The language of a mail: the first of the recipient's own and their account's that
    Tidings has, else the default."""
    return next((supported(c) for c in choices if supported(c)), settings.LANGUAGE_CODE)


# --- catalogs ---


def compile_catalogs(source: Path = SOURCE, target: Path | None = None) -> list[str]:
    """Compile each tidings/locale/<lang>/LC_MESSAGES/django.po whose compiled copy in the
    target (settings.LOCALE_PATHS[0]) is missing or older than its text; returns the languages
    compiled. Written beside and renamed into place, so processes starting together never read
    half a file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = target or Path(settings.LOCALE_PATHS[0])
    done = []
    for po in sorted(source.glob("*/LC_MESSAGES/django.po")):
        text = po.read_bytes()
        digest = hashlib.sha256(text).hexdigest()
        folder = target / po.relative_to(source).parent
        mo, stamp = folder / "django.mo", folder / "django.po.sha256"
        if mo.exists() and stamp.exists() and stamp.read_text() == digest:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        catalog = read_po(po.open("rb"), locale=po.parent.parent.name)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".django.mo.")
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalog)
        os.replace(temporary, mo)
        stamp.write_text(digest)
        done.append(po.parent.parent.name)
    return done
