"""Safety follow-up: visit schedule and CTCAE catalogue (reference), visits, adverse events, DLTs, SAE reports."""

from functools import reduce
from operator import or_

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ctit_trial.audit import AuditedHistory
from ctit_trial.signatures import SignatureFields
from ctit_trial.site_time import format_instant
from enrollment.models import Protocol


class VisitDefinition(models.Model):
    """A scheduled visit: target day relative to D0 and its allowed window in site-local days."""

    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="visit_definitions")
    code = models.CharField(max_length=10)
    label = models.CharField(max_length=60)
    target_day = models.SmallIntegerField()
    window_before = models.PositiveSmallIntegerField()
    window_after = models.PositiveSmallIntegerField()
    content = models.CharField(max_length=200, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["protocol", "target_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "code"],
                name="unique_visit_code",
                violation_error_message="This protocol already has a visit with this code.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} (D{self.target_day} −{self.window_before}/+{self.window_after})"


class CtcaeTerm(models.Model):
    """A CTCAE term with its MedDRA code, SOC and grading specification (seeds/ctcae_v5.yaml)."""

    class Category(models.TextChoices):
        LAB = "lab", "Laboratory"
        CLINICAL = "clinical", "Clinical"

    ctcae_version = models.CharField("CTCAE version", max_length=10)
    code = models.SlugField(max_length=60, help_text="Stable key used by the grading rules.")
    term = models.CharField(max_length=120)
    meddra_code = models.CharField("MedDRA code", max_length=12)
    soc = models.CharField(max_length=120, verbose_name="system organ class")
    category = models.CharField(max_length=10, choices=Category.choices)
    specification = models.JSONField(help_text="Grade definitions, grading rule and DLT flags as seeded.")
    history = AuditedHistory()

    class Meta:
        ordering = ["ctcae_version", "term"]
        verbose_name = "CTCAE term"
        verbose_name_plural = "CTCAE terms"
        constraints = [
            models.UniqueConstraint(
                fields=["ctcae_version", "code"],
                name="unique_ctcae_term_code",
                violation_error_message="This CTCAE version already has a term with this code.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} (CTCAE v{self.ctcae_version}, MedDRA {self.meddra_code})"


SERIOUSNESS_CRITERIA = (
    "sae_death",
    "sae_life_threatening",
    "sae_hospitalization",
    "sae_disability",
    "sae_congenital_anomaly",
    "sae_medically_important",
)


def _any_of(fields: tuple[str, ...]) -> models.Q:
    return reduce(or_, (models.Q(**{name: True}) for name in fields))


class Visit(models.Model):
    """A scheduled follow-up visit of a dosed subject: target day and window in site-local calendar dates."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"

    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(VisitDefinition, on_delete=models.PROTECT, related_name="visits")
    target_date = models.DateField(help_text="Site-local calendar day of the target study day.")
    window_earliest = models.DateField()
    window_latest = models.DateField()
    visit_date = models.DateField(null=True, blank=True, help_text="Site-local day the visit took place.")
    platelets = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Platelet count, ×10⁹/L (at D0: the pre-infusion baseline).",
    )
    ae_review_done = models.BooleanField(
        "AE review done", default=False, help_text="Adverse events were reviewed at this visit."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    deviation = models.BooleanField(default=False, help_text="Protocol deviation: the visit was out of its window.")
    deviation_reason = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "target_date", "pk"]
        permissions = [
            ("mark_visit_missed", "Can confirm that a visit did not take place"),
            ("close_out_subject", "Can close out a subject's follow-up after D30"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "definition"],
                name="one_visit_per_definition",
                violation_error_message="This subject already has this visit in the schedule.",
            ),
            models.CheckConstraint(
                condition=models.Q(window_earliest__lte=models.F("target_date"))
                & models.Q(target_date__lte=models.F("window_latest")),
                name="visit_target_inside_window",
                violation_error_message="The visit's target day must lie inside its window.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="done", visit_date__isnull=False)
                | (~models.Q(status="done") & models.Q(visit_date__isnull=True)),
                name="done_visit_has_date",
                violation_error_message="A done visit has its visit date, and only a done visit has one.",
            ),
            models.CheckConstraint(
                condition=models.Q(deviation=False) | ~models.Q(deviation_reason=""),
                name="deviation_has_reason",
                violation_error_message="A visit outside its window needs the reason for the deviation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.definition.code} ({self.get_status_display()})"


# The allowed visit status changes; each has its own service (a missed visit may still be recorded late).
VISIT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Visit.Status.PLANNED: (Visit.Status.DONE, Visit.Status.MISSED),
    Visit.Status.MISSED: (Visit.Status.DONE,),
    Visit.Status.DONE: (Visit.Status.DONE,),  # corrections, with a reason
}


class AdverseEvent(models.Model):
    """An adverse event with every field of PROTOCOL.md §6; study day and emergence are derived, not stored."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by site staff"
        LAB = "lab", "Graded from a lab result"
        TEMPERATURE = "vitals", "Graded from a recorded temperature (vital signs)"

    class Relatedness(models.TextChoices):
        PENDING = "", "Not yet assessed"
        DEFINITELY = "definitely", "Definitely related"
        PROBABLY = "probably", "Probably related"
        POSSIBLY = "possibly", "Possibly related"
        UNLIKELY = "unlikely", "Unlikely related"
        NOT_RELATED = "not_related", "Not related"

    class Expectedness(models.TextChoices):
        PENDING = "", "Not yet assessed"
        EXPECTED = "expected", "Expected (listed in the Investigator's Brochure)"
        UNEXPECTED = "unexpected", "Unexpected"

    class ActionTaken(models.TextChoices):
        NOT_APPLICABLE = "not_applicable", "Not applicable (after the single infusion)"
        NONE = "none", "Dose not changed"
        INTERRUPTED = "infusion_interrupted", "Infusion interrupted"
        STOPPED = "infusion_stopped", "Infusion stopped"

    class Outcome(models.TextChoices):
        NOT_RECOVERED = "not_recovered", "Not recovered / not resolved"
        RECOVERING = "recovering", "Recovering / resolving"
        RECOVERED = "recovered", "Recovered / resolved"
        RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered / resolved with sequelae"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="adverse_events")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    verbatim_term = models.CharField(max_length=200)
    ctcae_term = models.ForeignKey(
        CtcaeTerm, verbose_name="CTCAE term", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    other_term = models.CharField(max_length=200, blank=True, help_text="CTCAE term outside the catalogue.")
    other_meddra_code = models.CharField(
        "other term's MedDRA code", max_length=12, blank=True, help_text="MedDRA code of the other term."
    )
    ctcae_version = models.CharField("CTCAE version", max_length=10)
    grade = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    onset_date = models.DateField(help_text="Site-local calendar day.")
    end_date = models.DateField(null=True, blank=True)
    ongoing = models.BooleanField(default=True)
    serious = models.BooleanField(default=False)
    sae_death = models.BooleanField("results in death", default=False)
    sae_life_threatening = models.BooleanField("life-threatening", default=False)
    sae_hospitalization = models.BooleanField("requires or prolongs hospitalization", default=False)
    sae_disability = models.BooleanField("persistent or significant disability", default=False)
    sae_congenital_anomaly = models.BooleanField("congenital anomaly / birth defect", default=False)
    sae_medically_important = models.BooleanField("other medically important event", default=False)
    relatedness = models.CharField(max_length=12, choices=Relatedness.choices, blank=True)
    expectedness = models.CharField(max_length=12, choices=Expectedness.choices, blank=True)
    action_taken = models.CharField(max_length=25, choices=ActionTaken.choices, default=ActionTaken.NOT_APPLICABLE)
    outcome = models.CharField(max_length=25, choices=Outcome.choices, default=Outcome.NOT_RECOVERED)
    treatment = models.TextField(blank=True, help_text="Treatment given for the event.")
    fever_resolved_within_hours = models.DecimalField(
        "fever resolved within (hours)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    lab_resolved_within_days = models.PositiveSmallIntegerField(
        "lab abnormality resolved within (days)", null=True, blank=True
    )
    resolved_without_sequelae = models.BooleanField(default=False)
    neutropenia_duration_days = models.PositiveSmallIntegerField("neutropenia duration (days)", null=True, blank=True)
    awareness_at = models.DateTimeField(null=True, blank=True, help_text="When site staff learned of the SAE.")
    sponsor_aware_on = models.DateField(null=True, blank=True, help_text="Day 0 of the sponsor's SUSAR clock.")
    susar = models.BooleanField(
        "SUSAR", default=False, help_text="Serious, related and unexpected (set by the services)."
    )
    susar_reported_on = models.DateField(
        "SUSAR reported on", null=True, blank=True, help_text="Sponsor's SUSAR report to authorities."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "onset_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=5),
                name="ae_grade_1_to_5",
                violation_error_message="The CTCAE grade is a number from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=models.Q(ongoing=True, end_date__isnull=True)
                | models.Q(ongoing=False, end_date__isnull=False, end_date__gte=models.F("onset_date")),
                name="ae_ongoing_or_ended_after_onset",
                violation_error_message=(
                    "An adverse event is either ongoing (no end date) or ended on or after its onset date."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(ctcae_term__isnull=False, other_term="", other_meddra_code="")
                | (models.Q(ctcae_term__isnull=True) & ~models.Q(other_term="") & ~models.Q(other_meddra_code="")),
                name="ae_catalogue_term_or_other_term",
                violation_error_message="Give the CTCAE term, or another term (other_term) with its MedDRA code.",
            ),
            models.CheckConstraint(
                condition=models.Q(serious=False, **dict.fromkeys(SERIOUSNESS_CRITERIA, False))
                | (models.Q(serious=True, awareness_at__isnull=False) & _any_of(SERIOUSNESS_CRITERIA)),
                name="ae_serious_iff_criterion",
                violation_error_message=(
                    "A serious adverse event needs at least one seriousness criterion and the time the site learned "
                    "of it; a non-serious one has no seriousness criterion."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(grade=5, outcome="fatal") | (~models.Q(grade=5) & ~models.Q(outcome="fatal")),
                name="ae_grade_5_iff_fatal",
                violation_error_message=(
                    "Grade 5 is death: a grade 5 adverse event has the outcome fatal, and only a grade 5 one has."
                ),
            ),
            models.UniqueConstraint(
                fields=["subject", "ctcae_term"],
                condition=models.Q(source="lab", ongoing=True),
                name="one_open_lab_episode_per_term",
                violation_error_message="This subject already has an ongoing lab-graded adverse event for this term.",
            ),
            models.UniqueConstraint(
                fields=["subject", "ctcae_term"],
                condition=models.Q(source="vitals", ongoing=True),
                name="one_open_temperature_episode_per_term",
                violation_error_message=(
                    "This subject already has an ongoing fever episode graded from temperatures for this term."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(grade=5) | models.Q(serious=True, sae_death=True),
                name="ae_grade_5_is_serious_by_death",
                violation_error_message="A grade 5 adverse event is serious, with death as its seriousness criterion.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject}: {self.verbatim_term} (grade {self.grade}, onset {self.onset_date})"

    @property
    def term_name(self) -> str:
        """The CTCAE term, from the catalogue or entered as another term."""
        return self.ctcae_term.term if self.ctcae_term_id else self.other_term

    @property
    def seriousness_criteria(self) -> list[str]:
        """The ICH E2A criteria that make this AE serious."""
        return [name for name in SERIOUSNESS_CRITERIA if getattr(self, name)]


class DltAssessment(models.Model):
    """One per AE: the DLT candidate flag (recomputed on every AE save); its signed adjudications hang below."""

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="dlt_assessment")
    is_candidate = models.BooleanField(default=False)
    rule = models.CharField(max_length=40, blank=True, help_text="The DLT rule that flagged the AE.")
    flag_reason = models.TextField()
    flagged_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["adverse_event"]
        verbose_name = "DLT assessment"
        verbose_name_plural = "DLT assessments"
        permissions = [("adjudicate_dlt", "Can adjudicate DLT candidates (SRC members, investigators)")]

    def __str__(self) -> str:
        flag = f"DLT candidate ({self.rule})" if self.is_candidate else "not a DLT candidate"
        return f"{self.adverse_event}: {flag}"


class DltAdjudication(SignatureFields):
    """A signed DLT decision; a re-adjudication is a new row that supersedes the current one, with a reason."""

    # Validity is never stored: an adjudication counts while its MAC matches the AE's current DLT facts
    # (safety.selectors.adjudication_state), so a later change invalidates it by itself. Rows are never edited.

    class Decision(models.TextChoices):
        CONFIRM = "confirm", "Confirmed DLT"
        REJECT = "reject", "Rejected: not a DLT"

    assessment = models.ForeignKey(DltAssessment, on_delete=models.PROTECT, related_name="adjudications")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    decision_reason = models.TextField(help_text="Rationale to confirm, reason to reject.")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    reason_for_change = models.TextField(blank=True, help_text="Why the earlier adjudication was superseded.")
    history = AuditedHistory()

    class Meta:
        ordering = ["assessment", "signed_at", "pk"]
        verbose_name = "DLT adjudication"
        verbose_name_plural = "DLT adjudications"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision_reason=""),
                name="dlt_adjudication_has_reason",
                violation_error_message=(
                    "Give the reason for the DLT decision (the rationale to confirm, the reason to reject)."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(supersedes__isnull=True, reason_for_change="")
                | (models.Q(supersedes__isnull=False) & ~models.Q(reason_for_change="")),
                name="dlt_readjudication_has_reason_for_change",
                violation_error_message=(
                    "A re-adjudication needs the reason it supersedes the earlier one; a first adjudication has none."
                ),
            ),
            models.UniqueConstraint(
                fields=["assessment"],
                condition=models.Q(supersedes__isnull=True),
                name="one_first_dlt_adjudication",
                violation_error_message=(
                    "This DLT candidate is already adjudicated: re-adjudicate it, with a reason for change."
                ),
            ),
        ]


class SaeReport(SignatureFields):
    """The investigator's signed record that an SAE was reported to the sponsor (the 24-hour clock stops)."""

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="sae_report")
    reported_at = models.DateTimeField(help_text="When the report reached the sponsor.")
    history = AuditedHistory()

    class Meta:
        ordering = ["reported_at", "pk"]
        verbose_name = "SAE report"
        verbose_name_plural = "SAE reports"
        permissions = [("report_sae", "Can sign SAE reports to the sponsor (investigators)")]

    def __str__(self) -> str:
        return f"SAE report of {self.adverse_event} at {format_instant(self.reported_at)} by {self.printed_name}"
