"""One subject's whole journey in a real browser, from registration to close-out after D30, as the Beijing site's
staff and two SRC members do it in the admin alone: every date-time typed in Beijing time, each e-signature with
the password (and one-time code) re-entered, a wrong password refused on its field. The clock moves forward with
time-machine (it ticks); screenshots at 1280 px go to var/screenshots/journey-*.png."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.core.management import call_command

from ctit_trial.audit import system_actor
from ctit_trial.demo import FOLLOW_UP, VISIT_DAYS, Person, _screening_document
from ctit_trial.signatures import WRONG_PASSWORD
from dosing import services as dosing_services
from dosing.models import DoseLevel, Infusion, InfusionPlan, PostInfusionDraw, SrcDecision
from enrollment.admin_acts import document_fields, initial_from_document
from enrollment.models import Subject
from enrollment.roles import INVESTIGATOR, SRC_MEMBER, STUDY_COORDINATOR
from safety.models import AdverseEvent, CtcaeTerm, DltAdjudication, SaeReport, Visit
from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD
from tests.second_factor import current_code

pytestmark = pytest.mark.postgres
BEIJING = ZoneInfo("Asia/Shanghai")
ZONE = "Asia/Shanghai, UTC+08:00"
PERSON = Person("J", d0=0, sex="M", born="1972-03-17")


class Journey:
    """The story's calendar (D0 is a month from today, Beijing) and the browser acts of its staff."""

    def __init__(self, page, time_machine, users):
        self.page, self.time_machine, self.users = page, time_machine, users
        self.d0 = datetime.now(BEIJING).date() + timedelta(days=30)

    def day(self, offset: int) -> date:
        return self.d0 + timedelta(days=offset)

    def at(self, offset: int, clock: str) -> datetime:
        return datetime.combine(self.day(offset), time.fromisoformat(clock), tzinfo=BEIJING)

    def as_(self, role: str, offset: int, clock: str):
        """Move the clock to that Beijing day and time and log in again as the role (a new working day)."""
        self.time_machine.move_to(self.at(offset, clock), tick=True)
        self.page.context.clear_cookies()
        login(self.page, self.users[role])
        if "/login/" in self.page.url:
            screenshot(self.page, f"dbg-login-{role}-{offset}")
            raise AssertionError(self.page.inner_text("#content"))
        return self.page

    def fill_local(self, name: str, instant_or_day, clock: str | None = None) -> None:
        """A split date/time widget, typed as a Beijing coordinator would."""
        self.page.fill(f"#id_{name}_0", str(instant_or_day))
        self.page.fill(f"#id_{name}_1", clock)

    def sign(self, role: str, password: str = PASSWORD) -> None:
        """Re-enter the password and the app's next code (the one of the login is spent: codes are single-use)."""
        self.time_machine.shift(timedelta(seconds=31))
        self.page.fill("#id_password", password)
        self.page.fill("#id_otp_token", current_code(self.users[role].totp_device))

    def submit(self, button: str = "#content-main input[type=submit]") -> None:
        with self.page.expect_navigation():
            self.page.click(button)

    def save(self) -> None:
        self.submit("input[name=_save]")

    def act(self, label: str) -> None:
        """Press an act's button on the record's page."""
        with self.page.expect_navigation():
            self.page.locator(".object-tools").get_by_role("link", name=label, exact=True).click()

    def message(self) -> str:
        return self.page.inner_text("ul.messagelist")

    def from_todays_work(self, starts: str) -> str:
        """Open the admin index and follow the line of today's work that starts so; return the line's text."""
        self.page.goto("/admin/")
        line = self.page.locator("#todays-work .work-line a").filter(has_text=starts)
        text = line.inner_text()
        assert text.startswith(starts), text
        with self.page.expect_navigation():
            line.click()
        return text


@pytest.fixture
def journey(page, time_machine, staff_user, live_server, roles, site_a):
    call_command("seed", verbosity=0)
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    users = {
        "coordinator": staff_user(STUDY_COORDINATOR, username="coord-bj"),
        "investigator": staff_user(INVESTIGATOR, username="inv-bj"),
        "src-1": staff_user(SRC_MEMBER, username="src-1"),
        "src-2": staff_user(SRC_MEMBER, username="src-2"),
    }
    return Journey(page, time_machine, users)


