from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from tidings.accounts.media import path_of
from tidings.accounts.models import EXTENSIONS, Account
from tidings.lib.languages import supported
from tidings.lib.pagecache import public_page
from tidings.lists.models import MailingList


@public_page
def home(request: HttpRequest) -> HttpResponse:
    lists = MailingList.objects.filter(archive_public=True).order_by("name")
    accounts = Account.objects.order_by("name")
    return render(request, "home.html", {"lists": lists, "accounts": accounts})


@require_http_methods(["GET", "HEAD"])
def language(request: HttpRequest, code: str) -> HttpResponse:
    """The footer's language chooser: remember the choice in a cookie, go back to the page."""
    if supported(code) != code:
        raise Http404("No such language.")
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    response = HttpResponseRedirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 86400,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_http_methods(["GET", "HEAD"])
def media(request: HttpRequest, filename: str) -> FileResponse:
    """An image of an account's media library: its address names its content (accounts.media)."""
    path = path_of(filename)
    if path is None:
        raise Http404("No such image.")
    content_type = next(t for t, ext in EXTENSIONS.items() if filename.endswith("." + ext))
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_http_methods(["GET", "HEAD"])
def brand_css(request: HttpRequest, code: str) -> HttpResponse:
    """An account's colours for its public pages (a file: the pages allow no inline style)."""
    account = get_object_or_404(Account, code=code)
    response = HttpResponse(
        f":root {{ --brand: {account.brand_color}; }}\n", content_type="text/css"
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response
