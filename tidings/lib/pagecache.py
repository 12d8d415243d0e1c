"""Public pages, rendered once and served from Django's cache until something they show changes.

A view marked `@public_page` (archive pages, web copies, topic archives, feeds, the subscribe
page) is stored by `PageCache`, the outermost middleware, when it answers a reader who carries
no cookie but the CSRF one and the language chooser's, as Django itself reads the Cookie header
(`parse_cookie`), and no Authorization, and the view found no session and no user: nothing
personal can be in it, and it is served again only to such readers (`serve`, which
`tidings.wsgi` calls before Django sees the request). A form's CSRF token is cut out when the
page is stored and each reader's own put back when it is served. One path keeps at most
QUERY_VARIANTS copies for different query strings.

Every change to what public pages show moves a generation (`bump`, `bump_scopes`, called from
the apps' signals and actions); a page stored under an older one is never served. A page that
says what it shows (`shows(request, account(pk), mailing_list(pk))`) is made stale only by a
change to those scopes or an unscoped bump, so a post to one list leaves the other tenants'
pages stored. Pages carry an ETag and answer If-None-Match with 304. The cache is the default
one: files in the data dir (shared by the web processes of a machine), or Redis with
TIDINGS_CACHE_URL. It is optional: when it fails, pages are rendered and not stored, it is left
alone for BREAKER_SECONDS, and when it answers again no page stored before is served.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial, wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, parse_cookie
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
)
from django.utils.http import http_date

from tidings.lib import languages

T = TypeVar("T")

GENERATION = "tidings:pages:generation:"
PLACEHOLDER = "\x00csrf\x00"
TOKEN_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
# A backstop for a change no signal saw (a raw UPDATE): no page is older than this.
MAX_AGE = 300
# Copies of one path kept for different query strings (?page=2 …): past this, a page asked for
# with yet another query string is rendered for its reader and not stored, so made-up parameters
# cannot fill the cache with copies of one page.
QUERY_VARIANTS = 20

log = logging.getLogger("tidings.pagecache")

# Generations: one number per scope, the time of the scope's last change. A page remembers the
# ones it was rendered under and is served while they are current. A page that said what it
# shows (`shows`) depends on ALL and its scopes; any other page on ANY, which every bump moves.
ALL = "all"
ANY = "any"


def account(pk: object) -> str:
    """The scope of an account's pages (its topics' archives, web copies, subscribe page)."""
    return f"account:{pk}"


def mailing_list(pk: object) -> str:
    """The scope of a list's pages (its archive, threads, feeds, join page)."""
    return f"list:{pk}"


# --- The cache is optional: a failure costs a page its caching, never the page.
# After a failure the cache is left alone for BREAKER_SECONDS, so a down or hung cache (a
# Redis that no longer answers) costs one request its timeout, not every request; the first
# thing asked of it when it answers again is to make every stored page stale.
BREAKER_SECONDS = 5.0
_broken_until = 0.0
_failure = ""
# The scopes of bumps the cache missed, made as soon as it answers again (None: none missed).
_missed: set[str] | None = None
_missing = threading.RLock()


def _trip(error: BaseException) -> None:
    global _broken_until, _failure, _missed
    _broken_until = time.monotonic() + BREAKER_SECONDS
    _failure = f"{type(error).__name__}: {error}"[:300]
    log.warning("the page cache failed (%s): pages are served uncached for now", _failure)
    with _missing:
        # A change made while it was away may have missed it here or in a process gone since
        # (a command): when it answers again, every page stored before is stale.
        _missed = (_missed or set()) | {ANY, ALL}


def failing() -> str:
    """Why the cache was given up on for a while ("" while it is in use)."""
    return _failure if time.monotonic() < _broken_until else ""


def _cached(call: Callable[[], T], default: T) -> T:
    """The cache's answer, or the default when it fails or was given up on lately."""
    if _broken_until and time.monotonic() < _broken_until:
        return default
    try:
        if _missed is not None:
            _catch_up()
        return call()
    except Exception as error:  # any backend's failure (redis, OSError, …): serve uncached
        _trip(error)
        return default


# The generations as this process last read them, and when: the front reads the shared values
# at most every GENERATION_SECONDS, so a change made in another process reaches this one's
# readers that much later at most (this process's own changes at once).
GENERATION_SECONDS = 0.1
_seen: dict[str, tuple[object, float]] = {}


def _write(scopes: list[str]) -> None:
    """Move these generations: Redis at once (MSET), the file cache one after the other in this
    order; either way no reader sees a scope moved and ANY not."""
    value = time.time_ns()
    values = {GENERATION + scope: value for scope in scopes}
    cache.set_many(values, None)
    now = time.monotonic()
    _seen.update((scope, (value, now)) for scope in scopes)


