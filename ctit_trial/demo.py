"""The demo trial of `manage.py seed --demo`: a trial in mid-flight, built through the services the API uses.

The story is replayed with time travel from about 15 weeks before the real now, so that today is "now": level 1
complete (3 subjects, the first with a related grade 2 AE), an SRC decision escalating to level 2 signed by two
members, level 2 with a subject in its DLT window and one with a DLT candidate that is also a fresh SAE, a subject
between D−1 and D0, and a screen failure. The reminder sweeps and sends run synchronously along the way, so their
emails are already in the mail outbox (var/mail in development).
"""

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.db import transaction
from django.utils import timezone

from ctit_trial import journey
from ctit_trial.audit import system_actor
from dosing import services as dosing_services
from dosing.models import DoseSlot, SrcDecision
from enrollment import services as enrollment_services
from enrollment.models import Screening, Site, Subject
from safety import services as safety_services
from safety import tasks as safety_tasks
from safety.models import CtcaeTerm, Visit

SITE_CODE = "BJ01"
DRAW_TIMES = ((60, "10:45"), (120, "11:45"), (240, "13:45"))  # minutes after the 09:40 end, recorded 5 min later
VISIT_DAYS = {"D2": 2, "D3": 3, "D7": 7, "D14": 14, "D28": 28, "D30": 30}
FOLLOW_UP = {"D2": 80, "D3": 84, "D7": 92, "D14": 101, "D28": 108, "D30": 110}  # platelets ×10⁹/L at each visit


@dataclass(frozen=True)
class Person:
    """One demo subject: when they are dosed (days before today, site-local), who they are, how their story ends."""

    label: str
    d0: int
    sex: str
    born: str
    screen_fail: bool = False
    related_fever: bool = False
    sae_candidate: bool = False


# Dosing order. D0 offsets keep the protocol's spacing: A's 28-day window closes before B is enrolled, level 1 is
# evaluable before the SRC meets (day −26), D is the level 2 sentinel (observed 14 days before E), F's D0 is today.
PEOPLE = (
    Person("A", d0=-95, sex="F", born="1968-04-12", related_fever=True),
    Person("B", d0=-58, sex="M", born="1961-09-30"),
    Person("C", d0=-56, sex="F", born="1975-01-08"),
    Person("D", d0=-19, sex="M", born="1958-06-21"),
    Person("E", d0=-4, sex="F", born="1966-11-02", sae_candidate=True),
    Person("F", d0=0, sex="M", born="1972-03-17"),
    Person("G", d0=2, sex="F", born="1963-07-25", screen_fail=True),
)
SRC_MEETING_DAY = -26


def _screening_document(person: Person, d0: date) -> dict[str, Any]:
    """The PROTOCOL.md Appendix A document on this subject's dates (eligible unless the subject screen-fails)."""
    doc: dict[str, Any] = {
        "sex": person.sex,
        "date_of_birth": person.born,
        "consent_signed_on": str(d0 - timedelta(days=8)),
        "screening_date": str(d0 - timedelta(days=7)),
        "planned_enrollment_date": str(d0 - timedelta(days=5)),
        "planned_infusion_at": f"{d0}T09:00:00+08:00",
        "height_cm": 160 if person.sex == "F" else 172,
        "weight_kg": 55 if person.sex == "F" else 68,
        "malignancy_confirmed": True,
        "thrombocytopenia_due_to_anticancer_therapy": True,
        "active_bleeding": False,
        "last_platelet_transfusion_at": None,
        "ecog": 1,
        "life_expectancy_months": 6,
        "liver_cancer_or_metastasis": False,
        "labs": copy.deepcopy(_LABS),
        "serology": {**_SEROLOGY, "hbv_dna_date": str(d0 - timedelta(days=20))},
        "history": dict.fromkeys(_HISTORY_NO, False) | dict.fromkeys(_HISTORY_DATES),
    }
    if person.sex == "F":
        pregnancy = {"date": str(d0 - timedelta(days=9)), "result": "negative"}
        doc |= {"wocbp": True, "partner_wocbp": None, "contraception_agreed": True, "pregnancy_test": pregnancy}
    else:
        doc |= {"wocbp": None, "partner_wocbp": False, "contraception_agreed": None, "pregnancy_test": None}
    if person.screen_fail:  # IN2: the screening platelet count is above 100×10⁹/L
        doc["labs"]["platelets"]["value"] = 128
    return doc


