from django.apps import AppConfig


class CtitTrialConfig(AppConfig):
    name = "ctit_trial"
    verbose_name = "Trial service"

    def ready(self):
        from ctit_trial import checks  # noqa: F401 — registers the project's system checks
