from django.urls import path

from tidings.lists import views

app_name = "lists"
# Mounted at /lists/ before the archive: archive post slugs are 32 hex digits, never these words.
urlpatterns = [
    path("<slug:name>/about/", views.about, name="about"),
    path("<slug:name>/join/", views.join, name="join"),
    path("<slug:name>/leave/", views.leave, name="leave"),
    path("<slug:name>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("<slug:name>/members/", views.roster, name="roster"),
    path("<slug:name>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<slug:name>/reenable/<str:token>/", views.reenable, name="reenable"),
]