_LABS = {
    "platelets": {"value": 72, "unit": "10^9/L"},
    "anc": {"value": 2.1, "unit": "10^9/L"},
    "hemoglobin": {"value": 98, "unit": "g/L"},
    "aptt": {"value": 33, "unit": "s", "uln": 37},
    "inr": {"value": 1.1, "unit": "ratio", "uln": 1.2},
    "total_bilirubin": {"value": 12, "unit": "umol/L", "uln": 21},
    "alt": {"value": 30, "unit": "U/L", "uln": 40},
    "ast": {"value": 28, "unit": "U/L", "uln": 40},
    "creatinine": {"value": 70, "unit": "umol/L", "uln": 84},
}
_SEROLOGY = {
    "hiv_ab": "negative",
    "tp_ab": "negative",
    "hcv_ab": "negative",
    "hcv_rna_above_uln": None,
    "hbsag": "negative",
    "hbv_history": False,
    "hbcab": "negative",
    "hbv_dna_iu_ml": None,
}
_HISTORY_NO = (
    *("platelet_transfusion_refractoriness", "severe_transfusion_allergy", "splenomegaly_or_hypersplenism"),
    *("other_cause_of_thrombocytopenia_or_bleeding_disorder", "severe_bleeding", "hemophilia_or_coagulation_disorder"),
    *("severe_cardiovascular_history", "major_surgery_planned", "active_infection_requiring_iv_antibiotics"),
    *("allergy_to_product", "similar_investigational_product_within_4_weeks", "in_other_interventional_trial"),
    *("hsct_with_acute_gvhd_requiring_treatment", "pregnant_or_lactating", "investigator_excludes"),
)
_HISTORY_DATES = (
    *("last_thrombopoietic_drug_on", "last_thromboembolism_on", "last_catheter_thrombosis_on"),
    *("last_cardiac_disease_on", "last_major_surgery_on", "last_anticoagulant_on"),
)


