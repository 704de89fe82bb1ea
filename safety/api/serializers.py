"""Request and response shapes of the safety API (visits, adverse events, DLT adjudication, SAE reports)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ctit_trial.api.authentication import OtpTokenField
from ctit_trial.api.serializers import AwareDateTimeField, BoundedModelSerializer
from ctit_trial.lab_units import ACCEPTED_UNITS
from safety import selectors
from safety.models import SERIOUSNESS_CRITERIA, AdverseEvent, CtcaeTerm, DltAdjudication, Visit
from safety.rules.units import TERM_ANALYTES


class VisitSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="subject.study_number")
    subject_id = serializers.IntegerField()
    code = serializers.CharField(source="definition.code")
    label = serializers.CharField(source="definition.label")
    target_day = serializers.IntegerField(source="definition.target_day")
    platelets = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)

    class Meta:
        model = Visit
        fields = [
            *("id", "subject", "subject_id", "code", "label", "target_day", "target_date", "window_earliest"),
            *("window_latest", "visit_date", "platelets", "ae_review_done", "status", "deviation", "deviation_reason"),
        ]


class VisitRecordSerializer(serializers.Serializer):
    visit_date = serializers.DateField(help_text="Site-local day the visit took place.")
    platelets = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, allow_null=True, default=None, help_text="×10⁹/L"
    )
    ae_review_done = serializers.BooleanField(default=False)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="Required when correcting a visit."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why (kept in the audit trail).")


class DltAdjudicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=DltAdjudication.Decision.choices)
    decision_reason = serializers.CharField()
    adjudicator = serializers.CharField(source="signer.username")
    printed_name = serializers.CharField()
    meaning = serializers.CharField()
    signed_at = serializers.DateTimeField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    reason_for_change = serializers.CharField(help_text="Why it superseded the earlier adjudication.")
    current = serializers.BooleanField(help_text="The adjudication that counts (the latest in the chain).")
    valid = serializers.BooleanField(help_text="False once a DLT fact changed after signing.")


class DltSerializer(serializers.Serializer):
    is_candidate = serializers.BooleanField()
    rule = serializers.CharField()
    flag_reason = serializers.CharField()
    state = serializers.ChoiceField(choices=[state.value for state in selectors.AdjudicationState])
    decision = serializers.CharField(help_text="The current adjudication's decision ('' before the first).")
    decision_reason = serializers.CharField()
    adjudicator = serializers.CharField(allow_null=True)
    printed_name = serializers.CharField()
    meaning = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    adjudications = DltAdjudicationSerializer(many=True, help_text="Every signed adjudication, first to current.")


class SaeSerializer(serializers.Serializer):
    awareness_at = serializers.DateTimeField()
    report_deadline = serializers.DateTimeField()
    status = serializers.CharField(help_text="on_time, due, overdue or reported_late")
    sponsor_reported_at = serializers.DateTimeField(allow_null=True)
    reported_by = serializers.CharField(allow_null=True, help_text="The signer's printed name.")
    meaning = serializers.CharField(allow_null=True, help_text="The signature's meaning.")
    signed_at = serializers.DateTimeField(allow_null=True, help_text="When the report was signed (UTC).")
    signature_valid = serializers.BooleanField(allow_null=True, help_text="False once the AE changed after signing.")


class SusarSerializer(serializers.Serializer):
    sponsor_aware_on = serializers.DateField()
    initial_report_due = serializers.DateField()
    completion_due = serializers.DateField(allow_null=True)
    reported_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


SIGNED = ("decision", "decision_reason", "printed_name", "meaning")


def _valid(ae, assessment, adjudication) -> bool:
    return selectors.adjudication_valid(ae, assessment, adjudication)


OUTCOMES = ", ".join(AdverseEvent.Outcome.values)


@extend_schema_field({"type": "string", "description": f"Outcome of the AE: one of {OUTCOMES}."})
class AeOutcomeField(serializers.CharField):
    """The AE outcome in responses, its values listed in words: one `outcome` enum per schema (the request's)."""


AE_WRITABLE = [
    *("verbatim_term", "ctcae_term", "other_term", "other_meddra_code", "grade", "onset_date", "end_date"),
    *("ongoing", "serious", *SERIOUSNESS_CRITERIA, "relatedness", "expectedness", "action_taken", "outcome"),
    *("treatment", "fever_resolved_within_hours", "lab_resolved_within_days", "resolved_without_sequelae"),
    *("neutropenia_duration_days", "awareness_at", "sponsor_aware_on", "susar_reported_on"),
]


class AdverseEventSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="subject.study_number")
    subject_id = serializers.IntegerField()
    ctcae_term = serializers.SlugRelatedField(slug_field="code", read_only=True)
    term = serializers.CharField(source="term_name")
    outcome = AeOutcomeField(read_only=True)
    meddra_code = serializers.SerializerMethodField()
    fever_resolved_within_hours = serializers.DecimalField(
        max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    onset_study_day = serializers.SerializerMethodField()
    treatment_emergent = serializers.SerializerMethodField()
    dlt = serializers.SerializerMethodField()
    sae = serializers.SerializerMethodField()
    susar_clock = serializers.SerializerMethodField()

    class Meta:
        model = AdverseEvent
        fields = [
            *("id", "subject", "subject_id", "source", "term", "meddra_code", "ctcae_version"),
            *AE_WRITABLE,
            *("susar", "onset_study_day", "treatment_emergent", "dlt", "sae", "susar_clock", "recorded_at"),
        ]

    def get_meddra_code(self, ae) -> str:
        return ae.ctcae_term.meddra_code if ae.ctcae_term_id else ae.other_meddra_code

    def get_onset_study_day(self, ae) -> int | None:
        return selectors.onset_study_day(ae)

    def get_treatment_emergent(self, ae) -> bool:
        return selectors.is_treatment_emergent(ae)

    @extend_schema_field(DltSerializer(allow_null=True))
    def get_dlt(self, ae):
        assessment = selectors.dlt_assessment_of(ae)
        if assessment is None:
            return None
        chain = selectors.adjudication_chain(assessment)
        current = chain[-1] if chain else None
        values = {name: getattr(assessment, name) for name in ("is_candidate", "rule", "flag_reason")}
        values.update({name: getattr(current, name, "") for name in SIGNED})
        values["signed_at"] = current.signed_at if current else None
        values["adjudicator"] = current.signer.get_username() if current else None
        values["state"] = selectors.adjudication_state(ae).value
        values["adjudications"] = [
            {**vars(row), "signer": row.signer, "current": row is current, "valid": _valid(ae, assessment, row)}
            for row in chain
        ]
        return DltSerializer(values).data

    @extend_schema_field(SaeSerializer(allow_null=True))
    def get_sae(self, ae):
        clock = selectors.sae_clock(ae, clocks=self.context["config"].clocks, now=self.context["now"])
        if clock is None:
            return None
        report = selectors.sae_report_of(ae)
        return SaeSerializer(
            {
                "awareness_at": clock.awareness_at,
                "report_deadline": clock.deadline,
                "status": clock.status.value,
                "sponsor_reported_at": clock.reported_at,
                "reported_by": report.printed_name if report else None,
                "meaning": report.meaning if report else None,
                "signed_at": report.signed_at if report else None,
                "signature_valid": selectors.sae_report_valid(ae),
            }
        ).data

    @extend_schema_field(SusarSerializer(allow_null=True))
    def get_susar_clock(self, ae):
        clock = selectors.susar_clock(ae, clocks=self.context["config"].clocks, now=self.context["now"])
        return None if clock is None else SusarSerializer({**vars(clock), "status": clock.status.value}).data


class AdverseEventWriteSerializer(BoundedModelSerializer):
    """An AE as entered; on update (PATCH) only the fields given change, and `reason` is required."""

    subject = serializers.IntegerField(help_text="Subject id (a subject of your site).")
    ctcae_term = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CtcaeTerm.objects.all(),
        required=False,
        allow_null=True,
        help_text="Catalogue term code, e.g. 'fever'; leave empty and give other_term/other_meddra_code otherwise.",
    )
    ongoing = serializers.BooleanField(required=False, help_text="Defaults to true when no end date is given.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, write_only=True)

    class Meta:
        model = AdverseEvent
        fields = ["subject", *AE_WRITABLE, "reason"]
        validators = []  # the services validate (and the database constraints back them)


class AdjudicationSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DltAdjudication.Decision.values)
    reason = serializers.CharField(
        allow_blank=True, max_length=2000, help_text="Rationale to confirm, reason to reject (both required)."
    )
    reason_for_change = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Required to re-adjudicate: why the new adjudication supersedes the current one.",
    )
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    otp_token = OtpTokenField()


