"""The enrollment acts on a record's admin page, from consent to enrollment, each through the API's own service.

Consent, the Appendix A screening document (record or correct), evaluation, the investigator's e-signature,
enrollment, screen failure and withdrawal: one ActForm each, whose `run_service` calls the same service as the API.
"""

from datetime import datetime

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.contrib.auth import get_user_model

from ctit_trial import journey
from ctit_trial.admin_base import ActForm, ActSpec, SignedActForm
from ctit_trial.audit import REASON_REQUIRED
from enrollment import selectors, services
from enrollment.documents import HISTORY_FIELDS, SEROLOGY_FIELDS, screening_document
from enrollment.models import Discontinuation, Screening, Subject
from enrollment.roles import Act
from enrollment.rules.document import _TOP_LEVEL, SEXES, TEST_RESULTS
from enrollment.rules.units import ACCEPTED_UNITS
from enrollment.services.eligibility import SIGN_MEANING

Status = Subject.Status
REASON_HELP = "Kept in the audit trail."


def _eligibility_signed(subject: Subject) -> bool:
    """The Enroll button waits for the investigator's valid signature (the service checks everything else)."""
    screening = selectors.screening_current(subject)
    return screening is not None and selectors.signature_status(screening).state == "valid"


def _reason_field(help_text: str = REASON_HELP, **kwargs) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, help_text=help_text, **kwargs)


# --- consent --------------------------------------------------------------------------------------------------
class ConsentForm(ActForm):
    version = forms.CharField(max_length=20, help_text="Version of the informed consent form signed.")
    signed_at = forms.SplitDateTimeField(widget=AdminSplitDateTime(), label="Signed at")
    obtained_by = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = get_user_model().objects.filter(
            is_active=True, site_memberships__site=self.target.site, site_memberships__is_active=True
        )
        self.fields["obtained_by"].queryset = staff.distinct().order_by("last_name", "username")
        self.fields["obtained_by"].help_text = "Who obtained the consent; you, when left empty."

    def run_service(self, actor, cleaned):
        return services.consent_record(
            actor=actor,
            subject=self.target,
            version=cleaned["version"],
            signed_at=cleaned["signed_at"],
            obtained_by=cleaned["obtained_by"],
        )


# --- the Appendix A screening document -------------------------------------------------------------------------
SEP = "__"  # form field names: a document's dotted path with "__" (labs__platelets__unit)
LAB_PARTS = ("value", "unit", "uln", "lln")


def _boolean(label=None) -> forms.NullBooleanField:
    return forms.NullBooleanField(required=False, label=label, widget=forms.NullBooleanSelect)


def _date(help_text="") -> forms.DateField:
    return forms.DateField(required=False, widget=AdminDateWidget(), help_text=help_text)


def _number(help_text="") -> forms.DecimalField:
    return forms.DecimalField(required=False, help_text=help_text)


def _text(options: tuple[str, ...]) -> forms.CharField:
    return forms.CharField(required=False, max_length=40, help_text=f"One of: {', '.join(options)}.")


def _top_level_field(key: str, convert) -> forms.Field:
    kind = convert.__name__
    if kind == "_boolean":
        return _boolean()
    if kind == "_iso_date":
        return _date()
    if kind == "_instant":
        return forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime())
    if kind == "_ecog":
        return forms.IntegerField(required=False, label="ECOG")
    if key == "sex":
        return _text(SEXES)
    return _number()


def document_fields() -> dict[str, forms.Field]:
    """The document's fields in Appendix A order (the consent date is the recorded consent's)."""
    fields: dict[str, forms.Field] = {}
    for key, convert in _TOP_LEVEL.items():
        if key != "consent_signed_on":
            fields[key] = _top_level_field(key, convert)
    fields["last_platelet_transfusion_at"] = forms.SplitDateTimeField(
        required=False, widget=AdminSplitDateTime(), help_text="Empty: no platelet transfusion."
    )
    fields[f"pregnancy_test{SEP}date"] = _date("Empty with the result: no pregnancy test.")
    fields[f"pregnancy_test{SEP}result"] = _text(TEST_RESULTS)
    for analyte, units in ACCEPTED_UNITS.items():
        fields[f"labs{SEP}{analyte}{SEP}value"] = _number("Empty with the unit: not measured.")
        fields[f"labs{SEP}{analyte}{SEP}unit"] = _text(tuple(units))
        fields[f"labs{SEP}{analyte}{SEP}uln"] = _number()
        fields[f"labs{SEP}{analyte}{SEP}lln"] = _number()
    for name in SEROLOGY_FIELDS:
        if name in ("hcv_rna_above_uln", "hbv_history"):
            fields[f"serology{SEP}{name}"] = _boolean()
        elif name == "hbv_dna_iu_ml":
            fields[f"serology{SEP}{name}"] = _number()
        elif name == "hbv_dna_date":
            fields[f"serology{SEP}{name}"] = _date()
        else:
            fields[f"serology{SEP}{name}"] = _text(TEST_RESULTS)
    for name in HISTORY_FIELDS:
        event = name.startswith("last_")
        fields[f"history{SEP}{name}"] = _date("Empty: none.") if event else _boolean()
    for name, field in fields.items():
        field.label = field.label or name.split(SEP, 1)[-1].replace(SEP, " ").replace("_", " ").capitalize()
    return fields


