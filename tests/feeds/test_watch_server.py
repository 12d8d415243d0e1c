"""Safe fetching of watched URLs, against a real HTTP server on 127.0.0.1.

The server is reachable only as "feeds.test", a name the operator allow-list opens (a stub
resolver maps it to 127.0.0.1); the same server by its own address, and every other name that
resolves to a loopback, private, link-local or IPv6 loopback address, stays refused, directly or
through a redirect. The FeedServer and fixtures here serve the other test_watch_* files.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from tests.certificates import self_signed
from tests.paths import SHARED
from tidings.feeds import fetch
from tidings.feeds.fetch import FetchError, Refused

FEEDS = SHARED / "corpus" / "feeds" / "realworld"
SNAPSHOTS = sorted(FEEDS.glob("whitehouse_briefings_snap*.xml"))

# What the stub resolver answers; anything else does not resolve.
NAMES = {
    "feeds.test": ["127.0.0.1"],
    "evil.test": ["127.0.0.1"],
    "intranet.test": ["10.1.2.3"],
    "metadata.test": ["169.254.169.254"],
    "six.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "mixed.test": ["93.184.216.34", "192.168.1.10"],
    "other.test": ["127.0.0.1"],
}


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    content_length: bool = True


class FeedServer:
    """A local HTTP server whose answers a test sets per path, recording every request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path, Route(status=404, body=b"not found"))
                if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.content_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "feeds.test") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def serve(
        self, path: str, body: bytes | Path, content_type: str = "application/rss+xml", **kw: object
    ) -> str:
        data = body.read_bytes() if isinstance(body, Path) else body
        headers = {"Content-Type": content_type}
        self.routes[path] = Route(body=data, headers=headers, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers={"Location": location})
        return self.url(path)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def stub_resolve(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise FetchError(f"Cannot resolve {host}")
    return NAMES[host]


def running_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """Run the local feed server, allowed by name (feeds.test) and by nothing else."""
    monkeypatch.setattr(fetch, "resolve", stub_resolve)
    monkeypatch.setattr(settings, "FEEDS_ALLOW_HOSTS", {"feeds.test"})
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


def test_it_fetches_from_an_allowed_host_by_name(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", SNAPSHOTS[0])
    response = fetch.fetch(url)
    assert response.status == 200
    assert response.body == SNAPSHOTS[0].read_bytes()
    path, headers = feed_server.requests[0]
    assert path == "/feed.xml"
    assert headers["host"] == f"feeds.test:{feed_server.port}"


@pytest.mark.parametrize(
    "host",
    [
        *("127.0.0.1", "evil.test", "10.0.0.7", "intranet.test", "169.254.169.254"),
        *("metadata.test", "[::1]", "six.test", "[::ffff:127.0.0.1]", "mapped.test"),
        *("mixed.test", "0.0.0.0"),  # noqa: S104 - a URL that must be refused, not a bind
    ],
)
def test_it_refuses_private_addresses(feed_server: FeedServer, host: str) -> None:
    feed_server.serve("/feed.xml", SNAPSHOTS[0])
    with pytest.raises(Refused, match="private or reserved"):
        fetch.fetch(feed_server.url("/feed.xml", host=host))
    assert feed_server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        *("http://127.0.0.1:{port}/feed.xml", "http://evil.test:{port}/feed.xml"),
        *("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/"),
    ],
)
def test_it_refuses_a_redirect_to_a_private_address(feed_server: FeedServer, target: str) -> None:
    feed_server.serve("/feed.xml", SNAPSHOTS[0])
    url = feed_server.redirect("/moved", target.format(port=feed_server.port))
    with pytest.raises(Refused, match="private or reserved"):
        fetch.fetch(url)
    assert feed_server.paths() == ["/moved"]


def test_it_follows_a_redirect_on_the_allowed_host(feed_server: FeedServer) -> None:
    feed_server.serve("/feed.xml", SNAPSHOTS[1])
    url = feed_server.redirect("/old", "/feed.xml", status=301)
    response = fetch.fetch(url)
    assert response.url == feed_server.url("/feed.xml")
    assert response.body == SNAPSHOTS[1].read_bytes()


