from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "gmg.api"
    label = "api"