@dataclass
class Story:
    """The demo's actors, its site, today's site-local date and the real now; the events to play in time order."""

    site: Site
    now: datetime
    actors: dict[str, Any]
    password: str
    events: list[tuple[datetime, int, Any]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.site.local_date(self.now)

    def at(self, day: int, clock: str) -> datetime:
        """The UTC instant of a site-local wall-clock time, `day` days from today."""
        wall = datetime.combine(self.today + timedelta(days=day), time.fromisoformat(clock), tzinfo=self.site.zone)
        return wall.astimezone(UTC)

    def on(self, instant: datetime, act) -> None:
        if instant > self.now:
            raise ValueError(f"demo event at {instant} is after the real now {self.now}")
        self.events.append((instant, len(self.events), act))


def demo_trial_build(*, password: str) -> str:
    """Build the demo trial at BJ01 once (a site that already has subjects is left alone); returns a summary."""
    try:
        import time_machine  # a development dependency: only the demo travels in time
    except ImportError as missing:
        raise CommandError("The demo trial needs time-machine: pip install -e '.[dev]'.") from missing
    site = Site.objects.get(code=SITE_CODE)
    if site.subjects.exists():
        return f"demo trial already present at {SITE_CODE} ({site.subjects.count()} subjects): left as it is"
    users = get_user_model().objects
    names = ("admin", "coordinator", "investigator", "src", "src2")
    story = Story(site=site, now=timezone.now(), actors={n: users.get(username=n) for n in names}, password=password)
    _plan(story)
    story.events.sort(key=lambda event: event[:2])
    with transaction.atomic(), time_machine.travel(story.events[0][0], tick=False) as traveller:
        for instant, _order, act in story.events:
            traveller.move_to(instant, tick=False)
            act()
    return f"demo trial at {SITE_CODE}: {site.subjects.count()} subjects, {len(story.events)} events replayed"


def _plan(story: Story) -> None:
    """Every act of the story as (instant, act) events; reminder sweeps twice a day from the first one to today."""
    first_day = min(person.d0 for person in PEOPLE) - 10
    story.on(story.at(first_day, "09:00"), lambda: _open_level_1())
    for person in PEOPLE:
        _plan_subject(story, person)
    _plan_src_decision(story)
    for day in range(first_day, 1):
        for clock in ("08:05", "16:05"):
            instant = story.at(day, clock)
            if instant <= story.now:
                story.on(instant, lambda instant=instant: _sweep_and_send(instant))
    story.on(story.now, lambda: _sweep_and_send(story.now))


def _open_level_1() -> None:
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start (demo)")


def _sweep_and_send(now: datetime) -> None:
    """The beat's sweep, then each send task, run in this process (no worker needed for the demo's emails)."""
    for notification_id in safety_services.notifications_sweep(now=now):
        safety_tasks.notification_send(notification_id, at=now.isoformat())


def _plan_subject(story: Story, person: Person) -> None:
    """One subject's acts: screening, then (unless they screen-fail) enrollment, the dosing day and follow-up."""
    acts = SubjectActs(story, person)
    steps = [(-9, "09:30", acts.register), (-8, "10:05", acts.consent), (-7, "10:00", acts.screen)]
    if person.screen_fail:
        steps.append((-6, "11:00", acts.screen_fail))
    else:
        steps += [(-6, "10:00", acts.sign), (-5, "10:00", acts.enroll), (-5, "11:00", acts.schedule)]
        steps.append((-1, "10:00", acts.reconfirm))
    if not person.screen_fail and person.d0 < 0:  # the last subject stops between D−1 and D0
        steps += [(0, "08:45", acts.assess), (0, "09:50", acts.infuse)]
        steps += [(0, clock, lambda m=minutes: acts.draw(m)) for minutes, clock in DRAW_TIMES]
        steps += acts.follow_up()
    for offset, clock, act in steps:
        story.on(story.at(person.d0 + offset, clock), act)
    if person.sae_candidate:
        aware = story.now - timedelta(hours=13)
        story.on(aware + timedelta(minutes=30), lambda: acts.serious_allergic_reaction(aware))


class SubjectActs:
    """The service calls of one subject's journey, as the site staff make them (each one act of the story)."""

    def __init__(self, story: Story, person: Person) -> None:
        self.story, self.person = story, person
        self.d0 = story.today + timedelta(days=person.d0)
        self.coordinator, self.investigator = story.actors["coordinator"], story.actors["investigator"]
        self.subject_id: int | None = None
        self.screening_id: int | None = None

    @property
    def subject(self) -> Subject:
        return Subject.objects.select_related("site").get(pk=self.subject_id)

    def instant(self, offset: int, clock: str) -> datetime:
        return self.story.at(self.person.d0 + offset, clock)

    def register(self) -> None:
        self.subject_id = enrollment_services.subject_register(
            actor=self.story.actors["admin"], site=self.story.site
        ).pk

    def consent(self) -> None:
        signed_at = self.instant(-8, "10:00")
        enrollment_services.consent_record(
            actor=self.coordinator, subject=self.subject, version="1.0", signed_at=signed_at
        )

    def screen(self) -> None:
        document = _screening_document(self.person, self.d0)
        screening = enrollment_services.screening_record(
            actor=self.coordinator, subject=self.subject, document=document
        )
        self.screening_id = screening.pk

    def screen_fail(self) -> None:
        reason = "IN2 not met: screening platelet count 128×10⁹/L is above 100×10⁹/L"
        enrollment_services.subject_screen_fail(actor=self.investigator, subject=self.subject, reason=reason)

    def sign(self) -> None:
        screening = Screening.objects.get(pk=self.screening_id)
        enrollment_services.eligibility_sign(actor=self.investigator, screening=screening, password=self.story.password)

    def enroll(self) -> None:
        journey.subject_enroll(actor=self.investigator, subject=self.subject)

    def schedule(self) -> None:
        planned_at = self.instant(0, "16:00" if self.person.d0 == 0 else "09:00")
        dosing_services.infusion_schedule(actor=self.coordinator, subject=self.subject, planned_at=planned_at)

    def reconfirm(self) -> None:
        dosing_services.reconfirmation_record(
            actor=self.coordinator,
            subject=self.subject,
            drawn_at=self.instant(-1, "08:30"),
            platelets=Decimal(74),
            bleeding=False,
            bleeding_details="",
        )

    def assess(self) -> None:
        dosing_services.assessment_record(
            actor=self.coordinator,
            subject=self.subject,
            baseline_platelets=Decimal(68),
            baseline_drawn_at=self.instant(0, "08:15"),
            transfusion_since_screening_at=None,
            thrombopoietic_since_screening_on=None,
            surgery_since_screening_on=None,
        )

    def infuse(self) -> None:
        started, ended = self.instant(0, "09:00"), self.instant(0, "09:40")
        level = DoseSlot.objects.get(subject_id=self.subject_id, status=DoseSlot.Status.CLAIMED).dose_level
        journey.infusion_record(
            actor=self.investigator,
            subject=self.subject,
            **INFUSION_DEFAULTS,
            product_lot=f"XJ-{self.d0:%y%m}-{self.subject_id:03d}",
            product_viable_cells=level.viable_cells,
            started_at=started,
            ended_at=ended,
            vitals_before=_vitals(started - timedelta(minutes=10)),
            vitals_after=_vitals(ended + timedelta(minutes=5)),
        )

    def draw(self, minutes: int) -> None:
        drawn_at = self.instant(0, "09:40") + timedelta(minutes=minutes)
        platelets = Decimal({60: 70, 120: 74, 240: 79}[minutes])
        dosing_services.draw_record(
            actor=self.coordinator,
            subject=self.subject,
            minutes_after_end=minutes,
            drawn_at=drawn_at,
            platelets=platelets,
        )

    def follow_up(self) -> list[tuple[int, str, Any]]:
        """The visits whose target day is before today, the close-out after D30, subject A's fever on D1."""
        steps = [
            (day, "10:30", lambda code=code, day=day: self.visit(code, day))
            for code, day in VISIT_DAYS.items()
            if self.person.d0 + day < 0
        ]
        if len(steps) == len(VISIT_DAYS):
            steps.append((30, "11:00", self.close_out))
        if self.person.related_fever:
            steps.append((2, "10:45", self.related_fever))
        return steps

    def visit(self, code: str, day: int) -> None:
        safety_services.visit_record(
            actor=self.coordinator,
            visit=Visit.objects.get(subject_id=self.subject_id, definition__code=code),
            visit_date=self.d0 + timedelta(days=day),
            platelets=None if code == "D30" else Decimal(FOLLOW_UP[code]),
            ae_review_done=True,
        )

    def close_out(self) -> None:
        safety_services.subject_close_out(actor=self.coordinator, subject=self.subject)

    def related_fever(self) -> None:
        """Subject A's related grade 2 fever on D1: the titration trigger that makes level 1 a 3+3 cohort."""
        safety_services.ae_record(
            actor=self.investigator,
            subject=self.subject,
            verbatim_term="Fever 39.3 °C the evening after the infusion",
            ctcae_term=CtcaeTerm.objects.get(code="fever"),
            grade=2,
            onset_date=self.d0 + timedelta(days=1),
            end_date=self.d0 + timedelta(days=2),
            ongoing=False,
            relatedness="possibly",
            expectedness="expected",
            fever_resolved_within_hours=20,
        )

    def serious_allergic_reaction(self, aware: datetime) -> None:
        """Subject E's grade 3 allergic reaction: a DLT candidate for the SRC and an SAE whose 24-hour clock runs."""
        safety_services.ae_record(
            actor=self.investigator,
            subject=self.subject,
            verbatim_term="Bronchospasm and urticaria, admitted for IV treatment",
            ctcae_term=CtcaeTerm.objects.get(code="allergic_reaction"),
            grade=3,
            onset_date=self.story.site.local_date(aware),
            ongoing=True,
            serious=True,
            sae_hospitalization=True,
            awareness_at=aware,
            relatedness="probably",
            expectedness="expected",
            action_taken="none",
            treatment="IV methylprednisolone and antihistamine",
        )


INFUSION_DEFAULTS = {
    "viability_percent": Decimal("91.5"),
    "volume_ml": Decimal("50.0"),
    "fraction_given_percent": Decimal(100),
    "interrupted": False,
    **dict.fromkeys(("interruption_reason", "early_stop", "early_stop_reason", "dose_deviation_reason"), ""),
    "timing_deviation_reason": "",
}


def _vitals(at: datetime) -> dict[str, Any]:
    return {
        "measured_at": at,
        "temperature_c": Decimal("36.8"),
        "heart_rate_bpm": 78,
        "systolic_mmhg": 122,
        "diastolic_mmhg": 76,
        "respiratory_rate": 16,
        "spo2_percent": 98,
    }


def _plan_src_decision(story: Story) -> None:
    """Level 1 evaluable (1G + 2N): the SRC records the escalation to level 2 and two members sign it."""
    src, src2 = story.actors["src"], story.actors["src2"]
    day = SRC_MEETING_DAY

    def record():
        dosing_services.src_decision_record(
            actor=src,
            meeting_date=story.today + timedelta(days=day),
            data_cutoff=story.at(day, "09:00"),
            members=[src, src2],
            decision=SrcDecision.Kind.ESCALATE,
            dose_level=2,
            rationale="",
        )

    def sign(member):
        decision = SrcDecision.objects.get(status=SrcDecision.Status.AWAITING_SIGNATURES)
        dosing_services.src_decision_sign(actor=member, decision=decision, password=story.password)

    story.on(story.at(day, "11:00"), record)
    story.on(story.at(day, "11:30"), lambda: sign(src))
    story.on(story.at(day, "15:00"), lambda: sign(src2))