def screening_fields(document: dict) -> dict[str, str]:
    """The Appendix A form's inputs for a document: booleans as the select's values, instants in Beijing time."""
    fields, values = document_fields(), {}
    for name, value in initial_from_document(document).items():
        if name not in fields:
            continue
        if isinstance(fields[name], forms.SplitDateTimeField):
            local = value.astimezone(BEIJING) if value else None
            values[f"{name}_0"], values[f"{name}_1"] = (f"{local:%Y-%m-%d}", f"{local:%H:%M}") if local else ("", "")
        elif isinstance(fields[name], forms.NullBooleanField):
            values[name] = {True: "true", False: "false", None: "unknown"}[value]
        else:
            values[name] = "" if value is None else str(value)
    return values


def register_and_consent(j: Journey) -> Subject:
    page = j.as_("coordinator", -8, "09:40")
    page.goto("/admin/enrollment/subject/add/")
    page.select_option("#id_site", label="BJ01 — Beijing")
    j.save()
    subject = Subject.objects.get()
    page.goto(f"/admin/enrollment/subject/{subject.pk}/change/")
    j.act("Record consent")
    page.fill("#id_version", "1.0")
    j.fill_local("signed_at", j.day(-8), "09:30")
    j.submit()
    assert j.message() == f"{subject}: consent version 1.0 recorded."
    assert subject.consents.get().signed_at == datetime.combine(j.day(-8), time(1, 30), tzinfo=UTC)
    return subject


def screen_and_sign(j: Journey, subject: Subject) -> None:
    page = j.as_("coordinator", -7, "10:00")
    page.goto(f"/admin/enrollment/subject/{subject.pk}/change/")
    j.act("Screening document (Appendix A)")
    for name, value in screening_fields(_screening_document(PERSON, j.d0)).items():
        selector = f"#id_{name}"
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    j.submit()
    assert j.message() == f"{subject}: screening #1 saved and evaluated."
    screenshot(page, "journey-1-screened")

    page = j.as_("investigator", -6, "11:00")
    screening = subject.screenings.get()
    page.goto(f"/admin/enrollment/screening/{screening.pk}/change/")
    j.act("Sign eligibility")
    j.sign("investigator", password="not-my-password")
    j.submit()
    assert page.inner_text(".field-password ul.errorlist") == WRONG_PASSWORD
    j.sign("investigator")
    j.submit()
    assert j.message().startswith(f"{screening}: eligibility signed (")


def enroll_and_schedule(j: Journey, subject: Subject) -> None:
    page = j.as_("coordinator", -5, "10:00")
    page.goto(f"/admin/enrollment/subject/{subject.pk}/change/")
    j.act("Enroll")
    j.submit()
    assert j.message() == f"{subject} enrolled at dose level 1 (L1)."
    page.goto("/admin/dosing/infusionplan/add/")
    page.select_option("#id_subject", str(subject.pk))
    j.fill_local("planned_at", j.d0, "09:00")
    j.save()
    plan = InfusionPlan.objects.get()
    assert (plan.planned_at, plan.d_minus_1) == (j.at(0, "09:00"), j.day(-1))


