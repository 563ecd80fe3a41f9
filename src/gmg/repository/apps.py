from django.apps import AppConfig


class RepositoryConfig(AppConfig):
    name = "gmg.repository"
    label = "repository"
