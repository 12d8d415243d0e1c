from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.delivery"
    label = "delivery"
