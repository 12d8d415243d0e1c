from django.urls import path, re_path

from tidings.texts import public_views, views

app_name = "texting"
urlpatterns = [
    path("hooks/<str:token>/inbound/", views.inbound, name="hook_inbound"),
    path("hooks/<str:token>/status/", views.status, name="hook_status"),
    path("mine/<str:token>/", public_views.mine, name="mine"),
    # Account codes are capitals, digits and _, so they never collide with the paths above.
    re_path(r"^(?P<code>[A-Z0-9_]+)/$", public_views.join, name="join"),
]
