from django.urls import path

from tidings.archive import console_views as views

app_name = "archive_console"
urlpatterns = [
    path("<str:account>/lists/<slug:name>/comments/", views.comments, name="comments"),
]
