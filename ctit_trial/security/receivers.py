"""API tokens die with the password they were issued under, and with the account's deactivation."""

from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

REVOKE = "_ctit_revoke_tokens"


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def _note_credentials_change(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    changed = before is not None and (before["password"] != instance.password or not instance.is_active)
    setattr(instance, REVOKE, changed)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _revoke_tokens(sender, instance, **kwargs) -> None:
    if getattr(instance, REVOKE, False):
        Token.objects.filter(user_id=instance.pk).delete()
        setattr(instance, REVOKE, False)
