"""Public pages, rendered once and served from Django's cache until something they show changes.

A view marked `@public_page` (archive pages, web copies, topic archives, feeds, the subscribe
page) is stored by `PageCache`, the outermost middleware, when it answers a reader who carries
no cookie but the CSRF one and no Authorization: nothing personal can be in it, and it is served
again only to such readers (`serve`, which `tidings.wsgi` calls before Django sees the request).
Logged-in staff, members and anyone holding a session or a message cookie always get a page
rendered for them. A form's CSRF token is cut out when the page is stored and each reader's own
put back when it is served.

Every change to what public pages show bumps one generation number (`bump`, called from the
apps' signals and actions); a stored page of an older generation is never served. Pages carry
an ETag and answer If-None-Match with 304. The cache is the default one: files in the data dir
(shared by the web processes of a machine), or Redis with TIDINGS_CACHE_URL.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable
from functools import wraps
from http.cookies import CookieError, SimpleCookie
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
)
from django.utils.http import http_date

from tidings.lib import languages

GENERATION = "tidings:pages:generation"
PLACEHOLDER = "\x00csrf\x00"
TOKEN_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
# A backstop for a change no signal saw (a raw UPDATE): no page is older than this.
MAX_AGE = 300


# The generation as this process last read it, and when: the front reads the shared value at
# most every GENERATION_SECONDS, so a change made in another process reaches this one's readers
# that much later at most (this process's own changes at once).
GENERATION_SECONDS = 0.1
_seen: tuple[object, float] = (None, 0.0)


def _next_generation() -> None:
    global _seen
    value = time.time_ns()
    cache.set(GENERATION, value, None)
    _seen = (value, time.monotonic())


def current_generation() -> object:
    global _seen
    value, at = _seen
    now = time.monotonic()
    if now - at >= GENERATION_SECONDS:
        value = cache.get(GENERATION)
        _seen = (value, now)
    return value


def bump(*args: Any, **kwargs: Any) -> None:
    """Make every stored page stale (also usable as a signal receiver): now, and again when the
    transaction commits, so a page rendered in between from the old rows is stale too."""
    _next_generation()
    transaction.on_commit(_next_generation)


def shown_publicly(*models: type[Model]) -> None:
    """Bump the generation whenever one of these models is saved or deleted."""
    for model in models:
        label = model._meta.label
        post_save.connect(bump, sender=model, dispatch_uid=f"pagecache.save.{label}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"pagecache.delete.{label}")


def generation() -> int:
    """The shared generation, read now (and remembered for the front)."""
    global _seen
    found = cache.get(GENERATION)
    if found is None:
        cache.add(GENERATION, time.time_ns(), None)
        found = cache.get(GENERATION)
    _seen = (found, time.monotonic())
    return int(found)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose page is the same for every anonymous reader."""

    @wraps(view)
    def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Read before rendering: a change made while the page renders makes it stale at once.
        request.public_page_generation = generation()  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return marked


def _cookies(header: str) -> dict[str, str]:
    if not header:
        return {}
    try:
        jar = SimpleCookie()
        jar.load(header)
    except CookieError:
        return {"": ""}  # unreadable: treat as personal
    return {name: morsel.value for name, morsel in jar.items()}


def anonymous(meta: dict[str, Any]) -> bool:
    """True for a GET or HEAD with no credentials and no cookie but the CSRF one and the
    language chooser's (which the key includes)."""
    if meta.get("REQUEST_METHOD") not in ("GET", "HEAD") or meta.get("HTTP_AUTHORIZATION"):
        return False
    allowed = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    return set(_cookies(meta.get("HTTP_COOKIE", ""))) <= allowed


def key(meta: dict[str, Any]) -> str:
    where = f"{meta.get('wsgi.url_scheme', 'http')}://{meta.get('HTTP_HOST', '')}"
    where += f"{meta.get('PATH_INFO', '')}?{meta.get('QUERY_STRING', '')}"
    # The language the request asks for: readers of each get their own copy.
    where += f"#{languages.requested(meta)}"
    return "tidings:page:3:" + hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()


def _csrf_secret(meta: dict[str, Any]) -> str | None:
    secret = _cookies(meta.get("HTTP_COOKIE", "")).get(settings.CSRF_COOKIE_NAME, "")
    if len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS):
        return secret
    return None


_INDEX = {c: i for i, c in enumerate(CSRF_ALLOWED_CHARS)}


def _random_chars(n: int) -> str:
    """n characters of CSRF_ALLOWED_CHARS, uniformly from the system's randomness (a byte under
    248 = 4 x 62 taken modulo 62 is uniform; the others are drawn again)."""
    chars: list[str] = []
    while len(chars) < n:
        chars += [CSRF_ALLOWED_CHARS[b % 62] for b in secrets.token_bytes(n + 8) if b < 248]
    return "".join(chars[:n])


def new_csrf_secret() -> str:
    return _random_chars(CSRF_SECRET_LENGTH)


def mask_csrf_secret(secret: str) -> str:
    """A form token for the secret, as Django's CSRF middleware masks one (a fresh mask, then
    each character of the secret shifted by the mask's): fast enough for the front's hot path,
    and checked against Django's own _does_token_match in the tests."""
    mask = _random_chars(CSRF_SECRET_LENGTH)
    shifted = (
        CSRF_ALLOWED_CHARS[(_INDEX[s] + _INDEX[m]) % 62] for s, m in zip(secret, mask, strict=True)
    )
    return mask + "".join(shifted)


