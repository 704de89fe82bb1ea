"""A screening as structured data: the fields of the Appendix A document, its labs and its serology."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from ctit_trial.audit import AuditedHistory
from enrollment.models.subjects import Consent, Subject
from enrollment.rules.units import ACCEPTED_UNITS

# Dated history events: a null date with `<event>_answered` records "none"; unanswered leaves the criterion missing.
HISTORY_EVENTS = (
    "last_thrombopoietic_drug_on",
    "last_thromboembolism_on",
    "last_catheter_thrombosis_on",
    "last_cardiac_disease_on",
    "last_major_surgery_on",
    "last_anticoagulant_on",
)


def _yes_no(label: str = "") -> models.BooleanField:
    """A yes/no item; null means not answered."""
    return models.BooleanField(null=True, blank=True, verbose_name=label or None)


def _event_date() -> models.DateField:
    return models.DateField(null=True, blank=True)


def _event_words(event: str) -> str:
    """'last_major_surgery_on' -> 'last major surgery'."""
    return event.removesuffix("_on").replace("_", " ")


def _answered() -> models.BooleanField:
    return models.BooleanField(default=False, help_text="Answered: a blank date then means none on record.")


class TestResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class Screening(models.Model):
    """One screening of a subject (a re-screen is a new row); the latest attempt is the current one."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="screenings")
    attempt = models.PositiveSmallIntegerField(help_text="1 for the first screening, 2 after one re-screen, …")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="screenings")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # Reference dates
    screening_date = models.DateField()
    planned_enrollment_date = models.DateField(null=True, blank=True)
    planned_infusion_at = models.DateTimeField(null=True, blank=True)
    # Demographics and disease
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    height_cm = models.DecimalField("height (cm)", max_digits=6, decimal_places=2, null=True, blank=True)
    weight_kg = models.DecimalField("weight (kg)", max_digits=6, decimal_places=2, null=True, blank=True)
    malignancy_confirmed = _yes_no()
    thrombocytopenia_due_to_anticancer_therapy = _yes_no()
    active_bleeding = _yes_no()
    last_platelet_transfusion_answered = _answered()
    last_platelet_transfusion_at = models.DateTimeField(null=True, blank=True)
    ecog = models.PositiveSmallIntegerField(
        "ECOG performance status", null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    life_expectancy_months = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # Childbearing potential
    wocbp = _yes_no("woman of childbearing potential")
    partner_wocbp = _yes_no("partner of childbearing potential")
    contraception_agreed = _yes_no()
    pregnancy_test_date = models.DateField(null=True, blank=True)
    pregnancy_test_result = models.CharField(max_length=8, choices=TestResult.choices, blank=True)
    liver_cancer_or_metastasis = _yes_no()
    # History (exclusion criteria)
    platelet_transfusion_refractoriness = _yes_no()
    severe_transfusion_allergy = _yes_no()
    other_cause_of_thrombocytopenia_or_bleeding_disorder = _yes_no()
    splenomegaly_or_hypersplenism = _yes_no()
    last_thrombopoietic_drug_on_answered = _answered()
    last_thrombopoietic_drug_on = _event_date()
    severe_bleeding = _yes_no()
    hemophilia_or_coagulation_disorder = _yes_no()
    last_thromboembolism_on_answered = _answered()
    last_thromboembolism_on = _event_date()
    last_catheter_thrombosis_on_answered = _answered()
    last_catheter_thrombosis_on = _event_date()
    last_cardiac_disease_on_answered = _answered()
    last_cardiac_disease_on = _event_date()
    severe_cardiovascular_history = _yes_no()
    last_major_surgery_on_answered = _answered()
    last_major_surgery_on = _event_date()
    major_surgery_planned = _yes_no()
    last_anticoagulant_on_answered = _answered()
    last_anticoagulant_on = _event_date()
    active_infection_requiring_iv_antibiotics = _yes_no()
    allergy_to_product = _yes_no()
    similar_investigational_product_within_4_weeks = _yes_no()
    in_other_interventional_trial = _yes_no()
    hsct_with_acute_gvhd_requiring_treatment = _yes_no()
    pregnant_or_lactating = _yes_no()
    investigator_excludes = _yes_no("investigator excludes (EX21)")
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "attempt"],
                name="unique_screening_attempt",
                violation_error_message="This subject already has a screening with this attempt number.",
            ),
            models.CheckConstraint(
                condition=models.Q(ecog__lte=5),
                name="screening_ecog_0_to_5",
                violation_error_message="The ECOG performance status is a number from 0 to 5.",
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{event}__isnull": True}) | models.Q(**{f"{event}_answered": True}),
                    name=f"screening_{event}_answered",
                    violation_error_message=(
                        f"A date of the {_event_words(event)} needs its question marked as answered."
                    ),
                )
                for event in HISTORY_EVENTS
            ),
            models.CheckConstraint(
                condition=models.Q(last_platelet_transfusion_at__isnull=True)
                | models.Q(last_platelet_transfusion_answered=True),
                name="screening_last_transfusion_answered",
                violation_error_message=(
                    "A date of the last platelet transfusion needs its question marked as answered."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Screening #{self.attempt} of {self.subject} ({self.screening_date})"


class ScreeningLab(models.Model):
    """One screening lab value with its unit and the site's reference range (ULN/LLN)."""

    ANALYTES = [
        ("platelets", "Platelets"),
        ("anc", "Absolute neutrophil count"),
        ("hemoglobin", "Hemoglobin"),
        ("aptt", "APTT"),
        ("inr", "INR"),
        ("total_bilirubin", "Total bilirubin"),
        ("alt", "ALT"),
        ("ast", "AST"),
        ("creatinine", "Serum creatinine"),
    ]

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="labs")
    analyte = models.CharField(max_length=20, choices=ANALYTES)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=10, blank=True)
    uln = models.DecimalField("ULN", max_digits=14, decimal_places=4, null=True, blank=True)
    lln = models.DecimalField("LLN", max_digits=14, decimal_places=4, null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["screening", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "analyte"],
                name="unique_lab_per_screening",
                violation_error_message="This screening already has a value for this analyte.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_analyte_display()} {self.value} {self.unit}"

    def clean(self) -> None:
        units = ACCEPTED_UNITS.get(self.analyte, ())
        if self.unit and self.unit not in units:
            raise ValidationError({"unit": f"Unknown unit {self.unit!r}; expected one of: {', '.join(units)}."})


class ScreeningSerology(models.Model):
    """Screening serology: antibody and antigen results, HCV RNA and HBV DNA."""

    screening = models.OneToOneField(Screening, on_delete=models.CASCADE, related_name="serology")
    hiv_ab = models.CharField("anti-HIV", max_length=8, choices=TestResult.choices, blank=True)
    tp_ab = models.CharField("anti-TP", max_length=8, choices=TestResult.choices, blank=True)
    hcv_ab = models.CharField("anti-HCV", max_length=8, choices=TestResult.choices, blank=True)
    hcv_rna_above_uln = _yes_no("HCV RNA above ULN")
    hbsag = models.CharField("HBsAg", max_length=8, choices=TestResult.choices, blank=True)
    hbv_history = _yes_no("history of hepatitis B")
    hbcab = models.CharField("anti-HBc", max_length=8, choices=TestResult.choices, blank=True)
    hbv_dna_iu_ml = models.DecimalField("HBV DNA (IU/mL)", max_digits=16, decimal_places=2, null=True, blank=True)
    hbv_dna_date = models.DateField("HBV DNA date", null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name_plural = "screening serologies"

    def __str__(self) -> str:
        return f"Serology of {self.screening}"
