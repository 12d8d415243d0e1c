"""Fetch a watched URL without letting it reach inside our network.

Only http and https. The host name is resolved once, every address is vetted (no loopback,
private, link-local, unspecified, multicast or reserved address unless the operator allowed the
host name in TIDINGS_FEEDS_ALLOW_HOSTS), and the connection goes to the vetted address itself,
with the Host header and TLS server name of the URL: a second lookup (DNS rebinding) never
happens. Redirects are followed here, each hop vetted the same way; the body is read up to a
size limit and within a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings

REDIRECTS = {301, 302, 303, 307, 308}
# Redirects one fetch follows at most.
MAX_REDIRECTS = 5


class FetchError(Exception):
    """The URL could not be fetched; the message says why, for the watch's page."""


class Refused(FetchError):
    """The URL is not one we may fetch (scheme, address)."""


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def system_resolve(host: str, port: int) -> list[str]:
    """Return the IP addresses of `host`, as getaddrinfo gives them."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"Cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# The seam tests replace to make a name resolve to a chosen address.
resolve: Callable[[str, int], list[str]] = system_resolve


def tls_context() -> ssl.SSLContext:
    """Return the client TLS context: the system's CAs, host names checked."""
    return ssl.create_default_context()


def is_public(address: str) -> bool:
    """Whether an IP address is a public unicast one (not ours, not our neighbours')."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 and 64:ff9b::10.0.0.1 reach the IPv4 address inside.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in ipaddress.ip_network("64:ff9b::/96"):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


def vet(url: str) -> tuple[str, str, int, list[str]]:
    """Return (scheme, host, port, addresses to connect to) for a URL we may fetch, else refuse."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"Not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"Only http and https URLs can be watched, not {scheme or 'this'!r}.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("The URL has no host name.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused(f"{host!r} is not a valid host name.") from None
    port = port or (443 if scheme == "https" else 80)
    try:
        ipaddress.ip_address(host.split("%")[0])
        addresses = [host]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"{host} has no address.")
    if host.lower() not in settings.FEEDS_ALLOW_HOSTS:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"{host} resolves to {address}, a private or reserved address; "
                    "an operator can allow the host in TIDINGS_FEEDS_ALLOW_HOSTS."
                )
    return scheme, host, port, addresses


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """Connect to the first vetted address that answers, never to a name."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _Connection(http.client.HTTPConnection):
    """HTTP to vetted addresses, with the URL's host name in the Host header."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to vetted addresses; the certificate is checked against the URL's host name."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=tls_context())
        self.addresses = addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _read(resp: http.client.HTTPResponse, limit: int, deadline: float) -> bytes:
    length = resp.getheader("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise FetchError(f"The response is {int(length)} bytes, over the {limit}-byte limit.")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(
                f"The server took over {settings.FEEDS_DEADLINE} seconds to send the response."
            )
        chunk = resp.read1(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise FetchError(f"The response is over the {limit}-byte limit.")
    return b"".join(chunks)


def _cut(conn: http.client.HTTPConnection) -> None:
    """End a connection from the watchdog thread: a blocked read returns at once."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _request(url: str, headers: dict[str, str], deadline: float) -> Response:
    scheme, host, port, addresses = vet(url)
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    cls = _TLSConnection if scheme == "https" else _Connection
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(
            f"Gave up on {url}: the fetch took over {settings.FEEDS_DEADLINE} seconds."
        )
    conn = cls(host, port, addresses, timeout=min(settings.FEEDS_TIMEOUT, remaining))
    # The hard deadline: whatever the socket is waiting for (headers dripping in, a body one
    # byte at a time), it is cut when the time is up.
    watchdog = threading.Timer(remaining, _cut, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("GET", target, headers=headers)
        resp = conn.getresponse()
        status = resp.status
        got = {name.lower(): value for name, value in resp.getheaders()}
        body = (
            b""
            if status in REDIRECTS or status == 304
            else _read(resp, settings.FEEDS_MAX_BYTES, deadline)
        )
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if time.monotonic() >= deadline:
            raise FetchError(
                f"Gave up on {url}: the fetch took over {settings.FEEDS_DEADLINE} seconds."
            ) from None
        raise FetchError(f"Cannot fetch {url}: {exc or type(exc).__name__}") from None
    finally:
        watchdog.cancel()
        conn.close()
    return Response(url=url, status=status, headers=got, body=body)


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Response:
    """GET `url` (conditionally when validators are given); return a 200 or 304 response."""
    headers = {
        "User-Agent": settings.FEEDS_USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml, text/xml, "
        "text/html;q=0.9, */*;q=0.8",
        "Accept-Encoding": "identity",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.FEEDS_DEADLINE
    for _hop in range(MAX_REDIRECTS + 1):
        response = _request(url, headers, deadline)
        if response.status not in REDIRECTS:
            break
        location = response.headers.get("location", "")
        if not location:
            raise FetchError(f"HTTP {response.status} redirect without a Location.")
        url = urljoin(url, location)
    else:
        raise FetchError(f"More than {MAX_REDIRECTS} redirects.")
    if response.status not in (200, 304):
        raise FetchError(f"HTTP {response.status} from {url}.")
    return response
