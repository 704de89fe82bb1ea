"""`manage.py seed --demo` builds a trial in mid-flight through the services, once: the state a new user sees."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from dosing.models import DoseLevel, Infusion, InfusionPlan, Reconfirmation, SrcDecision
from dosing.services.src import valid_signatures
from enrollment.models import ScreenFailure, Site, Subject
from safety import selectors as safety_selectors
from safety.models import AdverseEvent, DltAssessment, Notification, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed", "--demo", verbosity=0)


def _state() -> dict:
    """Row counts a second run must leave alone (history included)."""
    models = (Subject, Infusion, InfusionPlan, Reconfirmation, SrcDecision, AdverseEvent, Visit, Notification)
    counts = {model.__name__: model.objects.count() for model in models}
    counts |= {f"history {model.__name__}": model.history.count() for model in (Subject, DoseLevel, AdverseEvent)}
    return counts | {"emails": len(mail.outbox)}


def test_demo_trial_is_in_mid_flight(demo):
    now = timezone.now()
    site = Site.objects.get(code="BJ01")
    today = site.local_date(now)

    # level 1 complete with 3 subjects past their window; level 2 open with 2 dosed, 1 enrolled
    assert Counter(Subject.objects.filter(site=site).values_list("status", flat=True)) == {
        "completed": 3, "dosed": 2, "enrolled": 1, "screen_failed": 1
    }  # fmt: skip
    assert Counter(Infusion.objects.values_list("dose_level__level", flat=True)) == {1: 3, 2: 2}
    assert all(site.local_date(i.started_at) + timedelta(days=28) < today for i in Infusion.objects.filter(
        dose_level__level=1
    ))  # fmt: skip
    assert list(DoseLevel.objects.order_by("level").values_list("level", "status")) == [
        (1, "closed"), (2, "open"), (3, "not_open")
    ]  # fmt: skip
    assert Subject.objects.filter(site__code="DEMO2").count() == 1

    # the SRC decision escalating to level 2, effective with two valid signatures
    decision = SrcDecision.objects.get()
    assert (decision.decision, decision.dose_level, decision.status, decision.dose_path) == (
        "escalate", 2, "effective", "1GNN"
    )  # fmt: skip
    assert sorted(s.signer.username for s in valid_signatures(decision)) == ["src", "src2"]

    # level 2: one subject inside the window, one with a DLT candidate awaiting adjudication
    candidate = DltAssessment.objects.get(is_candidate=True)
    assert (candidate.adverse_event.subject.study_number, candidate.rule, candidate.adjudications.count()) == (
        "S-BJ01-005", "allergic_reaction", 0
    )  # fmt: skip

    # a subject between D−1 and D0: reconfirmed yesterday, infusion planned today
    plan = InfusionPlan.objects.get(status="scheduled")
    assert (plan.subject.study_number, plan.d_minus_1, site.local_date(plan.planned_at)) == (
        "S-BJ01-006", today - timedelta(days=1), today
    )  # fmt: skip
    reconfirmation = plan.reconfirmations.get()
    assert (site.local_date(reconfirmation.drawn_at), reconfirmation.platelets) == (today - timedelta(days=1), 74)

    # a screen failure
    assert ScreenFailure.objects.get().subject.study_number == "S-BJ01-007"

    # the SAE clock runs: aware 13 hours ago, not reported, due in 11 hours
    sae = AdverseEvent.objects.get(serious=True)
    clock = safety_selectors.sae_clock(sae, clocks=safety_selectors.safety_config().clocks, now=now)
    assert (clock.status.value, clock.reported_at) == ("due", None)
    assert timedelta(hours=10) < clock.deadline - now <= timedelta(hours=11)

    # reminder emails sent along the way (one per notification row), the 12-hour SAE alert among them
    assert Counter(Notification.objects.values_list("kind", "status")) == {
        ("visit_target_day", "sent"): 48,
        ("visit_window_open", "sent"): 16,
        ("d_minus_1_draw_tomorrow", "sent"): 12,
        ("d_minus_1_morning", "sent"): 12,
        ("dlt_candidate", "sent"): 3,
        ("sae_reminder", "sent"): 2,  # to the investigator and to sponsor safety
        ("src_decision_due", "sent"): 2,
    }
    assert len(mail.outbox) == 95
    assert sum("S-BJ01-005: SAE report to the sponsor due by" in message.subject for message in mail.outbox) == 2


def test_demo_twice_changes_nothing(demo, settings):
    before = _state()

    call_command("seed", "--demo", verbosity=0)

    assert _state() == before


@pytest.mark.parametrize("beijing_time", ["2026-12-04T06:00:00+08:00", "2026-12-04T23:30:00+08:00"])
def test_demo_state_holds_at_any_hour_of_the_site_day(settings, time_machine, beijing_time):
    settings.DEBUG = True
    time_machine.move_to(beijing_time, tick=True)

    call_command("seed", "--demo", verbosity=0)

    now = timezone.now()
    plan = InfusionPlan.objects.get(status="scheduled")
    assert (str(plan.d_minus_1), str(Site.objects.get(code="BJ01").local_date(plan.planned_at))) == (
        "2026-12-03", "2026-12-04"
    )  # fmt: skip
    assert DltAssessment.objects.filter(is_candidate=True, adjudications__isnull=True).count() == 1
    sae = AdverseEvent.objects.get(serious=True)
    assert now - timedelta(hours=14) < sae.awareness_at < now - timedelta(hours=12)
    assert Notification.objects.filter(kind="sae_reminder", status="sent").count() == 2
    assert len(mail.outbox) == 95