def _next_generation(scopes: tuple[str, ...] = ()) -> None:
    """Move ANY first, then the scopes (or ALL): a page whose render overlapped the change
    sees ANY moved (see `shows`). A move the cache misses is made when it answers again."""
    global _missed
    with _missing:
        _missed = (_missed or set()) | {ANY, *(scopes or (ALL,))}
    settle()


def _catch_up() -> None:
    global _missed
    with _missing:
        if _missed:
            _write([ANY, *sorted(_missed - {ANY})])
        _missed = None


def settle() -> None:
    """Make the bumps the cache missed, if it answers again (a worker calls it between jobs)."""
    if _missed is not None:
        _cached(lambda: None, None)


def _read(scopes: Iterable[str], *, fresh: bool = False) -> dict[str, object]:
    """The current generation of each scope (None: unknown), read again from the shared cache
    when this process's copy is older than GENERATION_SECONDS (or always, when fresh)."""
    now = time.monotonic()
    found: dict[str, object] = {}
    stale = []
    for scope in scopes:
        value, at = _seen.get(scope, (None, 0.0))
        if fresh or now - at >= GENERATION_SECONDS:
            stale.append(scope)
        else:
            found[scope] = value
    if stale:
        read = _cached(lambda: cache.get_many([GENERATION + s for s in stale]), None)
        if read is None:
            return {}
        for scope in stale:
            found[scope] = read.get(GENERATION + scope)
            _seen[scope] = (found[scope], now)
    return found


def current_generation() -> object:
    """The generation every bump moves, as this process last read it."""
    return _read([ANY]).get(ANY)


def bump(*args: Any, **kwargs: Any) -> None:
    """Make every stored page stale (also usable as a signal receiver): now, and again when the
    transaction commits, so a page rendered in between from the old rows is stale too."""
    bump_scopes()


def bump_scopes(*scopes: str) -> None:
    """Make the pages of these scopes (`account()`, `mailing_list()`) stale, and the pages that
    did not say what they show; no scope: every page. Now and again at the commit, as `bump`."""
    _next_generation(scopes)
    transaction.on_commit(partial(_next_generation, scopes), robust=True)


Scopes = Callable[[Any], Iterable[str]]


def shown_publicly(*models: type[Model], scopes: Scopes | None = None) -> None:
    """Bump whenever one of these models is saved or deleted: the scopes `scopes(instance)`
    names, or every page when it names none (or fails)."""
    for model in models:
        label = model._meta.label
        receiver = bump if scopes is None else _scoped_bump(scopes)
        post_save.connect(
            receiver, sender=model, weak=False, dispatch_uid=f"pagecache.save.{label}"
        )
        post_delete.connect(
            receiver, sender=model, weak=False, dispatch_uid=f"pagecache.delete.{label}"
        )


def _scoped_bump(scopes: Scopes) -> Callable[..., None]:
    def receiver(sender: object, instance: Model, **kwargs: Any) -> None:
        try:
            named = tuple(scopes(instance))
        except Exception:  # a row gone with its parent, say: stale everything rather than guess
            log.exception("the pages %r shows are unknown: every page is made stale", instance)
            named = ()
        bump_scopes(*named)

    return receiver


