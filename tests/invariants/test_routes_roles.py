"""Every route by every role, generated from the URLconf.

The walk takes every URL pattern Django's resolver knows (public pages, console, API, admin,
webhooks, media, feeds, exports), fills its converters with real objects of account A, and
visits it as each role: no answer is ever 5xx, and each role gets what the table below says.
A pattern with no row fails with its name, so a new page cannot ship uncovered. Forms are posted
too: empty, as rendered (a plausible valid body), and with hostile values. Another tenant's ids
(account B's objects through A's pages or A's token) always answer 404.

One data set per module (tests/route_world.py); every request runs in its own savepoint that is
rolled back, so a valid POST (a delete, a send) never changes what the next request sees.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.route_world import World, build_world, fill

pytestmark = pytest.mark.django_db

# --- the roles ---------------------------------------------------------------------------------
# Console users of account A by role (the author is kept to A's first topic), a superuser, the
# admin of account B ("outsider"), and a logged-in user who is only a member of A's lists.
SESSION = (
    "anonymous",
    "superuser",
    "admin",
    "topic_admin",
    "author",
    "viewer",
    "outsider",
    "member",
)
# API tokens of account A by role, and account B's admin token ("token_outsider").
TOKENS = (
    "anonymous",
    "token_admin",
    "token_topic_admin",
    "token_author",
    "token_viewer",
    "token_outsider",
)
RANK = {"viewer": 0, "author": 1, "topic_admin": 2, "admin": 3}

# Values that must never cost a 500: markup, path tricks, NUL, a line separator, a long string,
# numbers too large for any column, ids that are not numbers.
HOSTILE = (
    {"text": "<script>alert(1)</script>../../etc/passwd\u2028x", "number": "9" * 25},
    {"text": "nul\x00byte", "number": "abc"},
    {"text": "A" * 5000, "number": "-1"},
)


# --- the routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the pattern's name, or its route string when it has none
    route: str  # the full route string, every resolver's prefix included
    area: str  # admin, api, console or public


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    """Each pattern's full route string and full name ("" when it has none)."""
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(x for x in (ns, p.namespace or "") if x)
            yield from _walk(p, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ":".join(x for x in (ns, p.name) if x) if p.name else ""


def routes() -> list[Route]:
    """Every URL pattern, keyed by its name (its route string when it has none)."""
    found = []
    for route, name in _walk(get_resolver()):
        area = route.split("/", 1)[0]
        found.append(
            Route(name or route, route, area if area in ("admin", "api", "console") else "public")
        )
    return found


ROUTES = {r.key: r for r in routes()}


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """What each role gets from one route (GET, or the API operation's own method)."""

    expect: dict[str, Any]  # a status, or a tuple of the statuses allowed
    kw: dict[str, str] = field(default_factory=dict)  # converter → key of a tenant's ids
    post: dict[str, int] = field(default_factory=dict)  # a denial that differs from GET's
    cross: bool = True  # whether B's ids through A's URL can be built (they must 404)
    query: str = ""  # a query string, its {value}s from the tenant's secrets
    errors: tuple[int, ...] = ()  # the 5xx this route answers by design (a health check)
    forms: tuple[str, ...] | None = None  # who posts its forms, if not its area's FORM_ROLES


def matches(status: int, expected: Any) -> bool:
    return status in expected if isinstance(expected, tuple) else status == expected


def console(least: str, *, post_only: bool = False, **kw: Any) -> Row:
    """A console page of account A for its members of at least role `least` (others: 404)."""
    ok = 405 if post_only else 200
    expect = {"anonymous": 302, "superuser": ok, "outsider": 404, "member": 404}
    for role, rank in RANK.items():
        expect[role] = ok if rank >= RANK[least] else 404
    expect.update(kw.pop("get", {}))
    post = kw.pop("post", {})
    return Row(expect, kw=kw, post=post)


def staff(**kw: Any) -> Row:
    """An operator's page: the superuser (Django staff) only; other users 404."""
    expect = {role: 404 for role in SESSION}
    expect.update(anonymous=302, superuser=200)
    expect.update(kw.pop("get", {}))
    return Row(expect, kw=kw, cross=False)


def admin(superuser: int = 200, **kw: Any) -> Row:
    """Django's admin: staff only; everyone else is sent to its login page."""
    expect = {role: 302 for role in SESSION}
    expect["superuser"] = superuser
    post = kw.pop("post", {})
    return Row(expect, kw=kw, post=post, cross=False)


def public(status: int = 200, cross: bool = False, **kw: Any) -> Row:
    """A public page: the same for every visitor unless `get` says otherwise."""
    expect = {role: status for role in SESSION}
    expect.update(kw.pop("get", {}))
    post = kw.pop("post", {})
    query = kw.pop("query", "")
    errors = kw.pop("errors", ())
    forms = kw.pop("forms", None)
    return Row(expect, kw=kw, post=post, cross=cross, query=query, errors=errors, forms=forms)


def api(least: str, ok: int = 200, **kw: Any) -> Row:
    """An API operation for tokens of at least role `least` (lesser tokens: 403; none: 401)."""
    expect = {"anonymous": 401}
    for role, rank in RANK.items():
        expect[f"token_{role}"] = ok if rank >= RANK[least] else 403
    # Account B's token names account A's objects: not found; lists and its own: its own.
    expect["token_outsider"] = kw.pop("outsider", 404)
    expect.update(kw.pop("get", {}))
    return Row(expect, kw=kw)


def post_only(least: str, **kw: Any) -> Row:
    """A console action behind @require_POST: GET is 405 for all; a POST is denied as a page is."""
    page = console(least, **kw)
    denials = {role: s for role, s in page.expect.items() if s in DENIALS}
    return Row({role: 405 for role in SESSION}, kw=page.kw, post=denials)


def admin_model(
    model: str, rows: bool = True, add: int = 200, change_post: int = 0
) -> dict[str, Row]:
    """The six routes Django's admin has for one registered model.

    rows: whether the walk's data has one (else its pages send the superuser back, 302);
    add: 403 where the admin adds none (logs, bounces); change_post: what a POST to a missing
    row's change page answers when it is not the GET's redirect (a read-only admin: 403).
    """
    app, name = model.split(".")
    one = 200 if rows else 302
    return {
        f"admin:{app}_{name}_changelist": admin(),
        f"admin:{app}_{name}_add": admin(add),
        f"admin:{app}_{name}_change": admin(
            one, post={"superuser": change_post} if change_post else {}
        ),
        f"admin:{app}_{name}_delete": admin(one),
        f"admin:{app}_{name}_history": admin(one),
        # Django's redirect from the bare object URL to its change page.
        f"admin/{app}/{name}/<path:object_id>/": admin(302),
    }


DENIALS = (302, 401, 403, 404)
# Every model the admin site registers: a new one fails test_every_route_has_a_row.
ADMIN_MODELS: dict[str, dict[str, Any]] = {
    "auth.group": {},
    "auth.user": {},
    "accounts.account": {},
    "accounts.senderidentity": {},
    "topics.category": {},
    "topics.topic": {},
    "subscribers.subscriber": {},
    "subscribers.suppression": {},
    "subscribers.bounceevent": {"rows": False, "add": 403, "change_post": 403},
    "subscribers.importjob": {},
    "subscribers.subscribesettings": {"rows": False},
    "bulletins.bulletin": {},
    "delivery.send": {},
    "delivery.delivery": {},
    "inbound.inboundmessage": {},
    "lists.mailinglist": {},
    "lists.listmessage": {"rows": False},
    "archive.post": {},
    "archive.comment": {},
    "tracking.link": {},
    "tracking.trackingsettings": {},
    "axes.accessattempt": {"rows": False, "add": 403},
    "axes.accesslog": {"add": 403},
    "axes.accessfailurelog": {"rows": False, "add": 403},
}

# What a POST to a page answers those who may only read it: lists, subscribers and audiences
# are changed by topic admins and admins; the signup form's welcome and the network by admins.
LIST_WRITES = MANAGE_WRITES = {"author": 404, "viewer": 404}
ADMIN_WRITES = {"topic_admin": 404, "author": 404, "viewer": 404}

TABLE: dict[str, Row] = {
    # --- public pages, feeds, media, webhooks --------------------------------------------------
    "home": public(),
    "media": public(),
    "language": public(302, code="=es", post={role: 405 for role in SESSION}),
    "brand_css": public(),
    # 503 while no worker beats (none runs here): the one 5xx by design.
    "healthz": public((200, 503), errors=(503,)),
    "metrics": public(),
    "tracking:open": public(token="recipient"),
    "tracking:click": public(302, token="recipient", link="link"),
    "texting:hook_inbound": public(405, token="hook"),  # the gateway POSTs
    "texting:hook_status": public(405, token="hook"),
    "texting:mine": public(token="subscriber_token"),
    "texting:join": public(),
    "bulletins:web_copy": public(pk="sent"),
    "bulletins:account": public(),
    "bulletins:search": public(),
    "bulletins:topic": public(cross=True, topic="topic_code"),
    "bulletins:topic_feed": public(cross=True, topic="topic_code"),
    "bulletins:month": public(cross=True, topic="topic_code"),
    "subscribers:manage": public(token="subscriber_token"),
    "subscribers:delivery": public(405, token="subscriber_token"),
    "subscribers:language": public(405, token="subscriber_token"),
    "subscribers:answers": public(405, token="subscriber_token"),
    "subscribers:change_address": public(405, token="subscriber_token"),
    "subscribers:delete": public(token="subscriber_token"),
    "subscribers:unsubscribe": public(token="subscriber_token"),
    "subscribers:one_click": public(405, token="subscriber_token"),  # RFC 8058: POST only
    "subscribers:network_offer": public(405, token="network"),
    "subscribers:subscribe": public(),
    "subscribers:embed": public(405),  # other sites' forms POST here
    # Signed for a request this data never made (its nonce): refused, never a 500.
    "subscribers:confirm": public(400, token="confirm"),
    "lists:about": public(),
    "lists:join": public(),
    "lists:leave": public(),
    "lists:confirm": public(token="list_confirm"),
    # The closed list shows its members to its members and operators only.
    "lists:roster": public(
        404, name="private", get={"member": 200, "superuser": 200}, post={r: 405 for r in SESSION}
    ),
    "lists:unsubscribe": public(token="list_member"),
    "lists:reenable": public(token="list_member"),
    "archive:index": public(),
    "archive:feed": public(),
    "archive:search": public(),
    "archive:year": public(),
    "archive:month": public(),
    "archive:month_mbox": public(),
    "archive:thread": public(),
    "archive:thread_mbox": public(),
    "archive:post": public(),
    "archive:comments_feed": public(),
    "archive:post_mbox": public(),
    "archive:attachment": public(),
    "archive:comment_unsubscribe": public(query="t={comment_unsubscribe}"),
    # --- the API's own pages -------------------------------------------------------------------
    "api:v1:openapi-json": public(),
    "api:v1:openapi-view": public(),
    "api:v1:api-root": public(404),
    "api:docs_asset": public(name="=swagger-ui.css"),
    "api/^v1/": public(404),  # anything else under /api/: a JSON 404
    # --- the console ---------------------------------------------------------------------------
    # Its form is the anonymous visitor's (each failed login hashes a password: a second).
    "console:login": public(forms=("anonymous",)),
    "console:logout": public(405),
    # One account: straight to it; none: a page that says so; the superuser: every account.
    "console:home": Row(
        {"anonymous": 302, "superuser": 200, "outsider": 302, "member": 200}
        | {role: 302 for role in RANK}
    ),
    "inbound:outbox": staff(),
    "inbound:message": staff(pk="outbox"),
    "inbound:raw": staff(pk="outbox"),
    "console:account": console("viewer"),
    "console:bulletins": console("viewer"),
    "console:media": console("viewer"),
    "console:templates": console("admin"),
    "console:template": console("admin", pk="template"),
    "console:compose": console("author"),
    "console:bulletin_autosave_new": post_only("author"),
    "console:bulletin_render": post_only("author"),
    "console:bulletin": console("viewer", pk="draft"),
    "console:bulletin_edit": console("author", pk="draft"),
    "console:bulletin_autosave": post_only("author", pk="draft"),
    "console:bulletin_preview": console("author", pk="draft"),
    "console:bulletin_cancel": post_only("author", pk="draft"),
    "console:bulletin_send": console("author", pk="draft"),
    "console:settings": console("admin"),
    "console:users": console("admin"),
    "console:user": console("admin", pk="membership"),
    "console:senders": console("admin"),
    "console:sender_delete": post_only("admin", pk="identity"),
    "console:topics": console("topic_admin"),
    "console:topic_new": console("topic_admin"),
    "console:topic": console("topic_admin", pk="topic"),
    "console:categories": console("topic_admin"),
    "console:category": console("topic_admin", pk="category"),
    "feeds:index": console("viewer"),
    "feeds:add": console("topic_admin"),
    "feeds:drafts": console("viewer"),
    "feeds:draft": console("viewer", pk="feed_draft"),
    "feeds:publish": post_only("topic_admin", pk="feed_draft"),
    "feeds:watch": console("viewer", pk="watch"),
    "feeds:edit": console("topic_admin", pk="watch"),
    "feeds:delete": console("topic_admin", pk="watch"),
    "feeds:poll": post_only("topic_admin", pk="watch"),
    "subscribers_console:list": console("viewer", post=MANAGE_WRITES),
    "subscribers_console:detail": console("viewer", pk="subscriber", post=MANAGE_WRITES),
    "subscribers_console:distribution_list": post_only("topic_admin", pk="subscriber"),
    "subscribers_console:export": console("topic_admin"),
    "subscribers_console:imports": console("topic_admin"),
    "subscribers_console:import_job": console("topic_admin", pk="job"),
    # A job with no errors has no errors file.
    "subscribers_console:import_errors": console(
        "topic_admin", pk="job", get={"superuser": 404, "admin": 404, "topic_admin": 404}
    ),
    "subscribers_console:suppressions": console("viewer"),
    "subscribers_console:suppression_add": post_only("topic_admin"),
    "subscribers_console:suppression_remove": post_only("topic_admin", pk="suppression"),
    "subscribers_console:embed": console("viewer", post=ADMIN_WRITES),
    "subscribers_console:network": console("viewer", post=ADMIN_WRITES),
    "subscribers_console:audiences": console("viewer", post=MANAGE_WRITES),
    "lists_console:index": console("viewer"),
    # A list's pages: read by every member of the account, changed by topic admins and admins.
    "lists_console:settings": console("viewer", post=LIST_WRITES),
    "lists_console:members": console("viewer", post=LIST_WRITES),
    "lists_console:add_members": console("topic_admin"),
    "lists_console:queue": console("viewer", post=LIST_WRITES),
    "lists_console:senders": console("viewer", post=LIST_WRITES),
    "archive_console:comments": console("viewer", post=LIST_WRITES),
    "insights:index": console("viewer"),
    "insights:settings": console("admin"),
    "insights:report": console("viewer", bulletin="sent"),
    "insights:recipients_csv": console("viewer", bulletin="sent"),
    "insights:topic": console("viewer", topic="topic"),
    "api_console:tokens": console("admin"),
    "api_console:revoke": post_only("admin", pk="token"),
    "delivery:sends": console("viewer"),
    "delivery:send": console("viewer", pk="send"),
    "delivery:action": console("author", post_only=True, pk="send", action="=pause"),
    "texts:index": console("viewer"),
    "texts:settings": post_only("admin"),
    "texts:add_number": post_only("admin"),
    "texts:keyword": post_only("admin", topic="topic"),
    # --- the API: what each token role may do; B's token finds none of A's objects --------------
    "api:v1:list_topics": api("viewer", outsider=200),
    # B's token posts A's category id in the body: not in its account.
    "api:v1:add_topic": api("topic_admin", 201, outsider=422),
    "api:v1:get_topic": api("viewer"),
    "api:v1:change_topic": api("topic_admin"),
    # Bulletins went to it: refused, whoever may manage topics.
    "api:v1:remove_topic": api("topic_admin", 422),
    "api:v1:list_categories": api("viewer", outsider=200),
    "api:v1:add_category": api("topic_admin", 201, outsider=201),
    "api:v1:get_category": api("viewer"),
    "api:v1:remove_category": api("topic_admin", 204),
    "api:v1:list_subscribers": api("viewer", outsider=200),
    "api:v1:add_subscriber": api("topic_admin", outsider=422),
    "api:v1:get_subscriber": api("viewer"),
    "api:v1:change_subscriber": api("topic_admin"),
    "api:v1:remove_subscriber": api("topic_admin", 204),
    "api:v1:add_subscription": api("topic_admin"),
    "api:v1:remove_subscription": api("topic_admin"),
    "api:v1:unsubscribe": api("topic_admin"),
    "api:v1:list_bulletins": api("viewer", outsider=200),
    "api:v1:add_bulletin": api("author", 201, outsider=422),
    "api:v1:get_bulletin": api("viewer"),
    "api:v1:change_bulletin": api("author"),
    "api:v1:remove_bulletin": api("author", 204),
    "api:v1:send_now": api("author", 202),
    "api:v1:schedule": api("author"),
    # The draft is not scheduled: refused, for whoever may schedule it.
    "api:v1:unschedule": api("author", 422),
    "api:v1:test_send": api("author"),
    "api:v1:get_status": api("viewer"),
    "api:v1:list_lists": api("viewer", outsider=200),
    # Lists are named across the installation: only an account admin makes one.
    "api:v1:create_mailing_list": api("admin", 201, outsider=201),
    "api:v1:get_list": api("viewer"),
    "api:v1:list_members": api("viewer"),
    "api:v1:add_list_member": api("topic_admin", 201),
    "api:v1:remove_list_member": api("topic_admin", 204),
    "api:v1:list_phones": api("viewer", outsider=200),
    "api:v1:add_phone": api("topic_admin", outsider=422),
    "api:v1:get_phone": api("viewer"),
    "api:v1:change_phone": api("topic_admin"),
    "api:v1:remove_phone": api("topic_admin", 204),
    "api:v1:put_keyword": api("topic_admin"),
    "api:v1:list_received": api("viewer", outsider=200),
    "api:v1:get_network": api("viewer", outsider=200),
    "api:v1:put_network": api("admin", outsider=200),
    "api:v1:whoami": api("viewer", outsider=200),
    "api:v1:list_tokens": api("admin", outsider=200),
    "api:v1:add_token": api("admin", 201, outsider=201),
    "api:v1:revoke_token": api("admin"),
    # --- Django's admin: staff only --------------------------------------------------------------
    "admin:index": admin(),
    # The admin's login: a form for whoever is not staff, the index for the superuser.
    "admin:login": Row(
        {role: 200 for role in SESSION} | {"superuser": 302}, post={"superuser": 200}
    ),
    "admin:logout": admin(405),
    "admin:password_change": admin(),
    "admin:password_change_done": admin(),
    "admin:autocomplete": admin(403, post={"superuser": 405}),
    "admin:jsi18n": admin(),
    "admin:view_on_site": admin(404),
    "admin:auth_user_password_change": admin(),
    "admin:app_list": admin(app_label="=auth"),
    # The admin's catch-all: a missing page, after the login for everyone else.
    "admin/(?P<url>.*)$": admin(404, url="=nothing-here/"),
}
for _model, _statuses in ADMIN_MODELS.items():
    TABLE.update(admin_model(_model, **_statuses))


# --- one module-wide data set ------------------------------------------------------------------


@dataclass
class Walk:
    world: World
    sessions: dict[str, str]

    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        """The role's client, with its session cookie alone (a logout or a form may change it).

        One per role: a client loads the middleware once (WhiteNoise indexes the static files).
        """
        client = self.clients.setdefault(role, Client(raise_request_exception=False))
        client.cookies.clear()
        if role in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client


@pytest.fixture(scope="module")
def walk(django_db_setup: None, django_db_blocker: Any) -> Iterator[Walk]:
    """Build the two accounts once; every test's own transaction is a savepoint inside it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            sessions = {}
            for role, user in world.users.items():
                client = Client()
                client.force_login(user)
                sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield Walk(world, sessions)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def request(client: Client, method: str, path: str, **kwargs: Any) -> HttpResponse:
    """Make one request in a savepoint that is rolled back: no request sees another's writes."""
    with transaction.atomic():
        response = getattr(client, method.lower())(path, **kwargs)
        transaction.set_rollback(True)
    return response  # type: ignore[no-any-return]


def failure(response: HttpResponse) -> str:
    """The exception behind a 5xx, for the test's message."""
    info = getattr(response, "exc_info", None)
    if not info:
        return ""
    return "".join(traceback.format_exception(*info)[-3:]).strip()


# --- filling a route ---------------------------------------------------------------------------

# Converters by name, to keys of a tenant's ids; rows name the others (pk, token, topic…).
DEFAULT_KW = {
    "account": "account",
    "code": "code",
    "name": "list",
    "slug": "post",
    "filename": "media",
    "year": "=2015",
    "month": "=12",
    "position": "position",
    "topic_id": "topic",
    "category_id": "category",
    "subscriber_id": "subscriber",
    "bulletin_id": "draft",
    "list_id": "list_id",
    "member_id": "member",
    "phone_id": "phone",
    "token_id": "token",
}
ACCOUNT_KW = ("account", "code")


def converters(route: str) -> list[str]:
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]


