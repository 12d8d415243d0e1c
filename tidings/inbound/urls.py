from django.urls import path

from tidings.inbound import views

app_name = "inbound"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.message, name="message"),
    path("<int:pk>/raw", views.raw, name="raw"),
]
