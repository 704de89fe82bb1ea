"""An enrolled subject on the Appendix A dates (site BJ01, UTC+8), and the dosing-day requests of the API."""

from datetime import UTC, datetime, timedelta

import pytest

from ctit_trial import journey
from ctit_trial.audit import system_actor
from dosing import services as dosing_services
from enrollment import services as enrollment_services
from enrollment.roles import INVESTIGATOR
from tests.enrollment.conftest import CONSENT_AT, ENROLLING_AT, REGISTERED_AT, SCREENING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A
from tests.factories import PASSWORD, make_consent, make_screening, make_subject

PLANNED_AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 on 10 March in Beijing: D0 10 March, D−1 9 March
D_MINUS_1_DRAW = datetime(2026, 3, 9, 0, 30, tzinfo=UTC)  # 08:30 on 9 March in Beijing
D_MINUS_1_NOON = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
BASELINE_AT = datetime(2026, 3, 10, 0, 15, tzinfo=UTC)  # 08:15 on D0
D0_MORNING = datetime(2026, 3, 10, 0, 45, tzinfo=UTC)
ENDED_AT = PLANNED_AT + timedelta(minutes=40)
AFTER_DRAWS = ENDED_AT + timedelta(hours=5)


def vitals(at: datetime) -> dict:
    return {
        "measured_at": at.isoformat(),
        "temperature_c": "36.8",
        "heart_rate_bpm": 78,
        "systolic_mmhg": 122,
        "diastolic_mmhg": 76,
        "respiratory_rate": 16,
        "spo2_percent": 98,
    }


INFUSION = {
    "product_lot": "XJ-2603-014",
    "product_viable_cells": 100_000_000,
    "viability_percent": "91.5",
    "volume_ml": "50.0",
    "started_at": PLANNED_AT.isoformat(),
    "ended_at": ENDED_AT.isoformat(),
    "vitals_before": vitals(PLANNED_AT - timedelta(minutes=10)),
    "vitals_after": vitals(ENDED_AT + timedelta(minutes=5)),
}
ASSESSMENT = {
    "baseline_platelets": "68.0",
    "baseline_drawn_at": BASELINE_AT.isoformat(),
    "transfusion_since_screening_at": None,
    "thrombopoietic_since_screening_on": None,
    "surgery_since_screening_on": None,
}


def url(subject, action: str = "") -> str:
    return f"/api/v1/subjects/{subject.pk}/dosing/" + (f"{action}/" if action else "")


@pytest.fixture
def staff(api_client_for, trial):
    """An investigator of BJ01, as an API client (`staff.user` is the user)."""
    return api_client_for(INVESTIGATOR, trial)


@pytest.fixture
def enrolled(trial, clock, staff):
    """A subject enrolled on 5 March through the services (level 1 open); the clock stays there."""
    clock(REGISTERED_AT)
    subject = make_subject(site=trial)
    clock(CONSENT_AT)
    make_consent(subject=subject, signed_at=CONSENT_AT, actor=staff.user)
    clock(SCREENING_AT)
    screening = make_screening(subject=subject, document=APPENDIX_A, actor=staff.user)
    clock(SIGNING_AT)
    enrollment_services.eligibility_sign(actor=staff.user, screening=screening, password=PASSWORD)
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)
    journey.subject_enroll(actor=staff.user, subject=subject)
    return subject


@pytest.fixture
def scheduled(enrolled, staff):
    assert (
        staff.post(url(enrolled, "schedule"), {"planned_at": PLANNED_AT.isoformat()}, format="json").status_code == 201
    )
    return enrolled


@pytest.fixture
def cleared(scheduled, staff, clock):
    """Reconfirmed on D−1 (72×10⁹/L, no bleeding); the clock at noon on D−1."""
    clock(D_MINUS_1_NOON)
    body = {"drawn_at": D_MINUS_1_DRAW.isoformat(), "platelets": "72", "bleeding": False}
    assert staff.post(url(scheduled, "reconfirmation"), body, format="json").status_code == 201
    return scheduled


@pytest.fixture
def assessed(cleared, staff, clock):
    """D0 pre-infusion assessment recorded at 08:45 on D0 (baseline 68)."""
    clock(D0_MORNING)
    assert staff.post(url(cleared, "assessment"), ASSESSMENT, format="json").status_code == 201
    return cleared


@pytest.fixture
def infused(assessed, staff, clock):
    """Infused 09:00–09:40 on D0; the clock 5 hours after the end."""
    clock(AFTER_DRAWS)
    response = staff.post(url(assessed, "infusion"), INFUSION, format="json")
    assert response.status_code == 201, response.json()
    return assessed