def admin_object(route: str, world: World) -> dict[str, str]:
    """An admin route's object: one of its model's rows (account A's first), else a missing id."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match or match.group(1) == "r":
        return {"content_type_id": "1", "object_id": "1", "id": str(world.users["admin"].pk)}
    model = apps.get_model(match.group(1), match.group(2))
    first = model._default_manager.order_by("pk").first()
    pk = str(first.pk) if first is not None else "999999"
    return {"object_id": pk, "id": pk}


def values(route: Route, row: Row, world: World, tenant: str = "a", account: str = "a") -> dict:
    """The converters' values: account `account`'s code, tenant `tenant`'s objects."""
    own, other = getattr(world, account), getattr(world, tenant)
    found: dict[str, Any] = {}
    if route.area == "admin" and {"object_id", "id"} & set(converters(route.route)):
        found.update(admin_object(route.route, world))
    for name in converters(route.route):
        if name in found:
            continue
        key = row.kw.get(name, DEFAULT_KW.get(name))
        if key is None:
            raise AssertionError(f"{route.key}: the row names no value for <{name}>")
        source = own if name in ACCOUNT_KW else other
        if key.startswith("="):
            found[name] = key[1:]
        elif key in source.ids:
            found[name] = source.ids[key]
        elif key in source.secrets:
            found[name] = source.secrets[key]
        else:
            found[name] = {"outbox": world.outbox, "hook": world.hook}[key]
    return found


