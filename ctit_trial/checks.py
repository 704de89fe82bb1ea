"""Project system checks: `manage.py check --deploy` refuses a published or weak SECRET_KEY."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from ctit_trial.secret_key import MIN_LENGTH, secret_key_weakness


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs) -> list[Error]:
    """ctit_trial.E001: the secret key signs sessions, tokens and signatures; a known or short one forges them."""
    weakness = secret_key_weakness(settings.SECRET_KEY)
    if weakness is None:
        return []
    hint = f"Set DJANGO_SECRET_KEY to at least {MIN_LENGTH} random characters (never the development key)."
    return [Error(f"{weakness}: unfit for production.", hint=hint, id="ctit_trial.E001")]