class SaeReportRequestSerializer(serializers.Serializer):
    reported_at = serializers.DateTimeField(help_text="When the report reached the sponsor (ISO 8601 with offset).")
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    otp_token = OtpTokenField()


def _lab_amount(help_text: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, help_text=help_text, **kwargs)


def _optional_lab_amount(help_text: str) -> serializers.DecimalField:
    return _lab_amount(help_text, required=False, allow_null=True, default=None)


LAB_UNITS = "; ".join(f"{term}: {', '.join(ACCEPTED_UNITS[analyte])}" for term, analyte in TERM_ANALYTES.items())


class LabResultSerializer(serializers.Serializer):
    analyte = serializers.CharField(max_length=64, help_text="CTCAE lab term code, e.g. 'alt_increased'.")
    value = _lab_amount("The value as reported, in `unit` (≥ 0 and physiologically possible).")
    unit = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text=f"Unit of the value and of LLN/ULN/baseline, required; per analyte: {LAB_UNITS}.",
    )
    lln = _optional_lab_amount("Site's lower limit of normal, in `unit` (> 0, below the ULN).")
    uln = _optional_lab_amount("Site's upper limit of normal, in `unit` (> 0).")
    baseline = _optional_lab_amount(
        "Overrides the subject's recorded baseline (the screening value), in `unit`; needs `baseline_reason`."
    )
    baseline_reason = serializers.CharField(required=False, allow_blank=True, default="")
    observed_on = serializers.DateField(help_text="Site-local day the sample was drawn.")
    on_anticoagulation = serializers.BooleanField(default=False)


