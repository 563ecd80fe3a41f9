from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "gmg.reports"
    label = "reports"
