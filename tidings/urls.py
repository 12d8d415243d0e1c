from django.contrib import admin
from django.urls import include, path

from tidings import views
from tidings.ops import views as ops_views

urlpatterns = [
    path("", views.home, name="home"),
    path("media/<str:filename>", views.media, name="media"),
    path("language/<str:code>/", views.language, name="language"),
    path("brand/<str:code>.css", views.brand_css, name="brand_css"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The operators' outbox first: "outbox" would otherwise read as an account code.
    path("console/", include("tidings.inbound.console_urls")),
    path("console/", include("tidings.console.urls")),
    path("console/", include("tidings.feeds.console_urls")),
    path("console/", include("tidings.subscribers.console_urls")),
    path("console/", include("tidings.lists.console_urls")),
    path("console/", include("tidings.archive.console_urls")),
    path("console/", include("tidings.insights.console_urls")),
    path("console/", include("tidings.api.console_urls")),
    path("console/", include("tidings.delivery.console_urls")),
    path("console/", include("tidings.texts.console_urls")),
    path("api/", include("tidings.api.urls")),
    path("t/", include("tidings.tracking.urls")),
    path("texts/", include("tidings.texts.urls")),
    path("bulletins/", include("tidings.archive.bulletin_urls")),
    path("subscriptions/", include("tidings.subscribers.urls")),
    # Joining and leaving a list; before the archive, whose post URLs would match these too.
    path("lists/", include("tidings.lists.urls")),
    path("lists/", include("tidings.archive.urls")),
]
