"""Serializers of the dosing day: scheduling, the D−1 reconfirmation, the D0 assessment, infusion, draws."""

from decimal import Decimal

from rest_framework import serializers

from ctit_trial.api.serializers import AwareDateTimeField, ReasonForChangeSerializer
from dosing.models import Infusion, InfusionPlan, PostInfusionDraw, PreInfusionAssessment, Reconfirmation, VitalSigns
from dosing.rules import gate


def _platelets(**options) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0, help_text="×10⁹/L", **options)


class ScheduleSerializer(serializers.Serializer):
    planned_at = AwareDateTimeField(help_text="Planned start of the infusion, with its UTC offset.")


class RescheduleSerializer(ScheduleSerializer, ReasonForChangeSerializer):
    pass


class GateFailureSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why (kept in the audit trail).")


class SlotMoveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the slot moves (kept in the audit trail).")


class ReconfirmationWriteSerializer(serializers.Serializer):
    drawn_at = AwareDateTimeField(help_text="When the D−1 sample was drawn, with its UTC offset.")
    platelets = _platelets()
    bleeding = serializers.BooleanField(help_text="Any bleeding at the assessment.")
    bleeding_details = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AssessmentWriteSerializer(serializers.Serializer):
    baseline_platelets = _platelets()
    baseline_drawn_at = AwareDateTimeField(help_text="When the D0 pre-infusion sample was drawn.")
    transfusion_since_screening_at = AwareDateTimeField(
        allow_null=True, help_text="Latest platelet-containing transfusion since screening; null: none."
    )
    thrombopoietic_since_screening_on = serializers.DateField(
        allow_null=True, help_text="Latest thrombopoietic drug since screening; null: none."
    )
    surgery_since_screening_on = serializers.DateField(
        allow_null=True, help_text="Latest major surgery or severe trauma since screening; null: none."
    )


def _vital_range(name: str) -> dict:
    """The plausible range of a vital sign, from the one table the services check too (gate.VITAL_RANGES)."""
    low, high, _unit = gate.VITAL_RANGES[name]
    return {"min_value": int(low), "max_value": int(high)}  # whole numbers, as the schema has always shown them


class VitalSignsSerializer(serializers.Serializer):
    measured_at = AwareDateTimeField()
    temperature_c = serializers.DecimalField(max_digits=3, decimal_places=1, **_vital_range("temperature_c"))
    heart_rate_bpm = serializers.IntegerField(**_vital_range("heart_rate_bpm"))
    systolic_mmhg = serializers.IntegerField(**_vital_range("systolic_mmhg"))
    diastolic_mmhg = serializers.IntegerField(**_vital_range("diastolic_mmhg"))
    respiratory_rate = serializers.IntegerField(**_vital_range("respiratory_rate"))
    spo2_percent = serializers.IntegerField(**_vital_range("spo2_percent"))


# --- corrections of recorded dosing-day data (a reason always; a deviation reason when the correction breaks a rule)


def _reason():
    return serializers.CharField(max_length=1000, help_text="Why the record is corrected (kept in the audit trail).")


def _deviation_reason():
    return serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed when the corrected data breaks a rule the recorded step passed: the protocol deviation.",
    )


class ReconfirmationCorrectionSerializer(ReconfirmationWriteSerializer):
    reason = _reason()
    deviation_reason = _deviation_reason()


class AssessmentCorrectionSerializer(AssessmentWriteSerializer):
    reason = _reason()
    deviation_reason = _deviation_reason()


class InfusionTimesCorrectionSerializer(serializers.Serializer):
    started_at = AwareDateTimeField(help_text="The corrected start, with its UTC offset.")
    ended_at = AwareDateTimeField(help_text="The corrected end, with its UTC offset.")
    vitals_before_measured_at = AwareDateTimeField(
        required=False, allow_null=True, default=None, help_text="When the vital signs before moved with the start."
    )
    vitals_after_measured_at = AwareDateTimeField(
        required=False, allow_null=True, default=None, help_text="When the vital signs after moved with the end."
    )
    reason = _reason()
    deviation_reason = _deviation_reason()


class VitalSignsCorrectionSerializer(VitalSignsSerializer):
    phase = serializers.ChoiceField(choices=VitalSigns.Phase.choices, help_text="Which set: before or after.")
    reason = _reason()


