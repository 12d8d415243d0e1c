from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.subscribers"
    label = "subscribers"

    def ready(self) -> None:
        from tidings.subscribers import jobs  # noqa: F401 - registers the periodic jobs
