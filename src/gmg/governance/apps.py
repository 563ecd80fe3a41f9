from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "gmg.governance"
    label = "governance"
