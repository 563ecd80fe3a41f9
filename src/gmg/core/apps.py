from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gmg.core"
    label = "core"
