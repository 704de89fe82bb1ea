from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ctit_trial.api.serializers import ReasonForChangeSerializer
from enrollment.models import Site, Subject


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "code", "name", "time_zone", "is_active"]
        read_only_fields = fields


class SiteUpdateSerializer(ReasonForChangeSerializer):
    name = serializers.CharField(max_length=200, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    is_active = serializers.BooleanField(required=False)


@extend_schema_field(
    {"type": "string", "enum": Subject.Status.values, "description": "The subject's status."},
    component_name="SubjectStatusEnum",
)
class SubjectStatusField(serializers.ChoiceField):
    """Subject status, one named schema component wherever a subject is shown."""


class SubjectSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = SubjectStatusField(choices=Subject.Status.choices, read_only=True)

    class Meta:
        model = Subject
        fields = ["id", "study_number", "site", "status", "created_at", "enrolled_at"]
        read_only_fields = fields


class SubjectCreateSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=10, help_text="Site code, e.g. BJ01; you must work at that site.")


class MembershipSerializer(serializers.Serializer):
    code = serializers.CharField(source="site.code")
    name = serializers.CharField(source="site.name")
    time_zone = serializers.CharField(source="site.time_zone")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.CharField())
    sites = MembershipSerializer(many=True)
    sees_all_sites = serializers.BooleanField()


class CriterionVerdictSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pass", "fail", "missing", "review"])
    reason = serializers.CharField()


class EligibilityResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["eligible", "ineligible", "incomplete"])
    criteria = serializers.DictField(child=CriterionVerdictSerializer(), help_text="Keyed by IN1–IN6, EX1–EX21.")
    engine_version = serializers.CharField()
    site = serializers.CharField(help_text="Site whose time zone defined the calendar days.")
