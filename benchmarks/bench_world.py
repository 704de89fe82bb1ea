"""The benchmark's synthetic trial, bulk-inserted (no audit history: this is not trial data).

`build(n)` migrates and seeds an empty database, creates 20 sites with staff, a monitor, an SRC decision and a
template screening recorded through the services, then `n` subjects; `grow(world, total)` adds subjects up to
`total`. Of every 33 subjects of a site, 29 are dosed (level 1–3, D0 spread over 240 days, 10 visits, 11 lab
results and 2 AEs, one subject in 25 with a DLT candidate awaiting adjudication), one is enrolled with an infusion
plan whose D−1 lies within a day of today, three are in screening; every subject has a consent and a copy of the
template screening.
"""

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from bench_reminders import _definitions, _sites_and_staff, _visit, _window

SITES, BATCH = 20, 1000


@dataclass
class World:
    sites: list
    template: dict
    ids: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    subjects: int = 0
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


def build(subjects: int) -> World:
    """Schema, seed, sites and staff, the template screening, then `subjects` subjects."""
    from django.core.management import call_command

    from enrollment.models import Subject

    call_command("migrate", verbosity=0)
    call_command("seed", verbosity=0)
    if Subject.objects.exists():
        sys.exit("The benchmark database already has subjects: give it an empty, throwaway database.")
    world = World(sites=_sites_and_staff(), template=_template())
    _open_levels()
    world.tokens = _tokens(world)
    grow(world, subjects)
    world.ids = _ids(world)
    return world


def grow(world: World, total: int) -> dict[str, int]:
    """Add subjects until there are `total`; returns the row counts."""
    from django.db import transaction

    from dosing.models import Infusion
    from enrollment.models import Subject
    from safety.models import AdverseEvent, LabResult, Visit

    for first in range(world.subjects, total, BATCH):
        with transaction.atomic():  # dosed slots, subjects and infusions commit together (dosing/migrations/0007)
            _batch(world, first, min(BATCH, total - first))
    world.subjects = total
    models = {"subjects": Subject, "visits": Visit, "lab_results": LabResult, "adverse_events": AdverseEvent}
    return {name: model.objects.count() for name, model in {**models, "infused": Infusion}.items()}


def kind_of(k: int) -> str:
    """Every site's subjects in runs of 33 by sequence: one enrolled, three in screening, 29 dosed (88 %)."""
    place = (k // SITES) % 33
    return "enrolled" if place == 0 else "screening" if place < 4 else "dosed"


def _batch(world: World, first: int, count: int) -> None:
    from enrollment.models import Subject

    numbers = range(first, first + count)
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                site=world.sites[k % SITES],
                sequence=k // SITES + 1,
                study_number=f"S-{world.sites[k % SITES].code}-{k // SITES + 1:05d}",
                status=kind_of(k),
                enrolled_at=None if kind_of(k) == "screening" else datetime(2025, 1, 1, tzinfo=UTC),
            )
            for k in numbers
        ]
    )
    _screenings(world, subjects)
    dosed = [(k, s) for k, s in zip(numbers, subjects, strict=True) if kind_of(k) == "dosed"]
    enrolled = [(k, s) for k, s in zip(numbers, subjects, strict=True) if kind_of(k) == "enrolled"]
    infusions = _infusions(world, dosed)
    _visits_and_labs(world, dosed, infusions)
    _adverse_events(world, dosed)
    _plans(world, enrolled)


def _copy(instance, **values):
    """An unsaved copy of a row with some values replaced."""
    fields = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if not f.primary_key}
    return type(instance)(**{**fields, **values})


def _template() -> dict:
    """A consent and a screening of a throwaway subject, recorded through the services, to copy for each subject."""
    from django.contrib.auth.models import User

    from enrollment import services
    from enrollment.models import Site
    from tests.enrollment.documents import APPENDIX_A

    actor = User.objects.create_superuser("bench-root", "root@example.org", None)
    site = Site.objects.create(code="TPL", name="Template site", time_zone="Asia/Shanghai")
    subject = services.subject_register(actor=actor, site=site)
    consent = services.consent_record(
        actor=actor, subject=subject, version="1.0", signed_at=datetime(2026, 3, 2, 2, tzinfo=UTC)
    )
    screening = services.screening_record(actor=actor, subject=subject, document=APPENDIX_A)
    evaluation = screening.evaluations.get()
    return {
        "actor": actor,
        "consent": consent,
        "screening": screening,
        "labs": list(screening.labs.all()),
        "serology": getattr(screening, "serology", None),
        "evaluation": evaluation,
        "verdicts": list(evaluation.verdicts.all()),
    }


