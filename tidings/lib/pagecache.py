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

# Django's own CSRF helpers: a cached page gets each reader's token the way Django makes one.
from django.middleware.csrf import (  # type: ignore[attr-defined]
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _get_new_csrf_string,
    _mask_cipher_secret,
)

GENERATION = "tidings:pages:generation"
PLACEHOLDER = "\x00csrf\x00"
TOKEN_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
# A backstop for a change no signal saw (a raw UPDATE): no page is older than this.
MAX_AGE = 300


def _next_generation() -> None:
    cache.set(GENERATION, time.time_ns(), None)


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
    found = cache.get(GENERATION)
    if found is None:
        cache.add(GENERATION, time.time_ns(), None)
        found = cache.get(GENERATION)
    return int(found)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose page is the same for every anonymous reader."""

    @wraps(view)
    def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.public_page = True  # type: ignore[attr-defined]
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
    """True for a GET or HEAD with no credentials and no cookie but the CSRF one."""
    if meta.get("REQUEST_METHOD") not in ("GET", "HEAD") or meta.get("HTTP_AUTHORIZATION"):
        return False
    return set(_cookies(meta.get("HTTP_COOKIE", ""))) <= {settings.CSRF_COOKIE_NAME}


def key(meta: dict[str, Any]) -> str:
    where = f"{meta.get('wsgi.url_scheme', 'http')}://{meta.get('HTTP_HOST', '')}"
    where += f"{meta.get('PATH_INFO', '')}?{meta.get('QUERY_STRING', '')}"
    return "tidings:page:" + hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()


def _csrf_secret(meta: dict[str, Any]) -> str | None:
    secret = _cookies(meta.get("HTTP_COOKIE", "")).get(settings.CSRF_COOKIE_NAME, "")
    if len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS):
        return secret
    return None


def _etag(body_hash: str, secret: str | None) -> str:
    if secret is None:
        return f'"{body_hash}"'
    return f'"{body_hash}-{hashlib.sha256(secret.encode()).hexdigest()[:12]}"'


def _csrf_cookie_header(secret: str) -> str:
    response = HttpResponse()
    response.set_cookie(
        settings.CSRF_COOKIE_NAME,
        secret,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    return response.cookies[settings.CSRF_COOKIE_NAME].OutputString()


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
        self.body = body
        self.hash = hashlib.sha256(body).hexdigest()[:32]

    def answer(self, meta: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """The status, headers and body for this reader."""
        secret = _csrf_secret(meta) if self.csrf else None
        headers = list(self.headers)
        if self.csrf and secret is None:
            secret = _get_new_csrf_string()
            headers.append(("Set-Cookie", _csrf_cookie_header(secret)))
        etag = _etag(self.hash, secret if self.csrf else None)
        headers.append(("ETag", etag))
        if if_none_match(meta, etag):
            kept = [
                (k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")
            ]
            return "304 Not Modified", kept, b""
        body = self.body
        if self.csrf:
            body = body.replace(PLACEHOLDER.encode(), _mask_cipher_secret(secret).encode())
        headers.append(("Content-Length", str(len(body))))
        return "200 OK", headers, b"" if meta.get("REQUEST_METHOD") == "HEAD" else body


def lookup(meta: dict[str, Any]) -> Stored | None:
    """The stored page for this request, if it is anonymous and the page is current."""
    if not anonymous(meta):
        return None
    found = cache.get_many([GENERATION, key(meta)])
    page = found.get(key(meta))
    if page is None or page.generation != found.get(GENERATION):
        return None
    return page  # type: ignore[no-any-return]


def serve(meta: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
    """Answer from the cache (a WSGI response), or None to let Django render the page."""
    page = lookup(meta)
    if page is None:
        return None
    status, headers, body = page.answer(meta)
    start_response(status, headers)
    return [body]


class PageCache:
    """Store the public pages that anonymous readers get; answer their If-None-Match."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not anonymous(request.META):
            return self.get_response(request)
        # Read before rendering: a change made while the page renders makes it stale at once.
        current = generation()
        response = self.get_response(request)
        if not (
            getattr(request, "public_page", False)
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
