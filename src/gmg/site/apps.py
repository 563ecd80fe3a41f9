from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "gmg.site"
    label = "site"
