from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.bulletins"
    label = "bulletins"

    def ready(self) -> None:
        # How the worker writes bulletins, the periodic jobs.
        from tidings.bulletins import compose, jobs  # noqa: F401