# --- forms -------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # name, kind, value


class Forms(HTMLParser):
    """The POST forms of a page, each field as rendered (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = (
                Form(a.get("action", "")) if a.get("method", "").lower() == "post" else None
            )
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is None or tag not in ("input", "select", "option", "textarea"):
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._form.fields.append((a["name"], "unchecked", a.get("value", "on")))
            elif kind not in ("file", "submit", "button", "image", "reset"):
                self._form.fields.append((a["name"], kind, a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._form.fields.append((self._select, "select", a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.fields.append((a["name"], "textarea", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._form is not None and self._select is not None:
            if not any(n == self._select for n, _, _ in self._form.fields):
                self._form.fields.append((self._select, "select", self._first_option or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            name, kind, value = self._form.fields[-1]
            self._form.fields[-1] = (name, kind, value + data)


NUMERIC = ("select", "number", "unchecked", "checkbox", "radio", "hidden")
FORMSET_COUNTS = ("-TOTAL_FORMS", "-INITIAL_FORMS", "-MIN_NUM_FORMS", "-MAX_NUM_FORMS")


def bodies(
    form: Form, hostile: tuple[dict[str, str], ...] = HOSTILE
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """The form as rendered, then each hostile variant of it."""
    valid: dict[str, list[str]] = {}
    for name, kind, value in form.fields:
        if kind != "unchecked":
            valid.setdefault(name, []).append(value)
    yield "valid", valid
    for n, values in enumerate(hostile):
        body: dict[str, list[str]] = {}
        for name, kind, value in form.fields:
            if name == "csrfmiddlewaretoken":
                continue
            if name.endswith(FORMSET_COUNTS):  # kept: a hostile count only builds 1,000 forms
                body.setdefault(name, []).append(value)
                continue
            body.setdefault(name, []).append(values["number" if kind in NUMERIC else "text"])
        yield f"hostile {n}", body


def page_forms(path: str, response: HttpResponse, limit: int = 4) -> list[Form]:
    if "html" not in response.get("Content-Type", "") or not hasattr(response, "content"):
        return []
    parser = Forms()
    parser.feed(response.content.decode("utf-8", errors="replace"))
    seen: dict[str, Form] = {}
    for form in parser.forms:
        action = urljoin(path, form.action or path)
        if urlsplit(action).netloc not in ("", "testserver"):
            continue
        form.action = urlsplit(action).path + (
            f"?{urlsplit(action).query}" if urlsplit(action).query else ""
        )
        seen.setdefault(form.action, form)
    return list(seen.values())[:limit]


# --- the API -----------------------------------------------------------------------------------


def api_operations() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each API operation's URL name → its method and its JSON body's schema (or {})."""
    from tidings.api.v1 import api as ninja

    schema = ninja.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    found = {}
    for _prefix, router in ninja._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                method = op.methods[0]
                doc = schema["paths"].get(f"/api/v1{path}", {}).get(method.lower(), {})
                content = doc.get("requestBody", {}).get("content", {})
                body = content.get("application/json", {}).get("schema", {})
                while "$ref" in body:
                    body = components[body["$ref"].rsplit("/", 1)[1]]
                found[f"api:v1:{op.view_func.__name__}"] = (method, body)
    return found