def _etag(body_hash: str, secret: str | None) -> str:
    if secret is None:
        return f'"{body_hash}"'
    return f'"{body_hash}-{hashlib.sha256(secret.encode()).hexdigest()[:12]}"'


def _csrf_cookie_header(secret: str) -> str:
    """The Set-Cookie value Django's CSRF middleware would send (written out: this runs on the
    front's hot path, where building an HttpResponse to borrow its cookie code costs more than
    serving the page)."""
    parts = [f"{settings.CSRF_COOKIE_NAME}={secret}"]
    if settings.CSRF_COOKIE_AGE is not None:
        expires = http_date(time.time() + settings.CSRF_COOKIE_AGE)
        parts += [f"expires={expires}", f"Max-Age={settings.CSRF_COOKIE_AGE}"]
    if settings.CSRF_COOKIE_DOMAIN:
        parts.append(f"Domain={settings.CSRF_COOKIE_DOMAIN}")
    parts.append(f"Path={settings.CSRF_COOKIE_PATH}")
    if settings.CSRF_COOKIE_SECURE:
        parts.append("Secure")
    if settings.CSRF_COOKIE_HTTPONLY:
        parts.append("HttpOnly")
    if settings.CSRF_COOKIE_SAMESITE:
        parts.append(f"SameSite={settings.CSRF_COOKIE_SAMESITE}")
    return "; ".join(parts)


def if_none_match(meta: dict[str, Any], etag: str) -> bool:
    wanted = meta.get("HTTP_IF_NONE_MATCH", "")
    return bool(wanted) and (
        wanted.strip() == "*" or etag in [t.strip() for t in wanted.split(",")]
    )


class Stored:
    """A page as kept in the cache: headers and a body with the CSRF token cut out."""

    def __init__(self, generation: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.generation = generation
        self.headers = headers
        self.csrf = PLACEHOLDER.encode() in body
        self.parts = body.split(PLACEHOLDER.encode())  # a token goes between each two
        self.length = len(body) - (len(self.parts) - 1) * (
            len(PLACEHOLDER) - 2 * CSRF_SECRET_LENGTH
        )
        self.hash = hashlib.sha256(body).hexdigest()[:32]

    def answer(self, meta: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """The status, headers and body for this reader."""
        secret = _csrf_secret(meta) if self.csrf else None
        headers = list(self.headers)
        if self.csrf and secret is None:
            secret = new_csrf_secret()
            headers.append(("Set-Cookie", _csrf_cookie_header(secret)))
        etag = _etag(self.hash, secret if self.csrf else None)
        headers.append(("ETag", etag))
        if if_none_match(meta, etag):
            kept = [
                (k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")
            ]
            return "304 Not Modified", kept, []
        headers.append(("Content-Length", str(self.length)))
        if meta.get("REQUEST_METHOD") == "HEAD":
            return "200 OK", headers, []
        body = self.parts[:1]
        for part in self.parts[1:]:
            body += [mask_csrf_secret(secret or "").encode(), part]
        return "200 OK", headers, body


# Pages this process served lately, so that a hit costs one shared read (the generation), not
# two and the unpickling of the page.
_recent: dict[str, Stored] = {}
RECENT_PAGES = 500


def lookup(meta: dict[str, Any]) -> Stored | None:
    """The stored page for this request, if it is anonymous and the page is current."""
    if not anonymous(meta):
        return None
    current = current_generation()
    where = key(meta)
    page = _recent.get(where)
    if page is None or page.generation != current:
        page = cache.get(where)
        if page is None or page.generation != current:
            return None
        if len(_recent) >= RECENT_PAGES:
            _recent.clear()
        _recent[where] = page
    return page


def serve(meta: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
    """Answer from the cache (a WSGI response), or None to let Django render the page."""
    page = lookup(meta)
    if page is None:
        return None
    status, headers, body = page.answer(meta)
    start_response(status, headers)
    return body


class PageCache:
    """Store the public pages that anonymous readers get; answer their If-None-Match."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not anonymous(request.META):
            return self.get_response(request)
        response = self.get_response(request)
        current = getattr(request, "public_page_generation", None)
        if not (
            current is not None
            and request.method == "GET"  # a HEAD's body may be left out: never stored
            and response.status_code == 200
            and not response.streaming
            and set(response.cookies) <= {settings.CSRF_COOKIE_NAME}
        ):
            return response
        response["Cache-Control"] = "public, no-cache"
        body = TOKEN_FIELD.sub(
            lambda m: m.group(1) + PLACEHOLDER + m.group(2), response.content.decode()
        )
        headers = [
            (k, v)
            for k, v in response.items()
            if k.lower() not in ("content-length", "etag", "set-cookie", "expires")
        ]
        page = Stored(current, headers, body.encode())
        cache.set(key(request.META), page, MAX_AGE)
        secret = _csrf_secret(request.META) if page.csrf else None
        if page.csrf and secret is None:
            cookie = response.cookies.get(settings.CSRF_COOKIE_NAME)
            secret = cookie.value if cookie is not None else None
        etag = _etag(page.hash, secret if page.csrf else None)
        if if_none_match(request.META, etag):
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = etag
            for k, v in response.cookies.items():
                not_modified.cookies[k] = v
            return not_modified
        response["ETag"] = etag
        return response
