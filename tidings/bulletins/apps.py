from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.bulletins"
    label = "bulletins"
