"""The public side: the open image and the click redirect, both named by a recipient token."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache

from tidings.tracking.hits import GIF, count_click, count_open


@never_cache
def open_image(request: HttpRequest, token: str) -> HttpResponse:
    """Answer the image at once; the open is counted in the next batch (tracking.hits).
    tidings.wsgi answers the same way before Django; this view serves the test client."""
    count_open(token)
    response = HttpResponse(GIF, content_type="image/gif")
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def click(request: HttpRequest, token: str, link: int) -> HttpResponse:
    """Redirect to one of the links of a sent bulletin; 404 for anything else."""
    target = count_click(token, link)
    if target is None:
        raise Http404("No such link.")
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "no-referrer"
    return response