API_OPERATIONS = api_operations()


def plausible(name: str, spec: dict[str, Any], ids: dict[str, Any]) -> Any:
    """A value a client might send for one field of a body: A's first topic for ids."""
    options = [s for s in spec.get("anyOf", []) if s.get("type") != "null"]
    nullable = len(options) < len(spec.get("anyOf", []))
    spec = options[0] if options else spec
    kind = spec.get("type", "string")
    choices = [c for c in spec.get("enum", [spec.get("const")]) if c]
    if choices:
        return choices[0]
    if kind == "integer":
        return None if nullable else ids["topic"]
    if kind == "array":
        item = spec.get("items", {}).get("type")
        if item == "string":
            return ["walker@example.org"]
        # Ids of the kind the field names (a category's id is not a topic's on PostgreSQL,
        # whose sequences go on across tests).
        return [ids["category"] if name == "categories" else ids["topic"]]
    if kind == "boolean":
        return True
    if kind == "object":
        return {}
    if "email" in name or "address" in name:
        return "walker@example.org"
    if name in ("number", "phone"):
        return "+12025550199"
    if name == "role":
        return "viewer"
    if name in ("code", "keyword", "word"):
        return "WALK"
    if name in ("when", "at", "send_at", "scheduled_at"):
        return "2099-01-01T12:00:00Z"
    return "Walk"


