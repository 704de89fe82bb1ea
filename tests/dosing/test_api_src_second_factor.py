"""SRC members sign decisions with their one-time code when 2FA is required."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from ctit_trial.audit import system_actor
from ctit_trial.security.second_factor import CODE_MISSING
from dosing import services
from dosing.models import SrcSignature
from enrollment.roles import SRC_MEMBER
from tests.dosing.test_api_src import DECISION
from tests.factories import PASSWORD, make_infusion, make_subject
from tests.second_factor import current_code, enrol_totp

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def test_an_src_signature_needs_the_code(settings, clock, site_a, api_client_for):
    settings.CTIT_REQUIRE_2FA = True
    clock(NOW)
    call_command("seed", verbosity=0)
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))
    src = {name: api_client_for(SRC_MEMBER, site_a, username=name) for name in ("src-a", "src-b")}
    device = enrol_totp(src["src-a"].user)
    decision_id = src["src-a"].post("/api/v1/src-decisions/", DECISION, format="json").json()["id"]
    url = f"/api/v1/src-decisions/{decision_id}/sign/"

    missing = src["src-a"].post(url, {"password": PASSWORD}, format="json")
    right = src["src-a"].post(url, {"password": PASSWORD, "otp_token": current_code(device)}, format="json")

    assert (missing.status_code, missing.json()["errors"]) == (400, {"otp_token": [CODE_MISSING]})
    assert right.status_code == 200
    assert list(SrcSignature.objects.values_list("signer__username", flat=True)) == ["src-a"]
