from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.archive"
    label = "archive"

    def ready(self) -> None:
        from tidings.archive import receivers  # noqa: F401 - keeps posts, indexes bulletins
