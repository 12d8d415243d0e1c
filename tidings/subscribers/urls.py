from django.urls import path

app_name = "subscribers"
urlpatterns: list = [
]
