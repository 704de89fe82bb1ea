"""The eligibility signature is bound to its screening, its meaning, its content and the server key."""

import pytest

from ctit_trial.signatures import content_digest
from enrollment import selectors, services
from enrollment.documents import screening_document
from tests.enrollment.conftest import CONSENT_AT, REGISTERED_AT, SCREENING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A, changed
from tests.factories import PASSWORD, make_consent, make_screening, make_staff_user, make_subject
from tests.signature_forgery import copy_row, edit_row, forged_macs

pytestmark = pytest.mark.django_db


@pytest.fixture
def twin(screened, trial, clock):
    """A second subject with exactly the same screening document."""
    clock(REGISTERED_AT)
    subject = make_subject(site=trial)
    clock(CONSENT_AT)
    make_consent(subject=subject, signed_at=CONSENT_AT)
    clock(SCREENING_AT)
    make_screening(subject=subject, document=APPENDIX_A)
    return subject


@pytest.fixture
def signature(screened, twin, trial, clock):
    clock(SIGNING_AT)
    doctor = make_staff_user(role_key="investigator", sites=[trial], username="dr-wang")
    return services.eligibility_sign(actor=doctor, screening=selectors.screening_current(screened), password=PASSWORD)


def state(subject) -> str:
    return selectors.signature_status(selectors.screening_current(subject)).state


def target_of(subject):
    return selectors.screening_current(subject)


def test_a_signature_copied_to_another_subject_with_the_same_data_does_not_validate(signature, screened, twin):
    target = selectors.screening_current(twin)

    copy_row(signature, screening_id=target.pk, evaluation_id=selectors.evaluation_current(target).pk)

    same = content_digest(screening_document(target)) == content_digest(screening_document(target_of(screened)))
    assert same  # the unkeyed digest of the old scheme validated this copy
    assert (state(screened), state(twin)) == ("valid", "invalidated")


def test_a_changed_meaning_invalidates_the_signature(signature, screened):
    edit_row(signature, meaning="reviewed")

    assert state(screened) == "invalidated"


def test_changed_content_invalidates_the_signature(signature, screened, trial):
    data_manager = make_staff_user(role_key="data_manager", sites=[trial])
    screening = selectors.screening_current(screened)

    services.screening_update(actor=data_manager, screening=screening, document=changed({"ecog": 2}), reason="Typo")

    assert state(screened) == "invalidated"


def test_a_mac_computed_without_the_server_key_does_not_validate(signature, screened):
    screening = selectors.screening_current(screened)
    content = selectors.signature_content(screening_document(screening), evaluation_id=signature.evaluation_id)

    for forged in forged_macs(signature, record=screening, content=content):
        edit_row(signature, content_digest=forged)
        assert state(screened) == "invalidated"
