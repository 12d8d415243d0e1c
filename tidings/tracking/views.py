"""The public side: the open image and the click redirect, both named by a recipient token."""

from __future__ import annotations

import base64
import logging

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache

from tidings.lib.tokens import BadToken
from tidings.tracking import actions
from tidings.tracking.models import Link
from tidings.tracking.tokens import read_recipient_token

log = logging.getLogger("tidings.tracking")

# A transparent 1x1 GIF.
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
def open_image(request: HttpRequest, token: str) -> HttpResponse:
    """Answer the image whatever happens; count the open when the token is genuine."""
    try:
        delivery_id = read_recipient_token(token)
        bulletin_id = actions.bulletin_of(delivery_id)
        if bulletin_id is not None:
            actions.record_open(delivery_id, bulletin_id)
    except BadToken:
        pass
    except DatabaseError:
        # A mail client must never see an error for an image; the count is what is lost.
        log.exception("could not record an open")
    response = HttpResponse(GIF, content_type="image/gif")
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def click(request: HttpRequest, token: str, link: int) -> HttpResponse:
    """Redirect to a link of the bulletin the token's delivery carried; 404 for anything else."""
    try:
        delivery_id = read_recipient_token(token)
    except BadToken:
        raise Http404("No such link.") from None
    target = Link.objects.filter(pk=link).first()
    if target is None or actions.bulletin_of(delivery_id) != target.bulletin_id:
        raise Http404("No such link.")
    actions.record_click(delivery_id, target)
    response = HttpResponseRedirect(target.url)
    response["Referrer-Policy"] = "no-referrer"
    return response
