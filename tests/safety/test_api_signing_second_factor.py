"""DLT adjudication and SAE report signatures take the signer's one-time code when 2FA is required."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from ctit_trial.security.second_factor import CODE_MISSING, CODE_WRONG
from enrollment.roles import INVESTIGATOR, SRC_MEMBER
from safety import selectors
from safety.models import DltAssessment, SaeReport
from tests.factories import PASSWORD, make_infusion, make_subject
from tests.safety.test_api_adverse_events import NAUSEA, SAE
from tests.second_factor import current_code, enrol_totp, wrong_code

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def required(settings, clock):
    settings.CTIT_REQUIRE_2FA = True
    settings.AXES_ENABLED = True
    clock(NOW)


@pytest.fixture
def subject(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


def create_ae(client, subject, payload) -> int:
    response = client.post("/api/v1/adverse-events/", {"subject": subject.pk, **payload}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def refusal(message: str) -> dict:
    return {"detail": message, "errors": {"otp_token": [message]}}


def test_dlt_adjudication_needs_the_code(subject, api_client_for, site_a, clock):
    ae_id = create_ae(api_client_for(INVESTIGATOR, site_a), subject, NAUSEA)
    src = api_client_for(SRC_MEMBER, site_a)
    device = enrol_totp(src.user)
    url = f"/api/v1/adverse-events/{ae_id}/adjudicate/"
    payload = {"decision": "confirm", "reason": "Grade 3 nausea, related", "password": PASSWORD}

    missing = src.post(url, payload, format="json")
    wrong = src.post(url, {**payload, "otp_token": wrong_code(device)}, format="json")
    clock(NOW + timedelta(seconds=30))
    right = src.post(url, {**payload, "otp_token": current_code(device)}, format="json")

    assert (missing.status_code, missing.json()) == (400, refusal(CODE_MISSING))
    assert (wrong.status_code, wrong.json()) == (400, refusal(CODE_WRONG))
    assert right.status_code == 200
    assert selectors.current_adjudication(DltAssessment.objects.get()).decision == "confirm"


def test_the_sae_report_needs_the_code(subject, api_client_for, site_a, clock):
    investigator = api_client_for(INVESTIGATOR, site_a)
    device = enrol_totp(investigator.user)
    url = f"/api/v1/adverse-events/{create_ae(investigator, subject, SAE)}/sae-report/"
    payload = {"reported_at": "2026-06-09T20:00:00+08:00", "password": PASSWORD}

    missing = investigator.post(url, payload, format="json")
    right = investigator.post(url, {**payload, "otp_token": current_code(device)}, format="json")

    assert (missing.status_code, missing.json()) == (400, refusal(CODE_MISSING))
    assert right.status_code == 200
    assert SaeReport.objects.count() == 1