def generation() -> dict[str, object] | None:
    """The generations a page rendered now depends on until it says what it shows, read now
    (a missing one is started); None when the cache does not answer: nothing is stored."""

    def read() -> dict[str, object]:
        keys = [GENERATION + ALL, GENERATION + ANY]
        found = cache.get_many(keys)
        for missing in set(keys) - set(found):
            cache.add(missing, time.time_ns(), None)
            found[missing] = cache.get(missing)
        return found

    found = _cached(read, None)
    if found is None:
        return None
    now = time.monotonic()
    values = {key.removeprefix(GENERATION): value for key, value in found.items()}
    _seen.update((scope, (value, now)) for scope, value in values.items())
    return values


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose page is the same for every anonymous reader."""

    @wraps(view)
    def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Read before rendering: a change made while the page renders makes it stale at once.
        # (Never stored for a reader with credentials: the cache is not even asked.)
        found = generation() if anonymous(request.META) else None
        request.public_page_generation = (  # type: ignore[attr-defined]
            None if found is None else {ANY: found[ANY]}
        )
        request.public_page_started = found  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return marked


def shows(request: HttpRequest, *scopes: str) -> None:
    """Say that this page shows only what these scopes hold (and what every page shows), so a
    change elsewhere leaves it stored. Call it before reading what the page shows of them."""
    started = getattr(request, "public_page_started", None)
    if started is None or not scopes:
        return
    found = _read(scopes, fresh=True)
    # ANY moved since the render started: a change may have been read half; store nothing.
    if len(found) < len(scopes) or _read([ANY], fresh=True).get(ANY) != started[ANY]:
        request.public_page_generation = None  # type: ignore[attr-defined]
        return
    missing = [scope for scope in scopes if found[scope] is None]
    if missing:  # never changed yet: start them (any later change moves them)
        _cached(lambda: [cache.add(GENERATION + s, time.time_ns(), None) for s in missing], None)
        found |= _read(missing, fresh=True)
        if any(found[scope] is None for scope in missing):
            request.public_page_generation = None  # type: ignore[attr-defined]
            return
    request.public_page_generation = {ALL: started[ALL], **found}  # type: ignore[attr-defined]


def _cookies(header: str) -> dict[str, str]:
    # Django's own parsing (request.COOKIES): the session and CSRF cookies it finds are the ones
    # looked for here, however odd the rest of the header.
    return parse_cookie(header) if header else {}


def anonymous(meta: dict[str, Any]) -> bool:
    """True for a GET or HEAD with no credentials and no cookie but the CSRF one and the
    language chooser's (which the key includes), as Django reads the Cookie header."""
    if meta.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_AUTHORIZATION" in meta:
        return False
    header = meta.get("HTTP_COOKIE")
    if not header:
        return True
    return _cookies(header).keys() <= {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}


def key(meta: dict[str, Any]) -> str:
    where = f"{meta.get('wsgi.url_scheme', 'http')}://{meta.get('HTTP_HOST', '')}"
    where += f"{meta.get('PATH_INFO', '')}?{meta.get('QUERY_STRING', '')}"
    # The language the request asks for: readers of each get their own copy.
    where += f"#{languages.requested(meta)}"
    return "tidings:page:4:" + hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()


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

    def __init__(
        self, generation: dict[str, object], headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self.generation = generation  # scope -> the generation it was rendered under
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


def _current(page: Stored) -> bool:
    found = _read(page.generation)
    return len(found) == len(page.generation) and all(
        found[scope] == value for scope, value in page.generation.items()
    )


def lookup(meta: dict[str, Any]) -> Stored | None:
    """The stored page for this request, if it is anonymous and the page is current."""
    if not anonymous(meta):
        return None
    where = key(meta)
    page = _recent.get(where)
    if page is None or not _current(page):
        page = _cached(lambda: cache.get(where), None)
        if not isinstance(page, Stored) or not _current(page):
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


def personal(request: HttpRequest) -> bool:
    """Whether the view found or started a session or a user (as Django's middleware would
    have them): such a page is the reader's own, whatever the request's headers looked like."""
    session = getattr(request, "session", None)
    if session is not None and (session.session_key or session.modified):
        return True
    user = getattr(request, "user", None)  # no session key: AnonymousUser, no query
    return bool(user is not None and user.is_authenticated)


def _store(meta: dict[str, Any], page: Stored) -> None:
    """Keep the page, unless its path already has QUERY_VARIANTS copies for other queries."""
    query = meta.get("QUERY_STRING", "")
    if query:
        where = f"{meta.get('HTTP_HOST', '')}{meta.get('PATH_INFO', '')}"
        variants = (
            "tidings:pagequeries:"
            + hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()
        )
        asked = hashlib.sha256(query.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        now = time.time()
        known = {q: until for q, until in (cache.get(variants) or {}).items() if until > now}
        if asked not in known and len(known) >= QUERY_VARIANTS:
            return
        known[asked] = now + MAX_AGE
        cache.set(variants, known, MAX_AGE)
    cache.set(key(meta), page, MAX_AGE)


def check() -> str:
    """What is wrong with the cache, for /healthz ("" when it keeps and gives back a value)."""
    if failing():
        return f"the page cache failed ({_failure}): pages are served uncached"
    probe = f"tidings:health:{secrets.token_hex(8)}"
    try:
        cache.set(probe, 1, 30)
        kept = cache.get(probe)
        cache.delete(probe)
    except Exception as error:  # its failure is the answer
        _trip(error)
        return f"the page cache does not answer ({_failure}): pages are served uncached"
    return "" if kept == 1 else "the page cache does not keep what it is given"


def forget() -> None:
    """Forget what this process holds of the cache (recent pages, generations read, a failure,
    missed bumps), as a process started now would."""
    global _broken_until, _failure, _missed
    _recent.clear()
    _seen.clear()
    _broken_until, _failure, _missed = 0.0, "", None


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
            and not personal(request)
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
        _cached(partial(_store, request.META, page), None)
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
