from django.urls import path

from tidings.delivery import console_views as views

app_name = "delivery"
urlpatterns = [
    path("<str:account>/sends/", views.send_list, name="sends"),
    path("<str:account>/sends/<int:pk>/", views.send_detail, name="send"),
    path("<str:account>/sends/<int:pk>/<str:action>/", views.send_action, name="action"),
]