def _screenings(world: World, subjects) -> None:
    from enrollment.models import (
        Consent,
        CriterionVerdict,
        EligibilityEvaluation,
        Screening,
        ScreeningLab,
        ScreeningSerology,
    )

    t = world.template
    consents = Consent.objects.bulk_create([_copy(t["consent"], subject_id=s.pk) for s in subjects])
    screenings = Screening.objects.bulk_create(
        [_copy(t["screening"], subject_id=s.pk, consent_id=c.pk) for s, c in zip(subjects, consents, strict=True)]
    )
    ScreeningLab.objects.bulk_create([_copy(lab, screening_id=s.pk) for s in screenings for lab in t["labs"]])
    if t["serology"] is not None:
        ScreeningSerology.objects.bulk_create([_copy(t["serology"], screening_id=s.pk) for s in screenings])
    evaluations = EligibilityEvaluation.objects.bulk_create(
        [_copy(t["evaluation"], screening_id=s.pk) for s in screenings]
    )
    CriterionVerdict.objects.bulk_create(
        [_copy(v, evaluation_id=e.pk) for e in evaluations for v in t["verdicts"]], batch_size=5000
    )


def _open_levels() -> None:
    from dosing.models import DoseLevel

    DoseLevel.objects.update(slot_ceiling=32000)  # the capacity trigger's ceiling, out of the benchmark's way
    DoseLevel.objects.filter(level=1).update(status=DoseLevel.Status.OPEN)


def _d0(world: World, k: int) -> datetime:
    return datetime.combine(world.today - timedelta(days=k % 240), time(1), tzinfo=UTC) + timedelta(minutes=k % 720)


def _infusions(world: World, dosed) -> list:
    from dosing.models import DoseLevel, DoseSlot, Infusion

    levels = {level.level: level for level in DoseLevel.objects.all()}
    slots = DoseSlot.objects.bulk_create(
        [DoseSlot(dose_level=levels[1 + k % 3], subject=s, status="dosed", claimed_at=_d0(world, k)) for k, s in dosed]
    )
    return Infusion.objects.bulk_create(
        [
            Infusion(
                subject=s,
                slot=slot,
                dose_level=slot.dose_level,
                product_lot="LOT-BENCH",
                product_viable_cells=slot.dose_level.viable_cells,
                viability_percent=Decimal("92.0"),
                volume_ml=Decimal("50.0"),
                started_at=_d0(world, k),
                ended_at=_d0(world, k) + timedelta(minutes=30),
                viable_cells_given=slot.dose_level.viable_cells,
                recorded_by=world.template["actor"],
                recorded_at=_d0(world, k) + timedelta(hours=1),
            )
            for (k, s), slot in zip(dosed, slots, strict=True)
        ]
    )


def _visits_and_labs(world: World, dosed, infusions) -> None:
    from safety.models import CtcaeTerm, LabResult, Visit
    from safety.rules import windows

    definitions = _definitions()
    term = CtcaeTerm.objects.get(code="platelet_count_decreased")
    visits, labs = [], []
    for (k, subject), infusion in zip(dosed, infusions, strict=True):
        d0 = infusion.started_at.date()
        for definition in definitions:
            placed = windows.schedule_visit(d0, _window(definition))
            visit = _visit(subject, definition, placed, done=placed.latest < world.today and k % 33 != 0)
            visit.platelets = Decimal(60 + k % 40) if visit.status == "done" else None
            visits.append(visit)
        labs += [_lab(world, subject, term, d0 + timedelta(days=day)) for day in range(11)]
    Visit.objects.bulk_create(visits, batch_size=5000)
    LabResult.objects.bulk_create(labs, batch_size=5000)


