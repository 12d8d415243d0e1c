from django.urls import path

from tidings.delivery import views

app_name = "delivery"
urlpatterns = [
    path("", views.send_list, name="sends"),
    path("<int:pk>/", views.send_detail, name="send"),
    path("<int:pk>/<str:action>/", views.send_action, name="action"),
]
