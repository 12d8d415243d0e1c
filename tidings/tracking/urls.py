from django.urls import path

from tidings.tracking import views

app_name = "tracking"
urlpatterns = [
    path("o/<str:token>.gif", views.open_image, name="open"),
    path("c/<str:token>/<int:link>/", views.click, name="click"),
]