def _lab(world: World, subject, term, observed_on: date):
    from safety.models import LabResult

    value = Decimal("80.0")
    return LabResult(
        subject=subject,
        ctcae_term=term,
        observed_on=observed_on,
        value=value,
        unit="10^9/L",
        lln=Decimal("125"),
        uln=Decimal("350"),
        grading_unit="10^9/L",
        graded_value=value,
        graded_lln=Decimal("125"),
        graded_uln=Decimal("350"),
        baseline=Decimal("72"),
        baseline_source="screening",
        grade=1,
        grade_reason="bench",
        ctcae_version="5.0",
        action="none",
        recorded_by=world.template["actor"],
        recorded_at=datetime.now(UTC),
    )


def _adverse_events(world: World, dosed) -> None:
    from safety.models import AdverseEvent, DltAssessment

    now = datetime.now(UTC)
    rows = [
        AdverseEvent(
            subject=subject,
            verbatim_term="Nausea",
            other_term="Nausea",
            other_meddra_code="10028813",
            ctcae_version="5.0",
            grade=1 + n,
            onset_date=_d0(world, k).date() + timedelta(days=2 + n),
            relatedness="possibly",
            expectedness="expected",
            recorded_by=world.template["actor"],
            recorded_at=now,
        )
        for k, subject in dosed
        for n in range(2)
    ]
    events = AdverseEvent.objects.bulk_create(rows, batch_size=5000)
    candidates = [ae for ae in events[1::2] if ae.subject_id % 25 == 0]
    DltAssessment.objects.bulk_create(
        [
            DltAssessment(
                adverse_event=ae, is_candidate=True, rule="non_hematologic", flag_reason="bench", flagged_at=now
            )
            for ae in candidates
        ]
    )


def _plans(world: World, enrolled) -> None:
    from dosing.models import DoseLevel, DoseSlot, InfusionPlan

    level = DoseLevel.objects.get(level=1)
    claimed = datetime.combine(world.today, time(), tzinfo=UTC) - timedelta(days=10)
    slots = DoseSlot.objects.bulk_create(
        [DoseSlot(dose_level=level, subject=s, claimed_at=claimed) for _, s in enrolled]
    )
    plans = []
    for (k, subject), slot in zip(enrolled, slots, strict=True):
        d0 = world.today + timedelta(days=k % 3)
        planned_at = datetime.combine(d0, time(1), tzinfo=UTC)
        plans.append(InfusionPlan(slot=slot, subject=subject, planned_at=planned_at, d_minus_1=d0 - timedelta(1)))
    InfusionPlan.objects.bulk_create(plans)


def _tokens(world: World) -> dict[str, str]:
    """API tokens of the monitor (all sites) and of the investigator of site S00."""
    from django.contrib.auth.models import Group, User

    from ctit_trial.api.authentication import token_issue
    from enrollment.roles import MONITOR, ROLES

    monitor = User.objects.create_user("bench-monitor", "monitor@example.org", None)
    monitor.groups.add(Group.objects.get(name=ROLES[MONITOR].group_name))
    investigator = User.objects.get(username="investigator-S00-2")
    return {"monitor": token_issue(monitor).key, "investigator": token_issue(investigator).key}


def _ids(world: World) -> dict:
    """The records of site S00 that the detail reads are asked for (a dosed subject's, a planned subject)."""
    from dosing.models import InfusionPlan, SrcDecision
    from enrollment.models import Subject
    from safety.models import AdverseEvent, Visit

    site = world.sites[0]
    subject = Subject.objects.filter(site=site, status="dosed").order_by("pk").first()
    screening = subject.screenings.get()
    decision = SrcDecision.objects.create(
        protocol=_protocol(),
        meeting_date=world.today,
        data_cutoff=datetime.now(UTC),
        dose_path="1N",
        recommended_action="escalate",
        recommendation_reason="bench",
        decision="expand",
        dose_level=1,
        recorded_by=world.template["actor"],
        recorded_at=datetime.now(UTC),
    )
    return {
        "site": site.code,
        "subject": subject.pk,
        "planned_subject": InfusionPlan.objects.filter(subject__site=site).order_by("pk").first().subject_id,
        "adverse-events": AdverseEvent.objects.filter(subject=subject).order_by("pk").first().pk,
        "eligibility-evaluations": screening.evaluations.get().pk,
        "screenings": screening.pk,
        "src-decisions": decision.pk,
        "visits": Visit.objects.filter(subject=subject).order_by("pk").first().pk,
    }


def _protocol():
    from enrollment.selectors import protocol_current

    return protocol_current()
