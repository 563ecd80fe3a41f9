from django.apps import AppConfig


class WorkgroupsConfig(AppConfig):
    name = "gmg.workgroups"
    label = "workgroups"
