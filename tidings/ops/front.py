"""The front of the web application: the requests that come by the million are answered here,
before Django builds a request: the open image and click redirects of a large send (counted in
batches, tracking.hits) and public pages already rendered (lib.pagecache). Everything else, and
anything the front is unsure of, goes to Django: a request with any cookie but the CSRF and
language ones (as Django reads them) or an Authorization header, and every page while the cache
fails (lib.pagecache leaves a failed cache alone a few seconds, so a hung one costs one
request its timeout)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tidings.lib import pagecache
from tidings.tracking import hits

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Never stored anywhere, so that every load is counted; no referrer passed on to the link.
NO_CACHE = ("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private")
IMAGE = [
    ("Content-Type", "image/gif"),
    ("Content-Length", str(len(hits.GIF))),
    ("X-Content-Type-Options", "nosniff"),
    NO_CACHE,
]


def front(django_application: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            path = environ.get("PATH_INFO", "")
            if path.startswith("/t/o/") and path.endswith(".gif") and "/" not in path[5:]:
                hits.count_open(path[5:-4])
                start_response("200 OK", IMAGE)
                return [hits.GIF]
            if path.startswith("/t/c/"):
                token, _, link = path[5:].rstrip("/").partition("/")
                valid = link.isdigit() and path.endswith("/")
                if valid and (target := hits.count_click(token, int(link))):
                    headers = [
                        ("Location", target),
                        ("Content-Length", "0"),
                        ("Referrer-Policy", "no-referrer"),
                        NO_CACHE,
                    ]
                    start_response("302 Found", headers)
                    return [b""]
            elif (page := pagecache.serve(environ, start_response)) is not None:
                return page
        return django_application(environ, start_response)

    return application
