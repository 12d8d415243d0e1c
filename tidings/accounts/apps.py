from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.accounts"
    label = "accounts"
