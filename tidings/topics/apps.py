from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.topics"
    label = "topics"
