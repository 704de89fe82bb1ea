"""The eligibility e-signature: password failures lock out like logins; the one-time code when required."""

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog

from ctit_trial.security.second_factor import CODE_MISSING, CODE_WRONG, NO_DEVICE
from ctit_trial.signatures import WRONG_PASSWORD
from enrollment.models import EligibilitySignature, Screening
from tests.enrollment.conftest import SIGNING_AT
from tests.factories import PASSWORD
from tests.second_factor import current_code, enrol_totp, wrong_code

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed attempts: logging in and signing are refused for 15 minutes."


@pytest.fixture
def protection(settings, clock, screened):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    clock(SIGNING_AT)


def sign(client, **fields):
    screening = Screening.objects.get()
    payload = {"meaning": "eligibility confirmed", **fields}
    return client.post(f"/api/v1/screenings/{screening.pk}/sign/", payload, format="json")


def test_failed_signatures_lock_out_and_the_cool_off_releases(investigator, protection, clock):
    wrong = [sign(investigator, password="nope") for _ in range(3)]
    locked = sign(investigator, password=PASSWORD)
    clock(SIGNING_AT + timedelta(minutes=15, seconds=1))
    released = sign(investigator, password=PASSWORD)

    assert [response.status_code for response in wrong] == [400, 400, 400]
    assert wrong[0].json() == {"detail": WRONG_PASSWORD, "errors": {"password": [WRONG_PASSWORD]}}
    assert (locked.status_code, locked.json()) == (429, {"detail": LOCKED, "errors": {}})
    assert released.status_code == 200
    assert EligibilitySignature.objects.count() == 1


def test_failed_signatures_are_recorded_although_the_signing_is_rolled_back(investigator, protection):
    sign(investigator, password="nope")

    failure = AccessFailureLog.objects.get()
    screening = Screening.objects.get()
    assert (failure.username, failure.ip_address, failure.path_info) == (
        investigator.user.username,
        "127.0.0.1",
        f"/api/v1/screenings/{screening.pk}/sign/",
    )
    assert failure.attempt_time == SIGNING_AT


def test_a_spoofed_forwarded_for_does_not_escape_the_signing_lockout(investigator, protection):
    for n in range(3):
        investigator.credentials(HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        sign(investigator, password="nope")

    assert sign(investigator, password=PASSWORD).status_code == 429


def test_signing_needs_the_current_code_when_required(investigator, protection, settings, clock):
    settings.CTIT_REQUIRE_2FA = True
    device = enrol_totp(investigator.user)

    missing = sign(investigator, password=PASSWORD)
    wrong = sign(investigator, password=PASSWORD, otp_token=wrong_code(device))
    clock(SIGNING_AT + timedelta(seconds=30))
    right = sign(investigator, password=PASSWORD, otp_token=current_code(device))

    assert (missing.status_code, missing.json()) == (
        400,
        {"detail": CODE_MISSING, "errors": {"otp_token": [CODE_MISSING]}},
    )
    assert (wrong.status_code, wrong.json()) == (400, {"detail": CODE_WRONG, "errors": {"otp_token": [CODE_WRONG]}})
    assert right.status_code == 200
    assert EligibilitySignature.objects.count() == 1


def test_wrong_codes_count_towards_the_lockout(investigator, protection, settings, clock):
    settings.CTIT_REQUIRE_2FA = True
    device = enrol_totp(investigator.user)

    for step in range(3):
        clock(SIGNING_AT + timedelta(seconds=30 * step))
        sign(investigator, password=PASSWORD, otp_token=wrong_code(device))
    clock(SIGNING_AT + timedelta(minutes=2))
    locked = sign(investigator, password=PASSWORD, otp_token=current_code(device))

    assert locked.status_code == 429
    assert AccessFailureLog.objects.count() == 3


def test_a_signer_without_an_app_is_told_to_enrol_when_required(investigator, protection, settings):
    settings.CTIT_REQUIRE_2FA = True

    response = sign(investigator, password=PASSWORD, otp_token="123456")

    assert (response.status_code, response.json()) == (400, {"detail": NO_DEVICE, "errors": {"otp_token": [NO_DEVICE]}})


def test_without_the_requirement_an_enrolled_signer_still_gives_the_code(investigator, protection):
    enrol_totp(investigator.user)

    response = sign(investigator, password=PASSWORD)

    assert response.json()["errors"] == {"otp_token": [CODE_MISSING]}


def test_without_the_requirement_and_without_an_app_the_password_is_enough(investigator, protection):
    assert sign(investigator, password=PASSWORD).status_code == 200


def test_a_wrong_password_is_named_before_the_code(investigator, protection, settings):
    settings.CTIT_REQUIRE_2FA = True
    device = enrol_totp(investigator.user)

    response = sign(investigator, password="nope", otp_token=current_code(device))

    assert response.json()["errors"] == {"password": [WRONG_PASSWORD]}