def plausible_body(schema: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any] | None:
    if not schema:
        return None
    return {name: plausible(name, spec, ids) for name, spec in schema.get("properties", {}).items()}


def api_bodies(schema: dict[str, Any], ids: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Empty and hostile JSON bodies (and one that is no JSON at all)."""
    if not schema:
        return
    yield "empty", {}
    for n, hostile in enumerate(HOSTILE):
        body: dict[str, Any] = {}
        for name, value in (plausible_body(schema, ids) or {}).items():
            if isinstance(value, str):
                body[name] = hostile["text"]
            elif isinstance(value, list):
                body[name] = [hostile["number"]]
            else:
                body[name] = hostile["number"] if n == 1 else int("9" * 25)
        yield f"hostile {n}", body
    yield "not json", "{\x00"


def call(walk: Walk, role: str, method: str, path: str, body: Any = None) -> HttpResponse:
    secret = walk.world.api_secrets.get(role)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    if body is None or method == "GET":
        return request(walk.client("anonymous"), method, path, **headers)
    data = body if isinstance(body, str) else json.dumps(body)
    return request(
        walk.client("anonymous"),
        method,
        path,
        data=data,
        content_type="application/json",
        **headers,
    )


# --- the walk ----------------------------------------------------------------------------------
# Who posts each page's forms (as rendered, then hostile): the console's admin and limited
# author, the admin site's superuser, the public's anonymous reader and list member.
FORM_ROLES = {
    "console": ("anonymous", "admin", "author"),
    "admin": ("superuser",),
    "public": ("anonymous", "member"),
    "api": ("anonymous",),
}
VISITORS = {
    "admin": ("anonymous", "admin", "member", "superuser"),
}
# The API's own pages are the same for everyone (and its OpenAPI document takes a second to
# build): an anonymous client and a console user.
FEW = ("anonymous", "admin")


def check_page(walk: Walk, route: Route, row: Row, errors: list[str], seen: dict) -> None:
    path = fill(route.route, values(route, row, walk.world))
    if row.query:
        path += "?" + row.query.format(**walk.world.a.secrets)
    for role in FEW if route.area == "api" else VISITORS.get(route.area, SESSION):
        response = request(walk.client(role), "GET", path)
        status = seen[role] = response.status_code
        expected = row.expect.get(role)
        if status >= 500 and status not in row.errors:
            errors.append(f"GET {path} as {role}: {status}\n{failure(response)}")
        elif expected is not None and not matches(status, expected):
            errors.append(f"GET {path} as {role}: {status}, expected {expected}")
        posted = request(walk.client(role), "POST", path)
        denial = row.post.get(role, expected if expected in DENIALS else None)
        if posted.status_code >= 500 and posted.status_code not in row.errors:
            errors.append(f"POST {path} as {role}: {posted.status_code}\n{failure(posted)}")
        elif denial is not None and posted.status_code != denial:
            errors.append(f"POST {path} (empty) as {role}: {posted.status_code}, expected {denial}")
        posters = FORM_ROLES[route.area] if row.forms is None else row.forms
        if role in posters and status == 200:
            # Django's admin is Django's: its forms get the two variants that found 500s.
            admin_site = route.area == "admin"
            for form in page_forms(path, response, limit=2 if admin_site else 4):
                for what, body in bodies(form, HOSTILE[:2] if admin_site else HOSTILE):
                    answer = request(walk.client(role), "POST", form.action, data=body)
                    if answer.status_code >= 500:
                        errors.append(
                            f"POST {form.action} ({what} form of {path}) as {role}: "
                            f"{answer.status_code}\n{failure(answer)}"
                        )
    others = [n for n in converters(route.route) if n not in ACCOUNT_KW]
    if not (row.cross and others):
        return
    # Account B's objects through account A's URL: not found, whoever asks.
    crossed = fill(route.route, values(route, row, walk.world, tenant="b"))
    for role in ("admin", "superuser") if route.area == "console" else ("anonymous",):
        method = "POST" if row.expect.get(role) == 405 else "GET"
        response = request(walk.client(role), method, crossed)
        if response.status_code != 404:
            errors.append(f"{method} {crossed} (B's ids) as {role}: {response.status_code}")


def check_api(walk: Walk, route: Route, row: Row, errors: list[str], seen: dict) -> None:
    method, schema = API_OPERATIONS[route.key]
    path = fill(route.route, values(route, row, walk.world))
    # Each token with a plausible body: a refusal must come from the role or the tenant, not
    # from the body's shape.
    body = plausible_body(schema, walk.world.a.ids)
    for role in TOKENS:
        response = call(walk, role, method, path, body)
        status = seen[role] = response.status_code
        expected = row.expect.get(role)
        if status >= 500:
            errors.append(f"{method} {path} as {role}: {status}\n{failure(response)}")
        elif expected is not None and not matches(status, expected):
            errors.append(f"{method} {path} as {role}: {status}, expected {expected}")
    for what, hostile in api_bodies(schema, walk.world.a.ids):
        response = call(walk, "token_admin", method, path, hostile)
        if response.status_code >= 500:
            errors.append(f"{method} {path} ({what}) as token_admin: {response.status_code}")
    if row.cross and [n for n in converters(route.route) if n not in ACCOUNT_KW]:
        crossed = fill(route.route, values(route, row, walk.world, tenant="b"))
        response = call(walk, "token_admin", method, crossed, body)
        if response.status_code != 404:
            errors.append(f"{method} {crossed} (B's ids) as token_admin: {response.status_code}")


def test_every_route_has_a_row() -> None:
    """A new URL pattern fails here, by name, until the table says who may reach it."""
    assert len(ROUTES) == len(routes()), "two patterns share a name: key them apart"
    missing = sorted(f"{key} ({ROUTES[key].route})" for key in ROUTES.keys() - TABLE.keys())
    stale = sorted(TABLE.keys() - ROUTES.keys())
    assert not missing, "routes with no row in the table:\n" + "\n".join(missing)
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(stale)


@pytest.mark.parametrize("key", sorted(ROUTES))
def test_route(walk: Walk, key: str) -> None:
    """No 5xx for anyone, each role gets its row's status, B's ids 404, hostile forms too."""
    route = ROUTES[key]
    row = TABLE.get(key)
    if row is None:
        pytest.fail(f"{key} ({route.route}) has no row in the table")
    errors: list[str] = []
    seen: dict[str, int] = {}
    check = check_api if key in API_OPERATIONS else check_page
    check(walk, route, row, errors, seen)
    assert not errors, f"{key}: saw {seen}\n" + "\n".join(errors)


# --- the defects this walk found first -----------------------------------------------------------


def bulletin_pages(w: World) -> list[str]:
    code, ids = w.a.code, w.a.ids
    return [
        f"/console/{code}/bulletins/new/",
        f"/console/{code}/bulletins/{ids['draft2']}/",
        f"/console/{code}/bulletins/{ids['draft2']}/edit/",
        f"/console/{code}/bulletins/{ids['draft2']}/preview/",
        f"/console/{code}/analytics/",
        f"/console/{code}/analytics/bulletins/{ids['sent2']}/",
    ]


def test_it_serves_a_superuser_every_bulletin_page(walk: Walk) -> None:
    """A superuser acts as an account admin: the composer and reports, not a 500."""
    for path in bulletin_pages(walk.world):
        assert request(walk.client("superuser"), "GET", path).status_code == 200, path


def test_it_serves_a_superuser_who_is_also_a_limited_author(walk: Walk) -> None:
    """The demo's admin is a superuser with a membership: their row is used, as an admin's."""
    from tidings.accounts.models import Membership

    with transaction.atomic():
        membership = Membership.objects.create(
            user=walk.world.users["superuser"],
            account_id=walk.world.a.ids["account_pk"],
            role=Membership.AUTHOR,
        )
        membership.topics.set([walk.world.a.ids["topic"]])
        for path in bulletin_pages(walk.world):
            response = walk.client("superuser").get(path)
            assert response.status_code == 200, path
        transaction.set_rollback(True)


def test_it_keeps_a_limited_author_to_their_topics_sends(walk: Walk) -> None:
    """The author of one topic sees and controls that topic's sends only."""
    from tidings.delivery.models import Send

    code, ids = walk.world.a.code, walk.world.a.ids
    author = walk.client("author")
    listing = request(author, "GET", f"/console/{code}/sends/").content.decode()
    assert f"/sends/{ids['send']}/" in listing
    assert f"/sends/{ids['send2']}/" not in listing
    assert f"/sends/{ids['notice_send']}/" not in listing
    for other in (ids["send2"], ids["notice_send"]):
        assert request(author, "GET", f"/console/{code}/sends/{other}/").status_code == 404
        for action in ("pause", "cancel"):
            path = f"/console/{code}/sends/{other}/{action}/"
            assert request(author, "POST", path).status_code == 404
    with transaction.atomic():
        assert author.post(f"/console/{code}/sends/{ids['send2']}/cancel/").status_code == 404
        assert Send.objects.get(pk=ids["send2"]).state != Send.CANCELLED
        assert author.post(f"/console/{code}/sends/{ids['send']}/pause/").status_code == 302
        assert Send.objects.get(pk=ids["send"]).state == Send.PAUSED
        transaction.set_rollback(True)
    # An unlimited member of the account still sees every send.
    listing = request(walk.client("viewer"), "GET", f"/console/{code}/sends/").content.decode()
    assert f"/sends/{ids['send2']}/" in listing and f"/sends/{ids['notice_send']}/" in listing


def test_it_finds_no_row_for_an_id_past_64_bits(walk: Walk) -> None:
    """A multiple choice posted with a number no column holds matches nothing (SQLite: was a
    500, OverflowError), as the same number does for one id."""
    from tidings.topics.models import Topic

    assert list(Topic.objects.filter(pk__in=[int("9" * 25), walk.world.a.ids["topic"]])) == [
        Topic.objects.get(pk=walk.world.a.ids["topic"])
    ]
    assert not Topic.objects.filter(pk__in=[int("9" * 25)]).exists()
    assert not Topic.objects.filter(pk__in=[-int("9" * 25)]).exists()


def test_it_shows_a_limited_author_no_other_topics_bulletin_anywhere(walk: Walk) -> None:
    """Every console page the author may open: no subject of a bulletin of another topic (the
    account's home, the texts page and the sends listed them)."""
    hidden = ("Draft two", "Sent two")
    shown = []
    for key, route in ROUTES.items():
        row = TABLE[key]
        if route.area != "console" or row.expect.get("author") != 200:
            continue
        path = fill(route.route, values(route, row, walk.world))
        response = request(walk.client("author"), "GET", path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        page = body.decode(errors="replace")
        shown += [f"{path}: {subject}" for subject in hidden if subject in page]
    assert not shown


def test_it_finds_a_limited_author_no_other_topics_bulletin_or_send(walk: Walk) -> None:
    """Every console route that names a bulletin or a send, given another topic's: 404 to the
    author kept to one topic (the composer, reports, sends and their actions)."""
    other_topic = {"draft": "draft2", "sent": "sent2", "send": "send2"}
    found, checked = [], 0
    for key, route in ROUTES.items():
        row = TABLE[key]
        names = {k: v for k, v in row.kw.items() if v in other_topic}
        if route.area != "console" or not names or row.expect.get("author") not in (200, 405):
            continue
        swapped = Row(row.expect, kw=row.kw | {k: other_topic[v] for k, v in names.items()})
        path = fill(route.route, values(route, swapped, walk.world))
        method = "GET" if row.expect["author"] == 200 else "POST"
        status = request(walk.client("author"), method, path).status_code
        checked += 1
        if status != 404:
            found.append(f"{method} {path}: {status}")
    assert checked >= 10, "the composer's, the reports' and the sends' routes"
    assert not found
