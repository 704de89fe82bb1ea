"""Serializer building blocks shared by the apps' APIs."""

from rest_framework import serializers


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
