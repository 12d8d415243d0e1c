"""Security headers: a Content-Security-Policy on the archive and console pages (their error
pages included), nosniff, and a same-origin referrer."""

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
# The console: its own scripts only (no inline script, so an injected one never runs); inline
# styles for the charts and the email previews, which it frames from its own origin, with the
# bulletin's pictures over HTTPS.
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The list archives, the bulletins' web copies and topic archives, and the console.
POLICIES = {"/lists/": POLICY, "/bulletins/": BULLETIN_POLICY, "/console/": CONSOLE_POLICY}


class SecurityHeaders:
    """Add a Content-Security-Policy and nosniff to every archive and console response."""

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
