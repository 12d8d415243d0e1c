from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.subscribers"
    label = "subscribers"
