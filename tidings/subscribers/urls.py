from django.urls import path

from tidings.subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("manage/<str:token>/", views.manage, name="manage"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("one-click/<str:token>/", views.one_click, name="one_click"),
]
