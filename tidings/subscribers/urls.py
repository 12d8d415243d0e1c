from django.urls import path, re_path

from tidings.subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/delivery/", views.delivery, name="delivery"),
    path("manage/<str:token>/language/", views.language, name="language"),
    path("manage/<str:token>/answers/", views.answers, name="answers"),
    path("manage/<str:token>/address/", views.change_address, name="change_address"),
    path("manage/<str:token>/delete/", views.delete, name="delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("one-click/<str:token>/", views.one_click, name="one_click"),
    path("network/<str:token>/", views.network_offer, name="network_offer"),
    # Account codes are capitals, digits and _, so they never collide with the paths above.
    re_path(r"^(?P<code>[A-Z0-9_]+)/$", views.subscribe, name="subscribe"),
    re_path(r"^(?P<code>[A-Z0-9_]+)/embed/$", views.embed, name="embed"),
    re_path(r"^(?P<code>[A-Z0-9_]+)/confirm/(?P<token>[^/]+)/$", views.confirm, name="confirm"),
]
