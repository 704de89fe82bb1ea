from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CtitTrialConfig(AppConfig):
    name = "ctit_trial"
    verbose_name = "Trial service"

    def ready(self):
        from ctit_trial import checks  # noqa: F401 — registers the project's system checks
        from ctit_trial.history_guard import install_append_only_triggers

        # sender=self: once per `migrate`, after every app's migrations, so all history tables exist
        post_migrate.connect(install_append_only_triggers, sender=self, dispatch_uid="ctit_history_append_only")
