from django.urls import path

from tidings.archive import views

app_name = "archive"
urlpatterns = [
    path("<slug:name>/", views.index, name="index"),
    path("<slug:name>/<slug:slug>/", views.post, name="post"),
]
