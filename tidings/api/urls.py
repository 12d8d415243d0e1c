from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from tidings.api import docs
from tidings.api.v1 import api


def not_found(request: HttpRequest) -> JsonResponse:
    """Answer JSON, not the site's HTML page, for any other path under /api/v1/."""
    return JsonResponse({"detail": "No such API endpoint."}, status=404)


app_name = "api"
urlpatterns = [
    path("v1/", api.urls),
    path("v1/docs/assets/<str:name>", docs.asset, name="docs_asset"),
    re_path(r"^v1/", not_found),
]
