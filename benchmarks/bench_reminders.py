"""Time one reminder sweep over 10,000 subjects' schedules (about 100,000 visits) and count its SQL queries.

Run from the repository root against a throwaway database (the script creates the schema and fills it):

    createdb -h 127.0.0.1 -U postgres ctit_bench
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctit_bench .venv/bin/python benchmarks/bench_reminders.py
    dropdb -h 127.0.0.1 -U postgres ctit_bench

Without BENCH_DATABASE_URL it uses a new SQLite file in a temporary folder (never the development database).
The data: 20 sites (Shanghai and Berlin time), 3 staff each; 10,000 dosed subjects with 10 visits each (the seeded
D0…D30 schedule and three long-term visits added here), D0 spread over 240 days so that past visits are recorded
(3% left unrecorded), 300 enrolled subjects with an infusion plan whose D−1 is within a few days, 50 unreported
SAEs and 20 DLT candidates. Rows are bulk-inserted (no audit history: this is not trial data). It prints the wall
time, the number of queries and the rows written by a first sweep, then by a second one (nothing new is due).
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

UNUSABLE = "!"  # an unusable password hash: benchmark users cannot log in
SITES, STAFF_ROLES, VISITS_EXTRA = 20, ("study_coordinator", "study_coordinator", "investigator"), (60, 90, 180)


def configure(database_url: str | None) -> None:
    """Point Django at the benchmark database before it loads its settings."""
    if database_url is None:
        database_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='ctit-bench-')) / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = "memory://"  # send tasks stay in this process: never a real worker's queue
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctit_trial.settings")
    import django

    django.setup()


def build(subjects: int, *, today: date) -> dict[str, int]:
    """Schema, protocol seed and the synthetic trial; returns what was created."""
    from django.core.management import call_command

    from enrollment.models import Subject

    call_command("migrate", verbosity=0)
    call_command("seed", verbosity=0)
    if Subject.objects.exists():
        sys.exit("The benchmark database already has subjects: give it an empty, throwaway database.")
    sites = _sites_and_staff()
    dosed = _subjects(sites, subjects, status="dosed", first=0)
    enrolled = _subjects(sites, 300, status="enrolled", first=subjects)
    visits = _visits(dosed, today=today)
    plans = _plans(enrolled, today=today)
    events = _adverse_events(dosed[:70], today=today)
    return {"subjects": len(dosed) + len(enrolled), "visits": visits, "plans": plans, **events}


def _sites_and_staff():
    from django.contrib.auth.models import Group, User

    from enrollment.models import Site, SiteMembership
    from enrollment.roles import ROLES

    zones = ("Asia/Shanghai", "Europe/Berlin")
    sites = Site.objects.bulk_create(
        [Site(code=f"S{n:02d}", name=f"Site {n}", time_zone=zones[n % 2]) for n in range(SITES)]
    )
    users = User.objects.bulk_create(
        [
            User(
                username=f"{role}-{site.code}-{k}",
                email=f"{role}.{k}@{site.code.lower()}.example.org",
                password=UNUSABLE,
            )
            for site in sites
            for k, role in enumerate(STAFF_ROLES)
        ]
    )
    groups = {role: Group.objects.get(name=ROLES[role].group_name) for role in set(STAFF_ROLES)}
    through = User.groups.through
    through.objects.bulk_create([through(user=user, group=groups[STAFF_ROLES[i % 3]]) for i, user in enumerate(users)])
    SiteMembership.objects.bulk_create([SiteMembership(user=user, site=sites[i // 3]) for i, user in enumerate(users)])
    return sites


def _subjects(sites, count: int, *, status: str, first: int):
    from enrollment.models import Subject

    enrolled_at = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        Subject(
            site=sites[n % SITES],
            sequence=n // SITES + 1,
            study_number=f"S-{sites[n % SITES].code}-{n // SITES + 1:05d}",
            status=status,
            enrolled_at=enrolled_at,
        )
        for n in range(first, first + count)
    ]
    return Subject.objects.bulk_create(rows, batch_size=2000)


def _definitions():
    from enrollment.selectors import protocol_current
    from safety.models import VisitDefinition

    protocol = protocol_current()
    for day in VISITS_EXTRA:  # long-term follow-up visits, for ten visits per subject
        VisitDefinition.objects.get_or_create(
            protocol=protocol,
            code=f"D{day}",
            defaults={"label": f"Day {day}", "target_day": day, "window_before": 3, "window_after": 3},
        )
    return list(VisitDefinition.objects.filter(protocol=protocol, target_day__gte=0).order_by("target_day"))


def _visits(subjects, *, today: date) -> int:
    from safety.models import Visit
    from safety.rules import windows

    definitions, created = _definitions(), 0
    for start in range(0, len(subjects), 1000):
        rows = []
        for n, subject in enumerate(subjects[start : start + 1000], start=start):
            d0 = today - timedelta(days=n % 240)
            for definition in definitions:
                placed = windows.schedule_visit(d0, _window(definition))
                done = placed.latest < today and n % 33 != 0  # about 3% of past visits left unrecorded
                rows.append(_visit(subject, definition, placed, done))
        created += len(Visit.objects.bulk_create(rows, batch_size=5000))
    return created


def _window(definition):
    from safety.rules import windows

    fields = ("code", "label", "target_day", "window_before", "window_after")
    return windows.VisitDefinition(**{name: getattr(definition, name) for name in fields})


def _visit(subject, definition, placed, done: bool):
    from safety.models import Visit

    return Visit(
        subject=subject,
        definition=definition,
        target_date=placed.target_date,
        window_earliest=placed.earliest,
        window_latest=placed.latest,
        status="done" if done else "planned",
        visit_date=placed.target_date if done else None,
    )


def _plans(subjects, *, today: date) -> int:
    from dosing.models import DoseLevel, DoseSlot, InfusionPlan

    level = DoseLevel.objects.get(level=1)
    claimed = datetime.combine(today, datetime.min.time(), tzinfo=UTC) - timedelta(days=10)
    slots = DoseSlot.objects.bulk_create([DoseSlot(dose_level=level, subject=s, claimed_at=claimed) for s in subjects])
    plans = []
    for n, slot in enumerate(slots):
        d0 = today + timedelta(days=n % 6 - 1)
        planned_at = datetime.combine(d0, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
        plans.append(InfusionPlan(slot=slot, subject=slot.subject, planned_at=planned_at, d_minus_1=d0 - timedelta(1)))
    return len(InfusionPlan.objects.bulk_create(plans))


def _adverse_events(subjects, *, today: date) -> dict[str, int]:
    from django.contrib.auth.models import User

    from safety.models import AdverseEvent, DltAssessment

    recorder, now = User.objects.order_by("pk").first(), datetime.now(UTC)
    events = AdverseEvent.objects.bulk_create(
        [
            AdverseEvent(
                subject=subject,
                verbatim_term="Nausea",
                other_term="Nausea",
                other_meddra_code="10028813",
                ctcae_version="5.0",
                grade=3,
                onset_date=today - timedelta(days=1),
                serious=n < 50,
                sae_hospitalization=n < 50,
                awareness_at=now - timedelta(hours=n % 30) if n < 50 else None,
                relatedness="possibly",
                expectedness="expected",
                recorded_by=recorder,
                recorded_at=now,
            )
            for n, subject in enumerate(subjects)
        ]
    )
    candidates = [
        DltAssessment(adverse_event=ae, is_candidate=True, rule="non_hematologic", flag_reason="bench", flagged_at=now)
        for ae in events[50:]
    ]
    DltAssessment.objects.bulk_create(candidates)
    return {"saes": 50, "dlt_candidates": len(candidates)}


def timed_sweep(now: datetime) -> tuple[float, float, int, int]:
    """One sweep: seconds in all, seconds handing tasks to the broker after commit, queries, rows written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safety import services
    from safety.services import notifications

    handing, enqueue = [], notifications.enqueue_sends

    def timed_enqueue(ids, *, at):
        started = time.perf_counter()
        enqueue(ids, at=at)
        handing.append(time.perf_counter() - started)

    notifications.enqueue_sends = timed_enqueue
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        written = services.notifications_sweep(now=now)
        seconds = time.perf_counter() - started
    notifications.enqueue_sends = enqueue
    return seconds, sum(handing), len(queries), len(written)


def main() -> None:
    """Build the data set, then time two sweeps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    arguments = parser.parse_args()
    configure(os.environ.get("BENCH_DATABASE_URL"))
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    sizes = build(arguments.subjects, today=now.date())
    print(f"set-up ({connection.vendor}): {sizes} in {time.perf_counter() - started:.1f} s")
    for label in ("first sweep", "second sweep"):
        seconds, handing, queries, written = timed_sweep(now)
        print(
            f"{label:>12}: {seconds:.2f} s ({handing:.2f} s of it handing the send tasks to the broker), "
            f"{queries} queries, {written} notifications written"
        )
        if os.environ.get("BENCH_SHOW_QUERIES"):
            print("\n".join(query["sql"][:160] for query in connection.queries[-queries:]))


if __name__ == "__main__":
    main()
