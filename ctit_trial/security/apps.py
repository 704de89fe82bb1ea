from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "ctit_trial.security"
    label = "ctit_security"
    verbose_name = "Login protection"

    def ready(self) -> None:
        from ctit_trial.security import receivers  # noqa: F401 (connects the token revocation)
