from django.apps import AppConfig


class CtitTrialConfig(AppConfig):
    name = "ctit_trial"
    verbose_name = "Trial service"