class TemperatureSerializer(serializers.Serializer):
    measured_at = AwareDateTimeField(help_text="When the temperature was taken (ISO 8601 with offset).")
    temperature_c = serializers.DecimalField(max_digits=4, decimal_places=2, help_text="Body temperature, 30–45 °C.")
    sustained_hours = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Hours the temperature stayed above 40.0 °C, when known.",
    )
    source = serializers.CharField(max_length=40, help_text="Where it was recorded, e.g. 'visit D2 vital signs'.")


class LabResultGradeSerializer(serializers.Serializer):
    grade = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    ctcae_version = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "worsened", "unchanged", "closed", "none"])
    adverse_event = AdverseEventSerializer(allow_null=True)


def _decimal(places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=places, coerce_to_string=False, **kwargs)


class BodySizeQuerySerializer(serializers.Serializer):
    height_cm = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=50, max_value=250, required=False)
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=20, max_value=300, required=False)
    sex = serializers.ChoiceField(choices=["M", "F"], required=False, help_text="For Nadler's blood volume.")


class TimePointSerializer(serializers.Serializer):
    time_point = serializers.CharField()
    platelets = _decimal(1, allow_null=True)
    delta = _decimal(1, allow_null=True, help_text="ΔPLT = count − baseline, ×10⁹/L")
    cci = _decimal(0, allow_null=True, help_text="Modified CCI")
    ppr_percent = _decimal(2, allow_null=True, help_text="Modified PPR (%)")
    note = serializers.CharField(help_text="Why a value is empty, or 'computed'.")


class SubjectPlateletsSerializer(serializers.Serializer):
    subject = serializers.CharField()
    dose_level = serializers.IntegerField(allow_null=True)
    viable_cells_infused = serializers.IntegerField(
        allow_null=True, help_text="The level's planned flat dose until the dosing-day record gives the count."
    )
    baseline = _decimal(1, allow_null=True, help_text="D0 pre-infusion count (from the D0 visit), ×10⁹/L")
    bsa_m2 = _decimal(4, allow_null=True)
    blood_volume_l = _decimal(3, allow_null=True)
    time_points = TimePointSerializer(many=True)


class TimePointSummarySerializer(serializers.Serializer):
    time_point = serializers.CharField()
    n = serializers.IntegerField()
    mean = _decimal(1, allow_null=True)
    median = _decimal(1, allow_null=True)
    min = _decimal(1, allow_null=True)
    max = _decimal(1, allow_null=True)
    note = serializers.CharField()


class LevelSummarySerializer(serializers.Serializer):
    dose_level = serializers.IntegerField()
    label = serializers.CharField()
    subjects = serializers.IntegerField()
    time_points = TimePointSummarySerializer(many=True)