def _json(value):
    """A form value as the document's JSON value (dates and instants as ISO text, the parser's input)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value == "":
        return None
    return value


def document_from_form(cleaned: dict) -> dict:
    """The Appendix A document from the form's values; a lab row or test left empty is left out (null)."""
    doc: dict = {"labs": {}, "serology": {}, "history": {}}
    pregnancy = {}
    for name, value in cleaned.items():
        parts = name.split(SEP)
        if parts[0] == "labs":
            doc["labs"].setdefault(parts[1], {})[parts[2]] = _json(value)
        elif parts[0] == "pregnancy_test":
            pregnancy[parts[1]] = _json(value)
        elif parts[0] in ("serology", "history"):
            doc[parts[0]][parts[1]] = _json(value)
        elif name in _TOP_LEVEL or name == "last_platelet_transfusion_at":
            doc[name] = _json(value)
    doc["pregnancy_test"] = pregnancy if any(v is not None for v in pregnancy.values()) else None
    doc["labs"] = {
        analyte: {part: value for part, value in lab.items() if value is not None}
        for analyte, lab in doc["labs"].items()
        if any(value is not None for value in lab.values())
    }
    return doc


def initial_from_document(doc: dict) -> dict:
    """The form's initial values from a saved screening's document (instants back to datetimes)."""
    initial = {}
    for key, value in doc.items():
        if key == "labs":
            for analyte, lab in value.items():
                initial |= {f"labs{SEP}{analyte}{SEP}{part}": lab.get(part) for part in LAB_PARTS}
        elif key in ("serology", "history", "pregnancy_test") and isinstance(value, dict):
            initial |= {f"{key}{SEP}{name}": item for name, item in value.items()}
        elif key in ("planned_infusion_at", "last_platelet_transfusion_at") and value:
            initial[key] = datetime.fromisoformat(value)
        else:
            initial[key] = value
    return initial


class ScreeningDocumentForm(ActForm):
    """The Appendix A document as a form; the service parses and validates it exactly as for the API."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.screening = _correctable_screening(self.target)
        for name, field in document_fields().items():
            self.fields[name] = field
        if self.screening is not None:
            self.fields["reason"] = _reason_field(required=False, label="Reason for change")
            if not self.is_bound:
                self.initial = initial_from_document(screening_document(self.screening))

    def clean(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if self.screening is not None and not self.errors and not reason:
            self.add_error("reason", REASON_REQUIRED)
        return super().clean()

    def run_service(self, actor, cleaned):
        document = document_from_form({key: value for key, value in cleaned.items() if key != "reason"})
        if self.screening is None:
            return services.screening_record(actor=actor, subject=self.target, document=document)
        return services.screening_update(
            actor=actor, screening=self.screening, document=document, reason=cleaned["reason"].strip()
        )

    def add_refusal(self, errors: dict) -> None:
        """The document's dotted paths (labs.platelets.unit) land on their fields (labs__platelets__unit)."""
        for path, field_messages in errors.items():
            name = str(path).replace(".", SEP)
            if name not in self.fields and f"{name}{SEP}value" in self.fields:
                name = f"{name}{SEP}value"  # an error on a whole lab row
            messages_list = field_messages if isinstance(field_messages, list | tuple) else [field_messages]
            for message in messages_list:
                self.add_error(name if name in self.fields else None, message)


def _correctable_screening(subject: Subject) -> Screening | None:
    """The screening a document corrects: the current one while the subject is screening; None: a new one."""
    current = selectors.screening_current(subject)
    return current if subject.status == Status.SCREENING and current is not None else None


def _screening_available(subject: Subject) -> bool:
    return subject.status in (Status.SCREENING, Status.SCREEN_FAILED)


# --- screen failure, enrollment, withdrawal -------------------------------------------------------------------------
class ScreenFailForm(ActForm):
    reason = _reason_field(
        help_text="Why the subject failed screening; the current evaluation's failing criteria are recorded with it."
    )

    def run_service(self, actor, cleaned):
        return services.subject_screen_fail(actor=actor, subject=self.target, reason=cleaned["reason"])


class EnrollForm(ActForm):
    def run_service(self, actor, cleaned):
        return journey.subject_enroll(actor=actor, subject=self.target)


