from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.lists"
    label = "lists"
