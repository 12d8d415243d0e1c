from django.urls import path

from tidings.texts import views

app_name = "texthooks"
urlpatterns = [
    path("hooks/<str:token>/inbound/", views.inbound, name="hook_inbound"),
    path("hooks/<str:token>/status/", views.status, name="hook_status"),
]