class InfusionWriteSerializer(serializers.Serializer):
    product_lot = serializers.CharField(max_length=40)
    product_viable_cells = serializers.IntegerField(min_value=1, help_text="Viable cells in the product.")
    viability_percent = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=0, max_value=100)
    volume_ml = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0.1"))
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField()
    fraction_given_percent = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=Decimal("0.1"), max_value=100, default=Decimal(100)
    )
    interrupted = serializers.BooleanField(default=False)
    interruption_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    early_stop = serializers.ChoiceField(choices=Infusion.EarlyStop.choices, required=False, default="")
    early_stop_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    dose_deviation_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    timing_deviation_reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the infusion started before its planned time (required then: a protocol deviation).",
    )
    vitals_before = VitalSignsSerializer()
    vitals_after = VitalSignsSerializer()


class DrawWriteSerializer(serializers.Serializer):
    minutes_after_end = serializers.IntegerField(min_value=1, help_text="60, 120 or 240 as configured.")
    drawn_at = AwareDateTimeField()
    platelets = _platelets()


class PlanSerializer(serializers.ModelSerializer):
    dose_level = serializers.IntegerField(source="slot.dose_level.level")
    d0 = serializers.SerializerMethodField()

    class Meta:
        model = InfusionPlan
        fields = ["id", "planned_at", "d_minus_1", "d0", "status", "blocked_reason", "dose_level"]

    def get_d0(self, plan) -> str:
        return plan.subject.site.local_date(plan.planned_at).isoformat()


class ReconfirmationSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = Reconfirmation
        fields = ["id", "d_minus_1", "drawn_at", "platelets", "bleeding", "bleeding_details", "cleared"]
        fields += ["outcome_reason", "recorded_by", "recorded_at"]


class AssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PreInfusionAssessment
        fields = ["id", "d0", "baseline_platelets", "baseline_drawn_at", "transfusion_since_screening_at"]
        fields += ["thrombopoietic_since_screening_on", "surgery_since_screening_on", "recorded_at"]


class VitalSignsReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = VitalSigns
        exclude = ["id", "infusion"]


class InfusionSerializer(serializers.ModelSerializer):
    dose_level = serializers.IntegerField(source="dose_level.level")
    vital_signs = VitalSignsReadSerializer(many=True)

    class Meta:
        model = Infusion
        exclude = ["subject", "slot", "recorded_by"]


class DrawSerializer(serializers.ModelSerializer):
    time_point = serializers.CharField()

    class Meta:
        model = PostInfusionDraw
        fields = ["id", "time_point", "minutes_after_end", "drawn_at", "platelets", "deviation", "deviation_reason"]


class ChecklistItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["pass", "fail", "missing"])
    reason = serializers.CharField()


class ExpectedDrawSerializer(serializers.Serializer):
    time_point = serializers.CharField()
    minutes = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["recorded", "due", "upcoming"])
    draw = DrawSerializer(allow_null=True)


class DosingDaySerializer(serializers.Serializer):
    subject = serializers.CharField(source="subject.study_number")
    subject_status = serializers.CharField(source="subject.status")
    d0 = serializers.DateField(allow_null=True)
    earliest_allowed_at = serializers.DateTimeField(allow_null=True)
    plan = PlanSerializer(allow_null=True)
    reconfirmation = ReconfirmationSerializer(allow_null=True)
    assessment = AssessmentSerializer(allow_null=True)
    checklist = ChecklistItemSerializer(many=True)
    infusion = InfusionSerializer(allow_null=True)
    draws = ExpectedDrawSerializer(many=True)
    blocked = serializers.CharField(help_text="Why dosing is paused at the subject's level now ('' when it is not).")
    missing = serializers.ListField(child=serializers.CharField())


class TodayRowSerializer(serializers.Serializer):
    subject_id = serializers.IntegerField(source="subject.pk")
    subject = serializers.CharField(source="subject.study_number")
    site = serializers.CharField()
    dose_level = serializers.IntegerField()
    day = serializers.ChoiceField(choices=["D-1", "D0"])
    planned_at = serializers.DateTimeField()
    plan_status = serializers.CharField()
    blocked = serializers.CharField(help_text="Why dosing is paused at the subject's level ('' when it is not).")
    missing = serializers.ListField(child=serializers.CharField())


class TodaySerializer(serializers.Serializer):
    now = serializers.DateTimeField()
    rows = TodayRowSerializer(many=True)
