"""The subject casebook: one read-only, printable page with the whole record from consent to today, in the
subject's site time (labelled), linked to each record's page and history; another site's subject is not found."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ctit_trial.workspace.chart import Reading, platelet_chart
from safety import services as safety_services
from safety.models import AdverseEvent, Visit
from tests.core.workspace_world import NOW, module_world
from tests.factories import PASSWORD, make_adverse_event

pytestmark = pytest.mark.django_db
BEIJING = "(Asia/Shanghai, UTC+08:00)"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def read(client, world):
    """read(username, subject key) -> the casebook response for that user."""

    def get(username: str, key: str = "A1"):
        client.force_login(world.users[username])
        return client.get(reverse("admin:subject_casebook", args=[world.subjects[key].pk]))

    return get


def test_the_casebook_tells_the_subjects_story_in_beijing_time(read, world):
    response = read("coord_a")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Casebook of S-BJ01-001</h1>" in page
    assert "Times</th><td>in the site's zone, Asia/Shanghai, UTC+08:00;" in page
    infusion_row = f'<td class="day">2026-05-29</td><td>D0</td><td>2026-05-29 09:00 {BEIJING}</td><td>Infusion at L1'
    assert infusion_row in page
    assert "Platelets 72 ×10⁹/L is within 50–100. No active bleeding." in page  # IN2's reason
    assert f"Test Investigator — eligibility confirmed — 2026-05-23 10:00 {BEIJING} (valid)" in page
    assert f"aware 2026-06-11 21:00 {BEIJING}; due 2026-06-12 21:00 {BEIJING}; not reported yet (due)" in page
    assert "Alanine aminotransferase increased 52: &gt; 40 (1.0×ULN 40) → grade 1" in page


def test_the_timeline_runs_from_consent_to_the_latest_event_on_site_days(read):
    timeline = read("coord_a").context["timeline"]

    assert [(str(m.day), m.study_day, m.what) for m in timeline] == [
        ("2026-05-21", -8, "Consent signed (version 1.0)"),
        ("2026-05-22", -7, "Screening #1: eligible"),
        ("2026-05-23", -6, "Eligibility signed by Test Investigator"),
        ("2026-05-24", -5, "Enrolled: dose slot at L1"),
        ("2026-05-28", -1, "D−1 reconfirmation: platelets 74.0 ×10⁹/L, cleared"),
        ("2026-05-29", 0, "Infusion at L1"),
        ("2026-05-29", 0, "D0 visit done"),
        ("2026-05-30", 1, "Adverse event: Fever, grade 2 (Not a DLT candidate)"),
        ("2026-05-31", 2, "Adverse event: Vomiting, grade 3 (Confirmed DLT)"),
        ("2026-05-31", 2, "D2 visit done"),
        ("2026-06-01", 3, "Adverse event: Alanine aminotransferase increased, grade 1 (Not a DLT candidate)"),
        ("2026-06-01", 3, "D3 visit done"),
        ("2026-06-11", 13, "Adverse event: Allergic reaction, grade 3 (DLT candidate, awaiting adjudication)"),
    ]


def test_the_dosing_day_visits_and_adverse_events_read_in_words(read):
    book = read("coord_a").context["book"]

    plan = book.plans[0]
    assert [(item.code, item.status) for item in plan.checklist] == [
        ("D0", "pass"), ("D-1", "pass"), ("BASELINE", "pass"), ("IN3", "pass"), ("EX5", "pass"), ("EX10", "pass")
    ]  # fmt: skip
    assert [(row["time_point"], row["draw"].platelets) for row in book.draws] == [
        ("1h", Decimal("70.0")), ("2h", Decimal("74.0")), ("4h", Decimal("79.0"))
    ]  # fmt: skip
    assert [(v.record.definition.code, v.record.status, v.deviation) for v in book.visits[:5]] == [
        ("D0", "done", "none"), ("D2", "done", "none"), ("D3", "done", "none"), ("D7", "planned", "none"),
        ("D14", "planned", "none"),
    ]  # fmt: skip
    assert book.visits[3].window == "2026-06-04…2026-06-06 (target 2026-06-05; D7 −1/+1)"
    assert [(e.term, e.record.grade, e.dlt_words, e.onset_day) for e in book.adverse_events] == [
        ("Fever", 2, "Not a DLT candidate", 1),
        ("Vomiting", 3, "Confirmed DLT", 2),
        ("Alanine aminotransferase increased", 1, "Not a DLT candidate", 3),
        ("Allergic reaction", 3, "DLT candidate, awaiting adjudication", 13),
    ]
    confirmation = book.adverse_events[1].adjudications[0]
    assert (confirmation.record.decision_reason, confirmation.state) == (
        "Grade 3 vomiting probably related, no other cause", "valid"
    )  # fmt: skip
    assert [(s.what, s.state) for s in book.signatures] == [
        ("Eligibility, screening #1", "valid"), ("DLT adjudication of Vomiting", "valid")
    ]  # fmt: skip


def test_platelet_endpoints_and_their_chart(read):
    response = read("coord_a")

    platelets, chart = response.context["book"].platelets, response.context["chart"]
    page = response.content.decode()
    assert platelets["baseline"] == Decimal("68.0")
    assert [(p.time_point, p.platelets, p.delta) for p in platelets["time_points"][:5]] == [
        ("1h", Decimal("70.0"), Decimal("2.0")), ("2h", Decimal("74.0"), Decimal("6.0")),
        ("4h", Decimal("79.0"), Decimal("11.0")), ("D2", Decimal("80.0"), Decimal("12.0")),
        ("D3", Decimal("84.0"), Decimal("16.0")),
    ]  # fmt: skip
    assert [point.title for point in chart.points] == [
        "Screening #1 (day -7): 72 ×10⁹/L",
        "D−1 reconfirmation (day -0.646): 74 ×10⁹/L",
        "D0 visit (day 0): 68 ×10⁹/L",
        "1h after the infusion (day 0.444): 70 ×10⁹/L",
        "2h after the infusion (day 0.486): 74 ×10⁹/L",
        "4h after the infusion (day 0.569): 79 ×10⁹/L",
        "D2 visit (day 2): 80 ×10⁹/L",
        "D3 visit (day 3): 84 ×10⁹/L",
    ]
    assert page.count("<circle ") == 8
    assert '<svg class="platelet-chart" viewBox="0 0 560 220"' in page
    assert [tick.label for tick in chart.day_ticks] == ["D−7", "D0", "D3"]
    assert "L1 · 1.0 × 10⁸ cells" in page


def test_the_chart_scales_days_and_counts_to_the_drawing():
    chart = platelet_chart([Reading("D0", 0, Decimal(50)), Reading("D7", 7, Decimal(91))])

    assert chart.polyline == "48.0,117.2 544.0,60.8"  # 91 × 1.1 > 100: five steps of 25, up to 125
    assert [(tick.at, tick.label) for tick in chart.day_ticks] == [(48.0, "D0"), (544.0, "D7")]
    assert [tick.label for tick in chart.count_ticks] == ["0", "25", "50", "75", "100", "125"]
    assert platelet_chart([]) is None


def test_each_record_links_to_its_page_and_history(read, world):
    page = read("coord_a").content.decode()

    subject = world.subjects["A1"]
    visit = Visit.objects.get(subject=subject, definition__code="D7")
    ae = AdverseEvent.objects.get(subject=subject, ctcae_term__code="allergic_reaction")
    for url in (
        reverse("admin:enrollment_subject_history", args=[subject.pk]),
        reverse("admin:safety_visit_change", args=[visit.pk]),
        reverse("admin:safety_visit_history", args=[visit.pk]),
        reverse("admin:safety_adverseevent_change", args=[ae.pk]),
        reverse("admin:dosing_infusion_change", args=[subject.infusion.pk]),
    ):
        assert f'href="{url}"' in page


def test_the_investigator_is_offered_the_sae_report_and_the_src_member_the_adjudication(read, world):
    ae = AdverseEvent.objects.get(subject=world.subjects["A1"], ctcae_term__code="allergic_reaction")
    report = reverse("admin:safety_adverseevent_act", args=[ae.pk, "sae_report"])
    adjudicate = reverse("admin:safety_adverseevent_act", args=[ae.pk, "adjudicate"])

    investigator, src_member = read("inv_a").content.decode(), read("src_a").content.decode()

    assert (report in investigator, adjudicate in investigator) == (True, False)
    assert (report in src_member, adjudicate in src_member) == (False, True)


def test_the_monitor_reads_the_casebook_without_any_act(read):
    response = read("monitor")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Platelets 72 ×10⁹/L is within 50–100." in page
    assert ("/act/" in page, response.context["acts"]) == (False, set())


def test_another_sites_coordinator_does_not_find_the_subject(read, client, world):
    assert read("coord_b").status_code == 404
    assert read("coord_b", "B1").status_code == 200
    assert client.get(reverse("admin:subject_casebook", args=[987654])).status_code == 404


def test_a_staff_user_without_a_study_role_is_refused(client, world):
    user = get_user_model().objects.create_user("no-role", "no-role@example.org", PASSWORD, is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:subject_casebook", args=[world.subjects["A1"].pk]))

    assert response.status_code == 403


def test_the_subject_page_links_to_the_casebook_beside_its_acts(client, world):
    subject = world.subjects["A1"]
    client.force_login(world.users["coord_a"])

    page = client.get(reverse("admin:enrollment_subject_change", args=[subject.pk])).content.decode()

    casebook = reverse("admin:subject_casebook", args=[subject.pk])
    assert f'<a href="{casebook}" class="casebook-link">Casebook</a>' in page
    assert f'href="/admin/enrollment/subject/{subject.pk}/act/discontinue/" class="act-button"' in page


def test_the_casebook_of_a_fully_built_subject_reads_in_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries
):
    # given the page read once, then two more adverse events and a lab result on the subject
    subject = world.subjects["A1"]
    client.force_login(world.users["coord_a"])
    url = reverse("admin:subject_casebook", args=[subject.pk])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for day in (4, 5):
        make_adverse_event(subject=subject, onset_date=date(2026, 6, day), actor=world.users["inv_a"])
    safety_services.lab_result_grade(
        actor=world.users["inv_a"],
        subject=subject,
        analyte="alt_increased",
        value=Decimal(45),
        unit="U/L",
        uln=Decimal(40),
        observed_on=date(2026, 6, 8),
    )

    # when / then: the same number of queries (the page's reads and the login, permission and 2FA checks)
    with django_assert_max_num_queries(42):
        response = client.get(url)
    assert response.status_code == 200
    book = response.context["book"]
    assert (len(book.adverse_events), len(book.lab_results)) == (6, 2)  # the second ALT keeps its grade 1 episode
    assert len(first.captured_queries) <= 42


def test_a_subject_in_screening_has_a_short_casebook(read, world):
    response = read("coord_b", "B1")

    book = response.context["book"]
    assert (book.d0, book.plans, book.visits, response.context["chart"]) == (None, [], [], None)
    assert [(str(m.day), m.study_day, m.what) for m in response.context["timeline"]] == [
        ("2026-06-05", None, "Consent signed (version 1.0)"),
        ("2026-06-11", None, "Adverse event: Hip fracture, grade 3 (Not a DLT candidate)"),
    ]
    assert "Times</th><td>in the site's zone, Europe/Berlin, UTC+02:00;" in response.content.decode()
    assert "No infusion: the platelet endpoints start at D0." in response.content.decode()
    assert "No platelet count recorded" not in response.content.decode()


def test_a_subject_between_d_minus_1_and_d0_shows_what_still_blocks_the_infusion(read):
    response = read("coord_a", "A2")

    book = response.context["book"]
    (plan,) = book.plans
    assert (plan.record.status, book.infusion, book.draws) == ("scheduled", None, [])
    assert [(item.code, item.status) for item in plan.checklist] == [
        ("D0", "pass"), ("D-1", "missing"), ("BASELINE", "missing"), ("IN3", "missing"), ("EX5", "missing"),
        ("EX10", "missing"),
    ]  # fmt: skip
    assert plan.checklist[1].reason == "No platelet reconfirmation recorded on D−1 (2026-06-12)."
    assert "No platelet reconfirmation recorded on D−1 (2026-06-12)." in response.content.decode()
