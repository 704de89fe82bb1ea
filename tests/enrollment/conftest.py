"""Fixtures of the screening → eligibility → enrollment flow on the Appendix A dates (site BJ01, UTC+8)."""

from datetime import UTC, datetime

import pytest

from enrollment.roles import INVESTIGATOR, STUDY_COORDINATOR
from tests.enrollment.documents import APPENDIX_A
from tests.factories import make_consent, make_screening, make_subject

# Appendix A: consent 2026-03-02, screening 03-03, planned enrollment 03-05, infusion 03-10 09:00 Beijing.
REGISTERED_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
CONSENT_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
SCREENING_AT = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
SIGNING_AT = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
ENROLLING_AT = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)


@pytest.fixture
def coordinator(api_client_for, trial):
    return api_client_for(STUDY_COORDINATOR, trial)


@pytest.fixture
def investigator(api_client_for, trial):
    return api_client_for(INVESTIGATOR, trial)


@pytest.fixture
def subject(trial, clock):
    """A subject registered on 2026-03-01 (so that history rows follow the travelled clock)."""
    clock(REGISTERED_AT)
    return make_subject(site=trial)


@pytest.fixture
def consented(subject, clock):
    """The subject with informed consent signed on 2026-03-02 (Beijing); the clock is then at screening."""
    clock(CONSENT_AT)
    make_consent(subject=subject, signed_at=CONSENT_AT)
    clock(SCREENING_AT)
    return subject


@pytest.fixture
def screened(consented):
    """The subject's first screening, saved from the Appendix A document (eligible)."""
    make_screening(subject=consented, document=APPENDIX_A)
    return consented
