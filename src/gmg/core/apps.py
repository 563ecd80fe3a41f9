from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gmg.core"
    label = "core"

    def ready(self) -> None:
        from gmg.core import checks  # noqa: F401  (registers the deployment checks)
