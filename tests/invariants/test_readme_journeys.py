"""The README's journeys, followed as a user follows them: `tidings demo` runs as a real process
(what `make demo` runs) with its own data dir and free ports; the test reads what it printed,
logs in as the printed admin, writes, previews and sends a bulletin, finds it in the printed
captured outbox and the printed archive, and opens every page and API example the README names.

Nothing here is copied from the demo: the addresses and the password are those it printed, the
form fields those its pages carry."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import unescape
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPCookieProcessor, ProxyHandler, Request, build_opener
from zoneinfo import ZoneInfo

import pytest

from tests.paths import ROOT

README = (ROOT / "README.md").read_text()
PRINTED = re.compile(r"^  (?P<label>\S.*?)\s{2,}(?P<url>https?://\S+)$", re.MULTILINE)
SUBJECT = "Consular hours extended"
BODY = "The consular section opens **on Saturdays** from June."


# -- A browser without JavaScript: cookies, redirects, forms with their CSRF token -------------


@dataclass
class Page:
    status: int
    url: str
    text: str
    body: bytes = b""


@dataclass
class Form:
    action: str
    method: str
    fields: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        """Every value a field of this name may take (each checkbox's, each option's)."""
        found: list[str] = []
        for f in self.fields:
            if f["name"] == name:
                found += (
                    [value for value, _ in f["options"]] if f["tag"] == "select" else [f["value"]]
                )
        return found

    def data(self, click: tuple[str, str] | None = None, **given: Any) -> list[tuple[str, str]]:
        """What a browser submits: the fields as the page filled them, `given` instead where
        named, and the button clicked."""
        pairs: list[tuple[str, str]] = []
        for f in self.fields:
            name, kind = f["name"], f["type"]
            if not name or name in given or kind in ("submit", "button", "image", "file"):
                continue
            if f["tag"] == "select":
                options = f["options"]
                chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
                pairs += [(name, v) for v in chosen]
            elif kind in ("checkbox", "radio"):
                if f["checked"]:
                    pairs.append((name, f["value"] or "on"))
            else:
                pairs.append((name, f["value"]))
        for name, value in given.items():
            pairs += [(name, str(v)) for v in (value if isinstance(value, list) else [value])]
        if click is not None:
            assert click in self.buttons, f"no button {click} in {self.buttons}"
            pairs.append(click)
        return pairs


class _Forms(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url, self.forms, self._select, self._textarea = url, [], None, None
        self.forms: list[Form]
        self._select: dict[str, Any] | None
        self._textarea: dict[str, Any] | None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.url, a.get("action") or self.url)
            self.forms.append(Form(action, a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input":
            self.forms[-1].fields.append(
                {"tag": tag, "name": a.get("name", ""), "type": a.get("type", "text").lower(),
                 "value": a.get("value", ""), "checked": "checked" in a}
            )  # fmt: skip
            if a.get("type", "").lower() == "submit" and a.get("name"):
                self.forms[-1].buttons.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self.forms[-1].buttons.append((a.get("name", ""), a.get("value", "")))
        elif tag == "select":
            self._select = {"tag": tag, "name": a.get("name", ""), "type": "select", "options": []}
            self.forms[-1].fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = {
                "tag": tag,
                "name": a.get("name", ""),
                "type": "textarea",
                "value": "",
            }
            self.forms[-1].fields.append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._textarea["value"] = self._textarea["value"].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data


def forms(page: Page) -> list[Form]:
    parser = _Forms(page.url)
    parser.feed(page.text)
    return parser.forms


def form_to(page: Page, path_end: str) -> Form:
    """The page's form that posts to an address ending with `path_end`."""
    for found in forms(page):
        if urlsplit(found.action).path.endswith(path_end):
            return found
    raise AssertionError(f"no form posting to …{path_end} on {page.url}:\n{page.text[:3000]}")


