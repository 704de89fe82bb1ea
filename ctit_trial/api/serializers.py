"""Serializer building blocks shared by the apps' APIs."""

from django.db import models
from django.utils import timezone
from rest_framework import serializers

# The longest free text accepted into a model TextField (API and admin); every other string is capped by the parser.
TEXT_MAX_LENGTH = 2000


class BoundedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields for model TextFields accept at most TEXT_MAX_LENGTH characters."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField) and "max_length" not in kwargs:
            kwargs["max_length"] = TEXT_MAX_LENGTH
        return field_class, kwargs


class ReasonForChangeSerializer(serializers.Serializer):
    """Adds the reason for change that every edit of existing clinical data must carry."""

    reason = serializers.CharField(
        write_only=True,
        required=True,
        allow_blank=False,
        max_length=1000,
        help_text="Why the data is being changed (kept in the audit trail).",
        error_messages={
            "required": "A reason for change is required when editing existing data.",
            "blank": "A reason for change is required when editing existing data.",
        },
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An instant that must carry its UTC offset: a naive time is ambiguous across site time zones."""

    default_error_messages = {"naive": "Give the instant with its UTC offset, e.g. 2026-03-02T10:00:00+08:00."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
