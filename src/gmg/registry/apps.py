from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "gmg.registry"
    label = "registry"
