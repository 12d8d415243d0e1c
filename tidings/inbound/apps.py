from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.inbound"
    label = "inbound"
