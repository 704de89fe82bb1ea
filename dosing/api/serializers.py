from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ctit_trial.api.authentication import OtpTokenField
from dosing.models import SrcDecision
from dosing.rules.config import DESIGNS, TITRATION_TRIGGERS
from dosing.services.src import SIGN_MEANING, valid_signatures


class EscalationOptionsSerializer(serializers.Serializer):
    """Design options; each one left out keeps the protocol's configured value."""

    design = serializers.ChoiceField(choices=DESIGNS, required=False)
    titration_trigger = serializers.ChoiceField(choices=TITRATION_TRIGGERS, required=False)
    mtd_requires = serializers.IntegerField(min_value=3, max_value=12, required=False)
    confirm_top_dose = serializers.BooleanField(required=False)


class EscalationNextSerializer(serializers.Serializer):
    path = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=2000,
        help_text='Dosed subjects in dosing order, e.g. "1G 1NN 2NNN" (letters N G T X P).',
    )
    options = EscalationOptionsSerializer(required=False, default=dict)


class DecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["enroll", "hold", "escalate", "stop", "declare_mtd", "declare_mad"])
    dose_level = serializers.IntegerField(allow_null=True)
    subjects = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class SrcSignatureSerializer(serializers.Serializer):
    signer = serializers.CharField(source="signer.username")
    printed_name = serializers.CharField()
    meaning = serializers.CharField()
    signed_at = serializers.DateTimeField()
    valid = serializers.BooleanField()


class SrcDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    meeting_date = serializers.DateField()
    data_cutoff = serializers.DateTimeField()
    members_present = serializers.SerializerMethodField()
    dose_path = serializers.CharField()
    recommendation = serializers.SerializerMethodField()
    decision = serializers.CharField()
    dose_level = serializers.IntegerField(allow_null=True)
    rationale = serializers.CharField()
    status = serializers.CharField()
    effective_at = serializers.DateTimeField(allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")
    signatures = serializers.SerializerMethodField()

    def get_members_present(self, record) -> list[str]:
        return sorted(member.username for member in record.members_present.all())

    def get_recommendation(self, record) -> dict:
        return {
            "action": record.recommended_action,
            "dose_level": record.recommended_dose_level,
            "subjects": record.recommended_subjects,
            "reason": record.recommendation_reason,
        }

    @extend_schema_field(SrcSignatureSerializer(many=True))
    def get_signatures(self, record) -> list[dict]:
        valid = {signature.pk for signature in valid_signatures(record)}
        rows = [{**vars(s), "signer": s.signer, "valid": s.pk in valid} for s in record.signatures.all()]
        return SrcSignatureSerializer(rows, many=True).data


class SrcDecisionCreateSerializer(serializers.Serializer):
    meeting_date = serializers.DateField()
    data_cutoff = serializers.DateTimeField()
    members_present = serializers.ListField(
        child=serializers.CharField(max_length=150),
        min_length=1,
        max_length=50,
        help_text="Usernames of the SRC members present.",
    )
    decision = serializers.ChoiceField(choices=SrcDecision.Kind.choices)
    dose_level = serializers.IntegerField(required=False, allow_null=True, default=None)
    rationale = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SignatureSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    meaning = serializers.ChoiceField(
        choices=[SIGN_MEANING], default=SIGN_MEANING, help_text="Set by the server from the act; only this value."
    )
    otp_token = OtpTokenField()


class PausedSubjectSerializer(serializers.Serializer):
    study_number = serializers.CharField()
    dose_level = serializers.IntegerField()
    reason = serializers.CharField()


class EscalationStatusSerializer(serializers.Serializer):
    path = serializers.CharField(allow_blank=True)
    recommendation = DecisionSerializer()
    open_level = serializers.IntegerField(allow_null=True)
    pending_slots = serializers.IntegerField()
    blockers = serializers.ListField(child=serializers.CharField())
    paused_subjects = PausedSubjectSerializer(
        many=True, help_text="Subjects holding a slot the engine no longer allows dosing at, with the reason."
    )
    earliest_next_dosing_at = serializers.DateTimeField(allow_null=True)
    what_if = serializers.DictField(child=DecisionSerializer())


API_MAX_SIMULATED_TRIALS = 20_000  # about 1–2 s of CPU; larger runs belong to `manage.py escalation simulate`


class SimulationRequestSerializer(serializers.Serializer):
    design = serializers.ChoiceField(choices=DESIGNS, required=False)
    true_dlt = serializers.ListField(
        child=serializers.FloatField(min_value=0.0, max_value=1.0),
        min_length=1,
        help_text="True DLT probability of each dose level, e.g. [0.05, 0.15, 0.35].",
    )
    trials = serializers.IntegerField(min_value=1, max_value=API_MAX_SIMULATED_TRIALS, default=10_000)
    seed = serializers.IntegerField(min_value=0, default=1)
    options = EscalationOptionsSerializer(required=False, default=dict)


class SimulatedLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    true_dlt = serializers.FloatField()
    p_selected = serializers.FloatField()
    mean_subjects = serializers.FloatField()
    mean_dlts = serializers.FloatField()


class SimulationResultSerializer(serializers.Serializer):
    design = serializers.CharField()
    trials = serializers.IntegerField()
    seed = serializers.IntegerField()
    levels = SimulatedLevelSerializer(many=True)
    p_stop_no_tolerable_dose = serializers.FloatField()
    p_mtd_not_reached = serializers.FloatField()
    mean_sample_size = serializers.FloatField()
