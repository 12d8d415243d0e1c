"""Security headers on every archive page, including its error pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Archive pages run no script and load nothing from elsewhere: mail is hostile input.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Bulletins are the account's own words, sanitized like their email: their pictures load, as
# they do in the email, over HTTPS only. Still no script, no frames, no forms elsewhere.
BULLETIN_POLICY = POLICY.replace("img-src 'self'", "img-src 'self' https:")
# The list archives, and the bulletins' web copies and topic archives.
POLICIES = {"/lists/": POLICY, "/bulletins/": BULLETIN_POLICY}


class ArchiveSecurityHeaders:
    """Add a Content-Security-Policy and nosniff to every archive response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = next((p for prefix, p in POLICIES.items() if request.path.startswith(prefix)), "")
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