def test_it_stops_after_five_redirects(feed_server: FeedServer) -> None:
    for n in range(7):
        feed_server.redirect(f"/r{n}", f"/r{n + 1}")
    with pytest.raises(FetchError, match="More than 5 redirects"):
        fetch.fetch(feed_server.url("/r0"))
    assert len(feed_server.requests) == 6


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://feeds.test/feed.xml", "gopher://feeds.test/", "feeds.test"]
)
def test_it_refuses_other_schemes(feed_server: FeedServer, url: str) -> None:
    with pytest.raises(Refused, match="Only http and https"):
        fetch.fetch(url)


def test_it_connects_to_the_vetted_address_without_resolving_again(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebinding name: public the first time it is looked up, loopback afterwards.
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    lookups: list[str] = []
    connects: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    def connect(address: tuple[str, int], *args: object, **kw: object) -> object:
        connects.append(address)
        raise OSError("no route (test)")

    monkeypatch.setattr(fetch, "resolve", rebinding)
    monkeypatch.setattr(fetch.socket, "create_connection", connect)
    with pytest.raises(FetchError, match="no route"):
        fetch.fetch(f"http://rebind.test:{feed_server.port}/feed.xml")
    assert lookups == ["rebind.test"]
    assert connects == [("93.184.216.34", feed_server.port)]


def test_it_refuses_a_response_over_the_size_limit(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "FEEDS_MAX_BYTES", 1000)
    url = feed_server.serve("/big.xml", b"<rss>" + b"x" * 5000, content_length=False)
    with pytest.raises(FetchError, match="over the 1000-byte limit"):
        fetch.fetch(url)
    declared = feed_server.serve("/declared.xml", b"y" * 5000)
    with pytest.raises(FetchError, match="5000 bytes, over the 1000-byte limit"):
        fetch.fetch(declared)


def test_it_sends_the_validators_and_accepts_304(feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/feed.xml", SNAPSHOTS[0], etag='"v1"', last_modified="Tue, 18 Aug 2026 13:40:53 GMT"
    )
    first = fetch.fetch(url)
    assert first.headers["etag"] == '"v1"'
    again = fetch.fetch(url, etag='"v1"', last_modified="Tue, 18 Aug 2026 13:40:53 GMT")
    assert again.status == 304
    assert again.body == b""
    headers = feed_server.requests[1][1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Tue, 18 Aug 2026 13:40:53 GMT"


def test_it_reports_http_errors(feed_server: FeedServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch.fetch(feed_server.url("/missing.xml"))


@pytest.fixture
def tls_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FeedServer]:
    """The feed server over TLS, with a certificate for feeds.test from a throwaway CA."""
    cert, key = self_signed(tmp_path, "feeds.test", "DNS:feeds.test")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    monkeypatch.setattr(fetch, "resolve", stub_resolve)
    monkeypatch.setattr(settings, "FEEDS_ALLOW_HOSTS", {"feeds.test", "other.test"})
    server = FeedServer(tls=server_side)
    server.ca = cert  # type: ignore[attr-defined]
    yield server
    server.close()


def trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_it_speaks_tls_to_the_vetted_address_with_the_urls_host_name(
    tls_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "tls_context", lambda: trusting(tls_server.ca))  # type: ignore[attr-defined]
    url = tls_server.serve("/feed.xml", SNAPSHOTS[0])
    assert url.startswith("https://feeds.test:")
    assert fetch.fetch(url).body == SNAPSHOTS[0].read_bytes()


def test_it_checks_the_certificate_against_the_urls_host_name(
    tls_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "tls_context", lambda: trusting(tls_server.ca))  # type: ignore[attr-defined]
    tls_server.serve("/feed.xml", SNAPSHOTS[0])
    with pytest.raises(FetchError, match=r"certificate|hostname"):
        fetch.fetch(tls_server.url("/feed.xml", host="other.test"))


def test_it_refuses_an_untrusted_certificate(tls_server: FeedServer) -> None:
    url = tls_server.serve("/feed.xml", SNAPSHOTS[0])
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch.fetch(url)


def test_it_looks_up_international_names_in_their_ascii_form(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(NAMES, "xn--bcher-kva.test", ["127.0.0.1"])
    with pytest.raises(Refused, match=r"^xn--bcher-kva\.test resolves to 127\.0\.0\.1"):
        fetch.fetch(f"http://bücher.test:{feed_server.port}/")