def links(page: Page, text: str | None = None) -> list[str]:
    """The addresses of the page's links (whose text contains `text`, when given)."""
    found = []
    for href, inner in re.findall(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>(.*?)</a>', page.text, re.S):
        if text is None or text in unescape(re.sub(r"<[^>]+>", "", inner)):
            found.append(urljoin(page.url, unescape(href)))
    return found


class Browser:
    """One person's browser: a cookie jar, redirects followed, no JavaScript."""

    def __init__(self) -> None:
        # No proxy from the environment: the demo is on loopback.
        self.opener = build_opener(ProxyHandler({}), HTTPCookieProcessor(CookieJar()))

    def open(self, url: str, data: list[tuple[str, str]] | None = None, **headers: str) -> Page:
        body = urlencode(data).encode() if data is not None else None
        request = Request(url, data=body, headers={"Referer": url, **headers})
        try:
            with self.opener.open(request, timeout=30) as response:
                raw = response.read()
                return Page(response.status, response.geturl(), raw.decode("utf-8", "replace"), raw)
        except HTTPError as error:
            raw = error.read()
            return Page(error.code, error.geturl(), raw.decode("utf-8", "replace"), raw)

    def submit(self, form: Form, click: tuple[str, str] | None = None, **given: Any) -> Page:
        assert form.method == "post", form
        return self.open(form.action, form.data(click, **given))


def ok(page: Page, *expected: str) -> Page:
    assert page.status == 200, f"{page.url} answered {page.status}:\n{page.text[:3000]}"
    for text in expected:
        assert text in unescape(page.text), f"{text!r} not on {page.url}:\n{page.text[:3000]}"
    return page


def eventually(what: str, attempt: Callable[[], Any], seconds: float = 60) -> Any:
    """Retry until `attempt` returns something true (mail and posts arrive a moment later)."""
    deadline = time.monotonic() + seconds
    while True:
        found = attempt()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


# -- The demo as `make demo` runs it -------------------------------------------------------------


@dataclass
class Demo:
    env: dict[str, str]
    base: str
    output: list[str]
    pages: dict[str, str] = field(default_factory=dict)
    password: str = ""
    admin: Browser = field(default_factory=Browser)

    def said(self) -> str:
        return "".join(self.output)

    def tidings(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tidings", *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def demo_database() -> Iterator[dict[str, str]]:
    """The demo's own database: a fresh PostgreSQL one on the PostgreSQL run of the suite
    (dropped after), else none given, and the demo keeps SQLite in its data dir."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {}
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'tidings'}_readme_{os.getpid()}"
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": parts._replace(path=f"/{name}").geturl()}
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def demo_env(data: Path) -> dict[str, str]:
    """An installation of its own: a fresh data dir and free ports."""
    http = free_port()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TIDINGS_", "DATABASE_URL", "DJANGO_"))
    }
    return environ | {
        "TIDINGS_DATA_DIR": str(data),
        "TIDINGS_BASE_URL": f"http://127.0.0.1:{http}",
        "TIDINGS_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
        "TIDINGS_SMSC_LISTEN": f"127.0.0.1:{free_port()}",
        "PYTHONUNBUFFERED": "1",
    }


def answers(url: str) -> bool:
    try:
        Browser().open(url)
    except URLError:
        return False
    return True


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_database() as database:
        yield from run_demo(demo_env(tmp_path_factory.mktemp("demo") / "data") | database)


def run_demo(env: dict[str, str]) -> Iterator[Demo]:
    # `make demo` runs `tidings demo` and nothing else: no flag here either; the web server
    # listens where the base URL (the printed links) points.
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "demo"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    found = Demo(env, env["TIDINGS_BASE_URL"], [])
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: found.output.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        eventually(
            "the demo to say it runs",
            lambda: "Tidings is running" in found.said() or process.poll() is not None,
            120,
        )
        assert process.poll() is None, f"tidings demo stopped:\n{found.said()}"
        # `serve` says it runs once its pages answer: the user opens the links at once.
        assert answers(found.base + "/"), f"nothing answers at {found.base}:\n{found.said()}"
        printed = found.said()
        found.pages = {m["label"]: m["url"] for m in PRINTED.finditer(printed)}
        password = re.search(r"Log in as admin / (\S+)", printed)
        assert password, printed
        found.password = password[1]
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        print(found.said()[-8000:])  # shown when a test failed: what the demo's processes said


@pytest.fixture(scope="module")
def logged_in(demo: Demo) -> Demo:
    """The printed admin, logged in through the printed console address."""
    login = ok(demo.admin.open(demo.pages["Publisher console (log in as admin)"]))
    assert "/console/login/" in login.url, login.url
    home = demo.admin.submit(
        form_to(login, "/console/login/"), username="admin", password=demo.password
    )
    ok(home, "U.S. Department of State")
    assert home.url == demo.pages["Publisher console (log in as admin)"], home.url
    return demo


def test_the_demo_prints_pages_that_answer(demo: Demo, logged_in: Demo) -> None:
    assert "Published the press release" in demo.said()
    labels = set(demo.pages)
    assert {"Home", "Captured outbox", "Administration", "wanabidii archive"} <= labels, labels
    for label, url in demo.pages.items():
        assert url.startswith(demo.base + "/"), f"{label}: {url} is not on {demo.base}"
        ok(logged_in.admin.open(url))
    # Anyone may open the public ones; the outbox is for operators.
    for label in ("Home", "Subscribe to the State Department", "wanabidii archive"):
        ok(Browser().open(demo.pages[label]))
    assert "/console/login/" in Browser().open(demo.pages["Captured outbox"]).url
    # The press release the demo published went through the list into its archive.
    eventually(
        "the press release in the list's archive",
        lambda: (
            "United States and Cuba Hold Migration Talks"
            in Browser().open(demo.pages["wanabidii archive"]).text
        ),
    )


def test_the_printed_admin_writes_previews_and_sends_a_bulletin(logged_in: Demo) -> None:
    demo, admin = logged_in, logged_in.admin
    console = demo.pages["Publisher console (log in as admin)"]
    compose = ok(admin.open(urljoin(console, "bulletins/new/")), "New bulletin")
    writing = form_to(compose, "/bulletins/new/")
    topics = writing.values("topics")
    assert topics, "the composer offers no topic"
    reader = "reader@example.org"
    preview = ok(
        admin.submit(writing, ("action", "preview"), subject=SUBJECT, body=BODY, topics=topics,
                     preview_as=reader),
        f"Preview for {reader}", f"Press Releases: {SUBJECT}",
    )  # fmt: skip
    assert "/edit/" in preview.url, preview.url
    frame = re.search(r'<iframe src="([^"]+)"', preview.text)
    assert frame, preview.text[:3000]
    ok(admin.open(urljoin(preview.url, unescape(frame[1]))), "<strong>on Saturdays</strong>")

    confirm = ok(admin.submit(form_to(preview, "/edit/"), ("action", "send")))
    shown = re.search(r'id="recipient-total">(\d+) subscribers?<', confirm.text)
    assert shown, confirm.text[:3000]
    # The list's address and the demo's reader follow Press Releases.
    assert int(shown[1]) == 2
    sent = ok(admin.submit(form_to(confirm, "/send/")), "on its way")
    detail_url = sent.url

    # It reaches the reader in the captured outbox that the demo printed, with working links.
    outbox = demo.pages["Captured outbox"]

    def captured_for_reader() -> str:
        page = ok(admin.open(outbox))
        rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
        for row in rows:
            if reader in row and SUBJECT in unescape(row):
                return links(Page(200, page.url, row))[0]
        return ""

    message = ok(admin.open(eventually("the bulletin in the outbox", captured_for_reader)))
    raw = admin.open(links(message, "Download .eml")[0])
    assert raw.status == 200
    mail = message_from_bytes(raw.body, _class=EmailMessage, policy=default)
    assert mail["Subject"] == f"Press Releases: {SUBJECT}"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    manage = re.search(r"Manage Subscriptions: (\S+)", text)
    assert manage and manage[1].startswith(demo.base + "/"), text
    ok(Browser().open(manage[1]), reader)

    # The bulletin's page links its web copy, which anyone may read; its report answers.
    detail = ok(admin.open(detail_url))
    copies = [u for u in links(detail) if re.fullmatch(r"/bulletins/\d+/", urlsplit(u).path)]
    assert copies, detail.text[:3000]
    ok(Browser().open(copies[0]), SUBJECT, "on Saturdays")
    for report in links(detail, "Report"):
        ok(admin.open(report), SUBJECT)

    # The list relays it to its members and archives it under the printed archive address.
    archive = demo.pages["wanabidii archive"]
    tagged = f"[wanabidii] Press Releases: {SUBJECT}"
    post = eventually(
        "the bulletin in the list's archive",
        lambda: links(Browser().open(archive), tagged),
    )
    ok(Browser().open(post[0]), tagged, "Post a Comment", "on Saturdays")
    eventually(
        "the members' copies in the outbox",
        lambda: (
            admin.open(outbox).text.count(unescape(tagged)) >= 3
            or unescape(admin.open(outbox).text).count(tagged) >= 3
        ),
    )


# -- Every page the README names, with the demo's values in its placeholders -------------------


def readme_paths() -> list[str]:
    """The site's addresses the README names: `/…` in prose, and the console table's pages."""
    found = re.findall(r"`(/(?:[^`\s])*)`", README)
    table = README.split("Under `/console/<ACCOUNT>/`:", 1)[1].lstrip().split("\n\n", 1)[0]
    rows = table.splitlines()[2:]
    assert rows and all(row.startswith("|") for row in rows), table
    for row in rows:
        anchor = previous = ""
        cell = row.split("|")[1]
        # "`lists/<name>/` and its `members/`", "`analytics/bulletins/<id>/` (+ `recipients.csv`)"
        for before, written in re.findall(r"([^`]*)`([^`]+)`", cell):
            if written.startswith("/"):
                found.append(written)
                continue
            if " its " in f" {before}":
                anchor = previous
            path = (previous if "(+" in before else anchor) + written
            found.append(f"/console/<ACCOUNT>/{path}")
            previous = path
    return found


def linked_id(browser: Browser, base: str, prefix: str) -> str:
    """The id in the first link to `prefix<id>/` on the page at `prefix`, at its parent, or
    (web copies) on the topic's archive."""
    parent = prefix.rstrip("/").rpartition("/")[0] + "/"
    for listing in (prefix, parent, "/bulletins/USSTATEBPA/USSTATEBPA_1/"):
        found = re.search(rf'href="{re.escape(prefix)}(\d+)/', browser.open(base + listing).text)
        if found:
            return found[1]
    return "<id>"  # none yet (the demo has no feed): left unresolved, skipped


# What a README address answers the printed admin when it is not a page to read.
NOT_PAGES = {
    "/subscriptions/<ACCOUNT>/embed/": 405,  # takes other sites' signup forms, by POST only
    "/lists/<name>/members/": 404,  # the demo's list does not show its roster
}


def test_every_page_the_readme_names_answers_the_printed_admin(logged_in: Demo) -> None:
    demo, admin = logged_in, logged_in.admin
    manage = demo.pages["reader@example.org's subscriptions"]
    values = {
        "ACCOUNT": "USSTATEBPA",
        "ACCOUNT_CODE": "USSTATEBPA",
        "TOPIC": "USSTATEBPA_1",
        "name": "wanabidii",
        "year": str(datetime.now(ZoneInfo("Africa/Nairobi")).year),
    }
    answered, skipped = {}, []
    for written in readme_paths():
        path = written.replace("/language/<code>/?next=<page>", "/language/es/?next=/")
        path = path.replace(
            "/manage/<token>/", urlsplit(manage).path.removeprefix("/subscriptions")
        )
        path = re.sub(r"<(\w+)>", lambda m: values.get(m[1], m[0]), path).replace("?q=", "?q=Cuba")
        if "<id>" in path:  # the first one the console lists (a bulletin, a subscriber…)
            path = path.replace("<id>", linked_id(admin, demo.base, path.split("<id>")[0]), 1)
        if (
            re.search(r"<\w+>|\{\w+\}", path)  # a value only mail or another page gives
            or (re.fullmatch(r"/[a-z]+", path) and path not in ("/healthz", "/metrics"))
            or (
                path.startswith("/api/v1/")
                and not path.startswith(("/api/v1/docs", "/api/v1/openapi"))
            )
        ):  # an API resource: the API test calls them with a token
            skipped.append(written)
            continue
        answered[written] = admin.open(demo.base + path).status
    wrong = {w: s for w, s in answered.items() if s != NOT_PAGES.get(w, 200)}
    assert not wrong, f"README addresses that answered otherwise: {wrong}"
    print("skipped:", skipped)
    assert len(answered) >= 40, (answered, skipped)


def test_the_readme_api_example_runs_as_written(demo: Demo) -> None:
    # An admin's token: the example needs an author's, /tokens below an admin's.
    made = demo.tidings("create-api-token", "--account", "USSTATEBPA", "--name", "readme",
                        "--role", "admin", "--json")  # fmt: skip
    token = json.loads(made.stdout)["secret"]
    example = README.split("```sh\ncurl", 1)[1].split("```", 1)[0]
    body = json.loads(re.search(r"-d '([^']+)'", example)[1])  # type: ignore[index]
    urls = re.findall(r"http://127\.0\.0\.1:8000(\S+)", example)
    assert [re.sub(r"/\d+/", "/N/", u) for u in urls] == [
        "/api/v1/bulletins",
        "/api/v1/bulletins/N/send",
    ]
    auth = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = Request(
            demo.base + path, method=method,
            data=json.dumps(data).encode() if data is not None else None,
            headers={**auth, "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with build_opener(ProxyHandler({})).open(request, timeout=30) as response:
                raw = response.read()
                kind = response.headers.get_content_type()
                return response.status, json.loads(raw) if kind == "application/json" else raw
        except HTTPError as error:
            return error.code, error.read().decode()

    status, topics = call("GET", "/api/v1/topics")
    assert status == 200, topics
    # The example's topic id and bulletin id are the reader's own: the demo's are used.
    body["topics"] = [t["id"] for t in topics["items"]]
    status, created = call("POST", urls[0], body)
    assert status in (200, 201), created
    status, sent = call("POST", re.sub(r"/\d+/", f"/{created['id']}/", urls[1]))
    assert status in (200, 202), sent
    status, shown = call("GET", f"/api/v1/bulletins/{created['id']}/status")
    assert status == 200 and shown, shown
    # Every collection the README names reads back.
    named = README.split("- Resources:", 1)[1].split("\n\n", 1)[0]
    item_actions = {"/unsubscribe", "/send", "/schedule", "/test", "/status", "/members"}
    resources = [r for r in re.findall(r"`(/[a-z]+)`", named) if r not in item_actions]
    resources += [
        p.removeprefix("/api/v1") for p in re.findall(r"`(/api/v1/[a-z/]+)`", README)
        if p != "/api/v1/" and "{" not in p
    ]  # fmt: skip
    answered = {resource: call("GET", "/api/v1" + resource)[0] for resource in resources}
    assert answered and set(answered.values()) == {200}, answered
    assert {"/account", "/tokens", "/phones", "/network"} <= set(answered), answered


def test_the_readmes_command_line_chain_runs_as_written(logged_in: Demo, tmp_path: Path) -> None:
    """`The whole chain without the web UI`, line by line, on the running demo (its `tidings
    serve` is the one the demo started)."""
    demo = logged_in
    chain = README.split("The whole chain without the web UI:\n\n```sh\n", 1)[1].split("```")[0]
    (tmp_path / "closure.md").write_text(
        "Main Street Closed Saturday\n\nMain Street is closed from 8 am for the parade.\n"
    )
    ran = []
    for line in chain.splitlines():
        for command in line.split("#", 1)[0].split("&&"):
            argv = shlex.split(command)
            assert argv[0] == "tidings", line
            if argv[1] == "serve":
                continue  # running already: the demo's
            done = subprocess.run(
                [sys.executable, "-m", "tidings", *argv[1:]],
                env=demo.env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            ran.append(argv[1])
    assert ran[-1] == "status" and "publish" in ran, ran

    def delivered() -> dict[str, str]:
        sends = json.loads(demo.tidings("status", "--json").stdout)["sends"]
        return {
            s["kind"]: s["state"]
            for s in sends
            if "Main Street Closed Saturday" in s["what"] or s["what"].startswith("springfield@")
        }

    # The list's member gets the relayed post, kept in the captured outbox (read over HTTP:
    # cheaper to ask again than a `tidings status` process).
    def homers_copy() -> bool:
        outbox = ok(logged_in.admin.open(logged_in.pages["Captured outbox"]))
        rows = [unescape(row) for row in re.findall(r"<tr>(.*?)</tr>", outbox.text, re.S)]
        return any("homer@example.org" in r and "Main Street Closed" in r for r in rows)

    eventually("the member's copy of the chain's post", homers_copy)
    done = {"bulletin": "done", "list_post": "done"}
    eventually("the chain's sends done", lambda: delivered() == done)