class DiscontinueForm(ActForm):
    kind = forms.ChoiceField(choices=Discontinuation.Kind.choices)
    left_at = forms.SplitDateTimeField(widget=AdminSplitDateTime(), label="Left the trial at")
    reason = _reason_field()

    def run_service(self, actor, cleaned):
        return journey.subject_discontinue(
            actor=actor, subject=self.target, kind=cleaned["kind"], left_at=cleaned["left_at"], reason=cleaned["reason"]
        )


def enrolled_message(subject: Subject, slot) -> str:
    return f"{subject} enrolled at dose level {slot.dose_level.level} ({slot.dose_level.label})."


SUBJECT_ACTS = {
    "consent": ActSpec(
        label="Record consent",
        act=Act.RECORD_CONSENT,
        form=ConsentForm,
        available=lambda subject: subject.status in (Status.SCREENING, Status.SCREEN_FAILED),
        done=lambda subject, consent: f"{subject}: consent version {consent.version} recorded.",
        help="The signed informed consent; its site-local date is the IN1 reference for the screening.",
    ),
    "screening": ActSpec(
        label="Screening document (Appendix A)",
        act=Act.RECORD_SCREENING,
        form=ScreeningDocumentForm,
        available=lambda subject: _screening_available(subject) and _correctable_screening(subject) is None,
        done=lambda subject, screening: f"{subject}: screening #{screening.attempt} saved and evaluated.",
        help="The screening document of docs/protocol.md Appendix A; saving evaluates eligibility (the consent date is "
        "the recorded consent's).",
    ),
    "correct_screening": ActSpec(
        label="Correct screening document",
        act=Act.CORRECT_SCREENING,
        form=ScreeningDocumentForm,
        available=lambda subject: _correctable_screening(subject) is not None,
        done=lambda subject, screening: f"{subject}: screening #{screening.attempt} corrected.",
        help="Correct the current screening's Appendix A document with a reason for change; if anything changed, "
        "eligibility is evaluated again (and a signature of the old data no longer holds).",
    ),
    "enroll": ActSpec(
        label="Enroll",
        act=Act.ENROLL,
        form=EnrollForm,
        available=lambda subject: subject.status == Status.SCREENING,
        offered_to=lambda subject, user: _eligibility_signed(subject),
        done=lambda subject, slot: enrolled_message(subject, slot),
        help="Enroll a subject whose eligibility is signed and in window: claims a dose slot at the open level.",
    ),
    "screen_fail": ActSpec(
        label="Screen failure",
        act=Act.ENROLL,
        form=ScreenFailForm,
        available=lambda subject: subject.status == Status.SCREENING,
        done=lambda subject, failure: f"{subject}: screen failure recorded.",
        help="Record that the subject failed screening; they may be re-screened later.",
    ),
    "discontinue": ActSpec(
        label="Withdraw / discontinue",
        act=Act.DISCONTINUE_SUBJECT,
        form=DiscontinueForm,
        available=lambda subject: subject.status in (Status.ENROLLED, Status.DOSED),
        done=lambda subject, record: f"{subject}: {record.get_kind_display().lower()} recorded.",
        help="The subject leaves the trial: open visits are closed and pending notifications cancelled.",
    ),
}


# --- on the screening's page: evaluate, sign ----------------------------------------------------------------------
class EvaluateForm(ActForm):
    def run_service(self, actor, cleaned):
        return services.eligibility_evaluate(actor=actor, screening=self.target)


class SignForm(SignedActForm):
    def run_service(self, actor, cleaned):
        return services.eligibility_sign(actor=actor, screening=self.target, **self.credentials(cleaned))


def _current_while_screening(screening: Screening) -> bool:
    subject = screening.subject
    current = selectors.screening_current(subject)
    return subject.status == Status.SCREENING and current is not None and current.pk == screening.pk


SCREENING_ACTS = {
    "evaluate": ActSpec(
        label="Evaluate eligibility",
        act=Act.RECORD_SCREENING,
        form=EvaluateForm,
        available=lambda screening: screening.subject.status == Status.SCREENING,
        done=lambda screening, evaluation: f"{screening}: {evaluation.get_outcome_display()}.",
        help="Evaluate the screening's data again with the current engine and protocol; the data stay as they are.",
    ),
    "sign": ActSpec(
        label="Sign eligibility",
        act=Act.SIGN_ELIGIBILITY,
        form=SignForm,
        available=_current_while_screening,
        done=lambda screening, signature: f"{screening}: eligibility signed ({signature.printed_name}).",
        help=f"Investigator's electronic signature. Meaning of this signature: “{SIGN_MEANING}” — I confirm the "
        "subject meets every inclusion criterion and no exclusion criterion on the data shown. Re-enter your "
        "password (and your one-time code if a second factor is configured).",
    ),
}
