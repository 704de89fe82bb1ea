"""Serializers of consents, identifiers, screenings, eligibility evaluations, signatures and enrollment."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ctit_trial.api.authentication import OtpTokenField
from ctit_trial.api.serializers import AwareDateTimeField
from enrollment import selectors
from enrollment.api.serializers import CriterionVerdictSerializer, SubjectSerializer
from enrollment.documents import screening_document
from enrollment.models import Discontinuation, EligibilityEvaluation
from enrollment.services.eligibility import SIGN_MEANING


class IdentitySerializer(serializers.Serializer):
    subject = serializers.CharField(source="subject.study_number")
    full_name = serializers.CharField()
    national_id = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.EmailField()


class IdentityUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    national_id = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="Required when correcting recorded identifiers."
    )


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(source="subject.study_number")
    version = serializers.CharField()
    signed_at = serializers.DateTimeField()
    signed_on = serializers.DateField(help_text="The consent date at the site (the IN1 reference).")
    obtained_by = serializers.CharField(source="obtained_by.username")
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()


class ConsentCreateSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=40, help_text="Version of the consent form signed.")
    signed_at = AwareDateTimeField(help_text="When the subject signed, with its UTC offset.")
    obtained_by = serializers.CharField(
        max_length=150, required=False, help_text="Username of the staff member who obtained consent (default: you)."
    )


class SignatureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    signer = serializers.CharField(source="signer.username")
    printed_name = serializers.CharField()
    meaning = serializers.CharField()
    signed_at = serializers.DateTimeField()
    content_digest = serializers.CharField()


class SignatureStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["unsigned", "valid", "invalidated"],
        help_text="'invalidated': the screening data changed after the last signature.",
    )
    signature = SignatureSerializer(allow_null=True, help_text="The valid signature, else the latest one.")


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    screening = serializers.IntegerField(source="screening_id")
    subject = serializers.CharField(source="screening.subject.study_number")
    outcome = serializers.ChoiceField(choices=EligibilityEvaluation.Outcome.choices)
    engine_version = serializers.CharField()
    protocol_version = serializers.CharField()
    content_digest = serializers.CharField()
    evaluated_at = serializers.DateTimeField()
    evaluated_by = serializers.CharField(source="evaluated_by.username")
    criteria = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField(child=CriterionVerdictSerializer()))
    def get_criteria(self, evaluation) -> dict:
        return {v.criterion.code: {"status": v.status, "reason": v.reason} for v in evaluation.verdicts.all()}


class ScreeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(source="subject.study_number")
    attempt = serializers.IntegerField()
    is_current = serializers.BooleanField(help_text="The subject's latest screening (the one that counts).")
    screening_date = serializers.DateField()
    consent = serializers.IntegerField(source="consent_id")
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()
    outcome = serializers.SerializerMethodField()
    signature = serializers.SerializerMethodField()

    def get_outcome(self, screening) -> str | None:
        evaluation = selectors.evaluation_current(screening)
        return evaluation.outcome if evaluation else None

    @extend_schema_field(SignatureStatusSerializer)
    def get_signature(self, screening) -> dict:
        return SignatureStatusSerializer(selectors.signature_status(screening)).data


class ScreeningDetailSerializer(ScreeningSerializer):
    document = serializers.SerializerMethodField()
    evaluation = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_document(self, screening) -> dict:
        return screening_document(screening)

    @extend_schema_field(EvaluationSerializer(allow_null=True))
    def get_evaluation(self, screening) -> dict | None:
        evaluation = selectors.evaluation_current(screening)
        return EvaluationSerializer(evaluation).data if evaluation else None


class SignRequestSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, help_text="Your password.")
    otp_token = OtpTokenField()
    meaning = serializers.ChoiceField(
        choices=[SIGN_MEANING], default=SIGN_MEANING, help_text="Set by the server from the act; only this value."
    )


class ScreenFailRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        error_messages={
            "required": "Give the reason for the screen failure.",
            "blank": "Give the reason for the screen failure.",
        },
    )


class ScreenFailureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(source="subject.study_number")
    screening = serializers.IntegerField(source="screening_id", allow_null=True)
    evaluation = serializers.IntegerField(source="evaluation_id", allow_null=True)
    criteria = serializers.SerializerMethodField(help_text="Codes of the criteria that failed.")
    reason = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()

    def get_criteria(self, failure) -> list[str]:
        return [criterion.code for criterion in failure.criteria.order_by("-kind", "number")]


@extend_schema_field(
    {"type": "string", "enum": Discontinuation.Kind.values, "description": "Why the subject left the trial."},
    component_name="DiscontinuationKindEnum",
)
class DiscontinuationKindField(serializers.ChoiceField):
    """The kind of a discontinuation, one named schema component."""


class DiscontinuationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(source="subject.study_number")
    kind = DiscontinuationKindField(choices=Discontinuation.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    left_at = serializers.DateTimeField()
    left_on = serializers.DateField(help_text="The site-local day the subject left.")
    reason = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()


class DiscontinuationCreateSerializer(serializers.Serializer):
    kind = DiscontinuationKindField(
        choices=Discontinuation.Kind.choices,
        help_text="withdrawal_of_consent, lost_to_follow_up, death (its grade 5 AE recorded first) or "
        "investigator_decision.",
    )
    left_at = AwareDateTimeField(
        help_text="When the subject left, with its UTC offset (lost to follow-up: the last contact); not in the "
        "future, not before consent, not before the infusion."
    )
    reason = serializers.CharField(
        max_length=2000,
        error_messages={
            "required": "Give the reason the subject left the trial.",
            "blank": "Give the reason the subject left the trial.",
        },
    )


class EnrollmentSerializer(serializers.Serializer):
    subject = SubjectSerializer()
    dose_level = serializers.IntegerField(source="slot.dose_level.level")
    dose_level_label = serializers.CharField(source="slot.dose_level.label")
    slot_claimed_at = serializers.DateTimeField(source="slot.claimed_at")


class CurrentScreeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attempt = serializers.IntegerField()
    screening_date = serializers.DateField()
    outcome = serializers.CharField(allow_null=True)
    signature = SignatureStatusSerializer()


class SubjectDetailSerializer(SubjectSerializer):
    current_screening = serializers.SerializerMethodField()
    screen_failures = ScreenFailureSerializer(many=True, read_only=True)
    discontinuation = serializers.SerializerMethodField()

    class Meta(SubjectSerializer.Meta):
        fields = [*SubjectSerializer.Meta.fields, "current_screening", "screen_failures", "discontinuation"]
        read_only_fields = fields

    @extend_schema_field(CurrentScreeningSerializer(allow_null=True))
    def get_current_screening(self, subject) -> dict | None:
        screening = selectors.screening_current(subject)
        if screening is None:
            return None
        evaluation = selectors.evaluation_current(screening)
        payload = {
            **vars(screening),
            "outcome": evaluation.outcome if evaluation else None,
            "signature": selectors.signature_status(screening),
        }
        return CurrentScreeningSerializer(payload).data

    @extend_schema_field(DiscontinuationSerializer(allow_null=True))
    def get_discontinuation(self, subject) -> dict | None:
        record = Discontinuation.objects.filter(subject=subject).select_related("recorded_by", "subject__site").first()
        return None if record is None else DiscontinuationSerializer(record).data