def dosing_day(j: Journey, subject: Subject) -> None:
    page = j.as_("coordinator", -1, "08:45")
    line = j.from_todays_work(f"{subject.study_number}: D−1 today")
    assert line == (
        f"{subject.study_number}: D−1 today (level 1, infusion planned {j.d0} 09:00 ({ZONE})): record the D−1 "
        "reconfirmation (platelet count, bleeding). Still missing: No platelet reconfirmation recorded on D−1 "
        f"({j.day(-1)}). Record the D0 pre-infusion assessment (baseline count and events since screening)."
    )
    screenshot(page, "journey-2-d-minus-1")
    assert page.url.endswith(f"/admin/dosing/reconfirmation/add/?subject={subject.pk}")
    j.fill_local("drawn_at", j.day(-1), "08:30")
    page.fill("#id_platelets", "74")
    j.save()
    assert "was added successfully" in j.message()

    page = j.as_("coordinator", 0, "08:30")
    j.from_todays_work(
        f"{subject.study_number}: D0 today (level 1, infusion planned {j.d0} 09:00 ({ZONE})): record the D0"
    )
    page.select_option("#id_subject", str(subject.pk))
    page.fill("#id_baseline_platelets", "68")
    j.fill_local("baseline_drawn_at", j.d0, "08:15")
    j.save()
    assert "was added successfully" in j.message()

    page = j.as_("investigator", 0, "09:50")
    j.from_todays_work(
        f"{subject.study_number}: D0 today (level 1, infusion planned {j.d0} 09:00 ({ZONE})): record the infusion"
    )
    page.select_option("#id_subject", str(subject.pk))
    for name, value in {
        "product_lot": "XJ-J-001",
        "product_viable_cells": "100000000",
        "viability_percent": "91.5",
        "volume_ml": "50.0",
        "fraction_given_percent": "100",
    }.items():
        page.fill(f"#id_{name}", value)
    j.fill_local("started_at", j.d0, "09:00")
    j.fill_local("ended_at", j.d0, "09:40")
    for phase, clock in (("before", "08:50"), ("after", "09:45")):
        j.fill_local(f"{phase}_measured_at", j.d0, clock)
        vitals = {"temperature_c": "36.8", "heart_rate_bpm": "78", "systolic_mmhg": "122", "diastolic_mmhg": "76"}
        for name, value in {**vitals, "respiratory_rate": "16", "spo2_percent": "98"}.items():
            page.fill(f"#id_{phase}_{name}", value)
    screenshot(page, "journey-2-infusion-form")
    j.save()
    infusion = Infusion.objects.get()
    assert (infusion.started_at, infusion.ended_at) == (j.at(0, "09:00"), j.at(0, "09:40"))

    for minutes, clock, now, platelets in (
        (60, "10:40", "10:45", "70"),
        (120, "11:40", "11:45", "74"),
        (240, "13:40", "13:45", "79"),
    ):
        page = j.as_("coordinator", 0, now)
        page.goto(f"/admin/dosing/postinfusiondraw/add/?subject={subject.pk}")
        page.select_option("#id_subject", str(subject.pk))
        page.fill("#id_minutes_after_end", str(minutes))
        j.fill_local("drawn_at", j.d0, clock)
        page.fill("#id_platelets", platelets)
        j.save()
    assert PostInfusionDraw.objects.count() == 3


def record_visit(j: Journey, subject: Subject, code: str, day: int) -> None:
    page = j.as_("coordinator", day, "10:30")
    visit = Visit.objects.get(subject=subject, definition__code=code)
    page.goto(f"/admin/safety/visit/{visit.pk}/change/")
    page.fill("#id_visit_date", str(j.day(day)))
    if code != "D30":
        page.fill("#id_platelets", str(FOLLOW_UP[code]))
    page.check("#id_ae_review_done")
    j.save()
    visit.refresh_from_db()
    assert (visit.status, visit.visit_date) == (Visit.Status.DONE, j.day(day))


def serious_allergic_reaction(j: Journey, subject: Subject) -> AdverseEvent:
    page = j.as_("investigator", 5, "10:00")
    page.goto("/admin/safety/adverseevent/add/")
    page.select_option("#id_subject", str(subject.pk))
    page.fill("#id_verbatim_term", "Bronchospasm and urticaria, admitted for IV treatment")
    page.select_option("#id_ctcae_term", str(CtcaeTerm.objects.get(code="allergic_reaction").pk))
    page.fill("#id_grade", "3")
    page.fill("#id_onset_date", str(j.day(5)))
    page.check("#id_serious")
    page.check("#id_sae_hospitalization")
    page.select_option("#id_relatedness", "probably")
    page.select_option("#id_expectedness", "expected")
    j.fill_local("awareness_at", j.day(5), "09:00")
    j.save()
    ae = AdverseEvent.objects.get()
    assert ae.awareness_at == j.at(5, "09:00")

    line = j.from_todays_work(f"{subject.study_number}: SAE report of Allergic reaction (grade 3) to the sponsor: 2")
    assert line.endswith(f"left, due {j.day(6)} 09:00 ({ZONE})"), line
    assert page.url.endswith(f"/admin/safety/adverseevent/{ae.pk}/act/sae_report/")
    j.fill_local("reported_at", j.day(5), "08:00")
    j.sign("investigator")
    j.submit()
    assert page.inner_text(".field-reported_at ul.errorlist") == (
        f"The report cannot precede awareness of the SAE, at {j.day(5)} 09:00 ({ZONE})."
    )
    j.fill_local("reported_at", j.day(5), "09:45")
    j.sign("investigator")
    j.submit()
    assert SaeReport.objects.get().reported_at == j.at(5, "09:45")
    return ae


