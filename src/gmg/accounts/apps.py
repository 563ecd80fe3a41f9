from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gmg.accounts"
    label = "accounts"
