from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.archive"
    label = "archive"
