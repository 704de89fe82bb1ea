"""The admin reads as a clinician writes: model labels ("Criteria", "SRC decisions", "D−1 reconfirmations"), and
every database constraint a user could hit refuses in words, never by its name."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models.constraints import BaseConstraint
from django.utils.text import capfirst

from ctit_trial.api.exceptions import exception_handler
from ctit_trial.errors import CONCURRENT_CHANGE
from dosing.models import DoseLevel
from enrollment.models import Protocol, Subject
from enrollment.roles import STUDY_COORDINATOR

ADMIN_PLURALS = [
    ("auth", "Groups"),
    ("auth", "Users"),
    ("authtoken", "Tokens"),
    ("axes", "Access attempts"),
    ("axes", "Access failures"),
    ("axes", "Access logs"),
    ("dosing", "D0 pre-infusion assessments"),
    ("dosing", "Dose levels"),
    ("dosing", "Dose slots"),
    ("dosing", "Dosing day corrections"),
    ("dosing", "D−1 reconfirmations"),  # the minus sign sorts after the letters
    ("dosing", "Infusion plans"),
    ("dosing", "Infusions"),
    ("dosing", "Post-infusion draws"),
    ("dosing", "SRC decisions"),
    ("enrollment", "Consents"),
    ("enrollment", "Criteria"),
    ("enrollment", "Discontinuations"),
    ("enrollment", "Eligibility evaluations"),
    ("enrollment", "Eligibility signatures"),
    ("enrollment", "Protocols"),
    ("enrollment", "Screen failures"),
    ("enrollment", "Screenings"),
    ("enrollment", "Site memberships"),
    ("enrollment", "Sites"),
    ("enrollment", "Subject identities"),
    ("enrollment", "Subjects"),
    ("otp_totp", "TOTP devices"),
    ("safety", "Adverse events"),
    ("safety", "CTCAE terms"),
    ("safety", "DLT assessments"),
    ("safety", "Lab results"),
    ("safety", "Notifications"),
    ("safety", "SAE reports"),
    ("safety", "Temperature records"),
    ("safety", "Visit definitions"),
    ("safety", "Visits"),
]
# Models shown only as inlines on another record's page: their headings read the same way.
INLINE_PLURALS = {
    "dosing.SrcSignature": "SRC signatures",
    "dosing.VitalSigns": "Vital signs",
    "enrollment.CriterionVerdict": "Criterion verdicts",
    "enrollment.ScreeningLab": "Screening labs",
    "enrollment.ScreeningSerology": "Screening serologies",
    "safety.DltAdjudication": "DLT adjudications",
}
CLINICAL_APPS = ("ctit_trial", "enrollment", "dosing", "safety")


def test_every_admin_model_has_its_plural_label_as_a_clinician_writes_it():
    plurals = sorted(
        (model._meta.app_label, str(capfirst(model._meta.verbose_name_plural))) for model in admin.site._registry
    )

    assert plurals == ADMIN_PLURALS


def test_inline_models_read_the_same_way():
    assert {name: str(capfirst(apps.get_model(name)._meta.verbose_name_plural)) for name in INLINE_PLURALS} == (
        INLINE_PLURALS
    )


def test_the_singular_labels_of_the_renamed_models():
    names = ["dosing.Reconfirmation", "dosing.SrcDecision", "safety.CtcaeTerm", "safety.DltAssessment"]

    assert [str(apps.get_model(name)._meta.verbose_name) for name in names] == [
        "D−1 reconfirmation",
        "SRC decision",
        "CTCAE term",
        "DLT assessment",
    ]


def test_every_constraint_of_the_clinical_apps_carries_a_message_in_words():
    unworded = [
        f"{model.__name__}.{constraint.name}"
        for app in CLINICAL_APPS
        for model in apps.get_app_config(app).get_models()
        for constraint in model._meta.constraints
        if constraint.violation_error_message == BaseConstraint.default_violation_error_message
    ]

    assert unworded == []


@pytest.fixture
def protocol(roles):
    call_command("seed", verbosity=0)
    return Protocol.objects.get()


@pytest.mark.django_db
def test_a_check_constraint_refuses_in_words_when_the_record_is_validated(protocol):
    level = DoseLevel(protocol=protocol, level=0, label="L0", viable_cells=50_000_000, design_role="extra")

    with pytest.raises(ValidationError) as refused:
        level.full_clean()

    assert refused.value.message_dict == {"__all__": ["Dose levels are numbered from 1."]}


@pytest.mark.django_db
def test_a_unique_constraint_refuses_in_words_when_the_record_is_validated(protocol):
    level = DoseLevel(protocol=protocol, level=1, label="L1b", viable_cells=100_000_000, design_role="extra")

    with pytest.raises(ValidationError) as refused:
        level.full_clean()

    assert refused.value.message_dict == {"__all__": ["This protocol already has a dose level with this number."]}


def _integrity_error(write) -> IntegrityError:
    """The IntegrityError the database raises for `write` (rolled back)."""
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        write()
    return raised.value


@pytest.mark.django_db
def test_a_database_refusal_reaches_the_api_as_a_409_with_the_constraints_words(protocol):
    error = _integrity_error(
        lambda: DoseLevel.objects.create(protocol=protocol, level=1, label="L1b", viable_cells=1, design_role="x")
    )

    response = exception_handler(error, {})

    assert response.status_code == 409
    assert response.data == {"detail": "This protocol already has a dose level with this number.", "errors": {}}


@pytest.mark.django_db
def test_a_refusal_by_a_constraint_without_a_model_message_says_what_to_do(roles):
    get_user_model().objects.create(username="twin")
    error = _integrity_error(lambda: get_user_model().objects.create(username="twin"))

    response = exception_handler(error, {})

    assert response.status_code == 409
    assert response.data == {"detail": CONCURRENT_CHANGE, "errors": {}}
    assert CONCURRENT_CHANGE == (
        "The change conflicts with data saved at the same moment (another user or a second click): "
        "reload the page, check the record and try again."
    )


@pytest.mark.django_db
def test_two_registrations_at_the_same_moment_get_a_409_in_words_not_a_500(api_client_for, site_a, monkeypatch):
    # given a coordinator whose registration loses a race: another subject took the next number meanwhile
    coordinator = api_client_for(STUDY_COORDINATOR, site_a)
    first = coordinator.post("/api/v1/subjects/", {"site": "BJ01"}, format="json")

    def register_taken_number(*, actor, site):
        with transaction.atomic():
            return Subject.objects.create(site=site, sequence=1, study_number="S-BJ01-001-twin")

    monkeypatch.setattr("enrollment.api.views.services.subject_register", register_taken_number)

    # when
    response = coordinator.post("/api/v1/subjects/", {"site": "BJ01"}, format="json")

    # then
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json() == {"detail": "This site already has a subject with this sequence number.", "errors": {}}
    assert Subject.objects.count() == 1
