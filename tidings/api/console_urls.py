from django.urls import path

from tidings.api import console_views as views

app_name = "api_console"
urlpatterns = [
    path("<str:account>/tokens/", views.tokens, name="tokens"),
    path("<str:account>/tokens/<int:pk>/revoke/", views.revoke, name="revoke"),
]
