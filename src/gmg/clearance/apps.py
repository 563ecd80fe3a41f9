from django.apps import AppConfig


class ClearanceConfig(AppConfig):
    name = "gmg.clearance"
    label = "clearance"
    verbose_name = "Clearance of joint texts"
