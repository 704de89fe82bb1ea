"""The SAE clock (report to the sponsor within 24 h of awareness), its signed report, and SUSAR clocks."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from ctit_trial.signatures import WRONG_PASSWORD
from enrollment.roles import STUDY_COORDINATOR
from safety import selectors, services
from safety.models import AdverseEvent, SaeReport
from safety.rules.sae import ReportStatus
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_site_member, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai
AWARE_AT = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)  # 10:00 on 5 June in Shanghai


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(AWARE_AT + timedelta(hours=1), tick=False)
    return lambda instant: time_machine.move_to(instant, tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def investigator(dosed):
    return make_site_member(site=dosed.site)


@pytest.fixture
def sae(dosed, investigator):
    return make_adverse_event(
        subject=dosed,
        actor=investigator,
        term="thromboembolic_event",
        onset_date=date(2026, 6, 4),
        grade=4,
        serious=True,
        sae_life_threatening=True,
        sae_hospitalization=True,
        awareness_at=AWARE_AT,
        relatedness="possibly",
        expectedness="unexpected",
    )


def status_at(ae, instant) -> ReportStatus:
    clocks = selectors.safety_config().clocks
    return selectors.sae_clock(AdverseEvent.objects.get(pk=ae.pk), clocks=clocks, now=instant).status


def test_the_deadline_is_24_hours_after_awareness(sae):
    clock = selectors.sae_clock(sae, clocks=selectors.safety_config().clocks, now=AWARE_AT)

    assert clock.deadline == datetime(2026, 6, 6, 2, 0, tzinfo=UTC)
    assert status_at(sae, AWARE_AT + timedelta(hours=23, minutes=59)) == ReportStatus.DUE
    assert status_at(sae, AWARE_AT + timedelta(hours=24, minutes=1)) == ReportStatus.OVERDUE


def test_a_signed_report_stops_the_clock(sae, investigator, clock):
    clock(AWARE_AT + timedelta(hours=20))

    report = services.sae_report_record(
        actor=investigator, ae=sae, reported_at=AWARE_AT + timedelta(hours=19, minutes=30), password=PASSWORD
    )

    assert (report.printed_name, report.meaning, report.signed_at) == (
        "Test Investigator",
        "reported to sponsor",
        AWARE_AT + timedelta(hours=20),
    )
    assert status_at(sae, AWARE_AT + timedelta(days=3)) == ReportStatus.ON_TIME
    refreshed = AdverseEvent.objects.get(pk=sae.pk)
    assert selectors.sae_report_valid(refreshed) is True
    assert refreshed.sponsor_aware_on == date(2026, 6, 6)  # 21:30 UTC on 5 June is 05:30 on 6 June in Shanghai


def test_a_report_after_the_deadline_is_late(sae, investigator, clock):
    clock(AWARE_AT + timedelta(hours=30))

    services.sae_report_record(
        actor=investigator, ae=sae, reported_at=AWARE_AT + timedelta(hours=25), password=PASSWORD
    )

    assert status_at(sae, AWARE_AT + timedelta(hours=30)) == ReportStatus.REPORTED_LATE


def test_a_change_to_the_reported_sae_invalidates_the_signature(sae, investigator):
    services.sae_report_record(actor=investigator, ae=sae, reported_at=AWARE_AT, password=PASSWORD)

    services.ae_update(actor=investigator, ae=sae, reason="Follow-up: recovered", outcome="recovering")

    assert selectors.sae_report_valid(AdverseEvent.objects.get(pk=sae.pk)) is False


def test_wrong_password_reports_nothing(sae, investigator):
    with pytest.raises(InvalidInput) as refused:
        services.sae_report_record(actor=investigator, ae=sae, reported_at=AWARE_AT, password="guess")

    assert refused.value.errors == {"password": [WRONG_PASSWORD]}
    assert SaeReport.objects.count() == 0


def test_only_investigators_report_and_only_once(sae, investigator, dosed):
    coordinator = make_site_member(site=dosed.site, role_key=STUDY_COORDINATOR)

    with pytest.raises(PermissionDenied, match="Only investigators sign SAE reports to the sponsor."):
        services.sae_report_record(actor=coordinator, ae=sae, reported_at=AWARE_AT, password=PASSWORD)
    services.sae_report_record(actor=investigator, ae=sae, reported_at=AWARE_AT, password=PASSWORD)
    with pytest.raises(
        Conflict, match=re.escape("already reported to the sponsor at 2026-06-05 10:00 (Asia/Shanghai, UTC+08:00).")
    ):
        services.sae_report_record(actor=investigator, ae=sae, reported_at=AWARE_AT, password=PASSWORD)


@pytest.mark.parametrize(
    ("reported_at", "message"),
    [
        (
            AWARE_AT - timedelta(minutes=1),
            "The report cannot precede awareness of the SAE, at 2026-06-05 10:00 (Asia/Shanghai, UTC+08:00).",
        ),
        (AWARE_AT + timedelta(hours=2), "The report time cannot be in the future."),
    ],
)
def test_report_time_is_checked(sae, investigator, reported_at, message):
    with pytest.raises(InvalidInput) as refused:
        services.sae_report_record(actor=investigator, ae=sae, reported_at=reported_at, password=PASSWORD)

    assert refused.value.errors == {"reported_at": [message]}


def test_a_non_serious_ae_has_no_clock_and_no_report(dosed, investigator):
    ae = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 4))

    assert selectors.sae_clock(ae, clocks=selectors.safety_config().clocks, now=AWARE_AT) is None
    with pytest.raises(Conflict, match="is not serious: no SAE report is due."):
        services.sae_report_record(actor=investigator, ae=ae, reported_at=AWARE_AT, password=PASSWORD)


def test_susar_clocks_run_from_the_sponsors_awareness(sae, investigator):
    clocks = selectors.safety_config().clocks
    services.sae_report_record(actor=investigator, ae=sae, reported_at=AWARE_AT, password=PASSWORD)
    fatal = selectors.susar_clock(AdverseEvent.objects.get(pk=sae.pk), clocks=clocks, now=AWARE_AT)
    other = services.ae_update(
        actor=investigator, ae=sae, reason="Not life-threatening on review", sae_life_threatening=False
    )
    not_fatal = selectors.susar_clock(other, clocks=clocks, now=datetime(2026, 6, 21, 2, 0, tzinfo=UTC))

    assert (fatal.sponsor_aware_on, fatal.initial_report_due, fatal.completion_due) == (
        date(2026, 6, 5),
        date(2026, 6, 12),
        date(2026, 6, 20),
    )
    assert fatal.status == ReportStatus.DUE
    assert (not_fatal.initial_report_due, not_fatal.completion_due, not_fatal.status) == (
        date(2026, 6, 20),
        None,
        ReportStatus.OVERDUE,
    )
