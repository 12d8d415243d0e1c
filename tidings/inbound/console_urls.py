from django.urls import path

from tidings.inbound import console_views as views

app_name = "inbound"
urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.message, name="message"),
    path("outbox/<int:pk>/raw", views.raw, name="raw"),
]