def adjudicate(j: Journey, ae: AdverseEvent) -> None:
    page = j.as_("src-1", 6, "14:00")
    j.from_todays_work(f"{ae.subject.study_number}: DLT candidate to adjudicate: Allergic reaction, grade 3")
    assert page.url.endswith(f"/admin/safety/adverseevent/{ae.pk}/act/adjudicate/")
    screenshot(page, "journey-3-adjudication")
    page.check("#id_decision_1")  # reject
    page.fill("#id_reason", "Known infusion reaction, resolved with treatment; not dose-limiting per the protocol")
    j.sign("src-1")
    j.submit()
    assert DltAdjudication.objects.get().decision == "reject"


def src_decision(j: Journey) -> SrcDecision:
    page = j.as_("src-1", 29, "09:00")
    page.goto("/admin/dosing/srcdecision/add/")
    recommendation = page.inner_text(".field-decision .help")
    page.fill("#id_meeting_date", str(j.day(29)))
    j.fill_local("data_cutoff", j.day(29), "08:00")
    for member in ("src-1", "src-2"):
        page.check(f"#id_members_present input[value='{j.users[member].pk}']")
    page.select_option("#id_decision", "expand")
    page.fill("#id_dose_level", "1")
    j.save()
    record = SrcDecision.objects.get()
    assert record.data_cutoff == j.at(29, "08:00")
    assert "The engine recommends:" in recommendation
    for member, clock in (("src-1", "09:10"), ("src-2", "09:30")):
        page = j.as_(member, 29, clock)
        page.goto(f"/admin/dosing/srcdecision/{record.pk}/change/")
        j.act("Sign decision")
        j.sign(member)
        j.submit()
    record.refresh_from_db()
    return record


def test_a_subject_from_registration_to_close_out_in_the_admin_alone(journey):
    j = journey
    subject = register_and_consent(j)
    screen_and_sign(j, subject)
    enroll_and_schedule(j, subject)
    dosing_day(j, subject)
    for code, day in list(VISIT_DAYS.items())[:2]:
        record_visit(j, subject, code, day)
    ae = serious_allergic_reaction(j, subject)
    adjudicate(j, ae)
    for code, day in list(VISIT_DAYS.items())[2:5]:
        record_visit(j, subject, code, day)
    decision = src_decision(j)
    record_visit(j, subject, "D30", 30)

    page = j.as_("coordinator", 30, "11:00")
    page.goto(f"/admin/enrollment/subject/{subject.pk}/change/")
    j.act("Close out follow-up")
    page.check("#id_confirm")
    j.submit()
    screenshot(page, "journey-4-closed-out")
    page.goto(f"/admin/enrollment/subject/{subject.pk}/change/")
    with page.expect_navigation():
        page.click("a.casebook-link")
    screenshot(page, "journey-5-casebook")
    timeline = page.inner_text("#timeline")

    subject.refresh_from_db()
    assert subject.status == Subject.Status.COMPLETED
    assert decision.status == SrcDecision.Status.EFFECTIVE
    assert DoseLevel.objects.get(level=1).status == DoseLevel.Status.OPEN
    for event in (
        "Consent signed (version 1.0)",
        "Eligibility signed",
        "Infusion at ",
        "Adverse event: Allergic reaction, grade 3 (Rejected: not a DLT)",
        "Follow-up closed out",
    ):
        assert event in timeline, (event, timeline)
    assert timeline.index("D30 visit done") < timeline.index("Follow-up closed out")  # the close-out ends its day
    assert "Rejected: not a DLT" in page.inner_text("#adverse-events")
