from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.bulletins"
    label = "bulletins"

    def ready(self) -> None:
        from tidings.bulletins import jobs  # noqa: F401 - registers the periodic jobs
