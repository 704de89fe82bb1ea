"""Today's work on the admin index: per role and site, what is due today, each line linking to the page where the
act is done; another site's subjects never appear."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from dosing import services as dosing_services
from dosing.models import SrcDecision
from enrollment.roles import SRC_MEMBER
from safety.models import AdverseEvent, Notification, Visit
from tests.core.workspace_world import NOW, module_world
from tests.factories import make_staff_user

pytestmark = pytest.mark.django_db
BEIJING = "(Asia/Shanghai, UTC+08:00)"
RECONFIRMATION_MISSING = (
    "No platelet reconfirmation recorded on D−1 (2026-06-12). "
    "Record the D0 pre-infusion assessment (baseline count and events since screening)."
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def index(client, world):
    """index(username) -> (the admin index response, its work as [(title, [(subject, text, url)])])."""

    def get(username: str):
        client.force_login(world.users[username])
        response = client.get(reverse("admin:index"))
        work = [
            (section.title, [(line.subject, line.text, line.url) for line in section.lines])
            for section in response.context["todays_work"]
        ]
        return response, work

    return get


def _ids(world):
    a1 = world.subjects["A1"]
    return {
        "a2": world.subjects["A2"].pk,
        "d7": Visit.objects.get(subject=a1, definition__code="D7").pk,
        "d14": Visit.objects.get(subject=a1, definition__code="D14").pk,
        "sae": AdverseEvent.objects.get(subject=a1, ctcae_term__code="allergic_reaction").pk,
        "failed_a": Notification.objects.get(subject=a1, status="failed").pk,
        "failed_b": Notification.objects.get(subject=world.subjects["B1"], status="failed").pk,
    }


def test_a_site_a_coordinator_has_exactly_the_days_work_of_site_a(index, world):
    ids = _ids(world)

    response, work = index("coord_a")

    assert work == [
        ("D−1 and D0 today", [(
            "S-BJ01-002",
            f"D−1 today (level 1, infusion planned 2026-06-13 09:00 {BEIJING}): record the D−1 reconfirmation "
            f"(platelet count, bleeding). Still missing: {RECONFIRMATION_MISSING}",
            f"/admin/dosing/reconfirmation/add/?subject={ids['a2']}",
        )]),
        ("Visits due today", [(
            "S-BJ01-001", "D14 visit due: window 2026-06-10…2026-06-14, target 2026-06-12",
            f"/admin/safety/visit/{ids['d14']}/change/",
        )]),
        ("Visits overdue", [(
            "S-BJ01-001", "D7 visit overdue: window 2026-06-04…2026-06-06, target 2026-06-05",
            f"/admin/safety/visit/{ids['d7']}/change/",
        )]),
        ("Emails failed or uncertain", [(
            "S-BJ01-001", f"SAE report reminder to inv_a, due 2026-06-12 10:00 {BEIJING}: Failed (not retried)",
            f"/admin/safety/notification/{ids['failed_a']}/change/",
        )]),
    ]  # fmt: skip
    assert "S-DEMO2-001" not in response.content.decode()


def test_a_site_b_coordinator_sees_none_of_site_a(index, world):
    response, work = index("coord_b")

    failed = _ids(world)["failed_b"]
    assert work == [
        ("D−1 and D0 today", []),
        ("Visits due today", []),
        ("Visits overdue", []),
        ("Emails failed or uncertain", [(
            "S-DEMO2-001", "SAE report reminder to inv_b, due 2026-06-12 03:00 (Europe/Berlin, UTC+02:00): "
            "Failed (not retried)", f"/admin/safety/notification/{failed}/change/",
        )]),
    ]  # fmt: skip
    assert "S-BJ01" not in response.content.decode()


def test_the_investigator_also_has_the_sae_clock_with_its_time_left(index, world):
    _, work = index("inv_a")

    sae = _ids(world)["sae"]
    assert dict(work)["SAE clocks running"] == [(
        "S-BJ01-001",
        f"SAE report of Allergic reaction (grade 3) to the sponsor: 11 h 00 min left, due 2026-06-12 21:00 {BEIJING}",
        f"/admin/safety/adverseevent/{sae}/act/sae_report/",
    )]  # fmt: skip
    assert [title for title, _ in work] == [
        "D−1 and D0 today", "Visits due today", "Visits overdue", "SAE clocks running", "Emails failed or uncertain"
    ]  # fmt: skip


def test_the_src_member_has_the_dlt_candidate_to_adjudicate(index, world):
    _, work = index("src_a")

    sae = _ids(world)["sae"]
    assert work == [
        ("DLT candidates to adjudicate", [(
            "S-BJ01-001", "DLT candidate to adjudicate: Allergic reaction, grade 3 (rule allergic_reaction)",
            f"/admin/safety/adverseevent/{sae}/act/adjudicate/",
        )]),
        ("SRC decisions", []),  # level 1 is a 3+3 cohort still enrolling: nothing for the SRC to decide
    ]  # fmt: skip


def test_a_decision_awaiting_signatures_asks_each_member_present_to_sign(index, world):
    # given the SRC recorded (not yet signed) that level 1 continues, with a second member present
    second = make_staff_user(role_key=SRC_MEMBER, sites=[world.sites["A"]], username="src_second")
    decision = dosing_services.src_decision_record(
        actor=world.users["src_a"],
        meeting_date=date(2026, 6, 12),
        data_cutoff=NOW - timedelta(hours=1),
        members=[world.users["src_a"], second],
        decision=SrcDecision.Kind.EXPAND,
        dose_level=1,
        rationale="",
    )

    _, work = index("src_a")

    assert dict(work)["SRC decisions"] == [
        (
            "",
            "SRC 2026-06-12: Continue / expand at the open level L1: awaiting your signature",
            f"/admin/dosing/srcdecision/{decision.pk}/act/sign/",
        )
    ]


def test_the_monitor_has_no_work_and_reads_the_links(index):
    response, work = index("monitor")

    page = response.content.decode()
    assert work == []
    assert "Your role records nothing at a site: the lists and pages below are read-only." in page
    assert f'<a href="{reverse("admin:dosing_today")}">Dosing today</a>' in page
    assert f'<a href="{reverse("admin:dosing_trial_status")}">Trial status</a>' in page


@pytest.mark.parametrize("username", ["coord_a", "inv_a", "src_a", "coord_b"])
def test_every_line_opens_the_page_where_its_act_is_done(index, client, username):
    _, work = index(username)

    urls = [url for _, lines in work for _, _, url in lines]
    assert urls
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 200)


def test_on_d0_the_line_moves_from_the_assessment_to_the_infusion(index, world, time_machine):
    # given S-BJ01-002's D−1 count recorded today, and tomorrow (D0) morning in Beijing
    subject = world.subjects["A2"]
    dosing_services.reconfirmation_record(
        actor=world.users["coord_a"],
        subject=subject,
        drawn_at=NOW - timedelta(hours=1),
        platelets=Decimal(74),
        bleeding=False,
        bleeding_details="",
    )
    time_machine.move_to(datetime.fromisoformat("2026-06-13T08:00:00+08:00"), tick=False)

    # when
    _, before = index("coord_a")
    dosing_services.assessment_record(
        actor=world.users["coord_a"],
        subject=subject,
        baseline_platelets=Decimal(70),
        baseline_drawn_at=datetime.fromisoformat("2026-06-13T07:45:00+08:00"),
        transfusion_since_screening_at=None,
        thrombopoietic_since_screening_on=None,
        surgery_since_screening_on=None,
    )
    _, after = index("coord_a")

    # then
    [(_, text_before, url_before)] = dict(before)["D−1 and D0 today"]
    [(_, text_after, url_after)] = dict(after)["D−1 and D0 today"]
    assert url_before == f"/admin/dosing/preinfusionassessment/add/?subject={subject.pk}"
    assert text_before.startswith(
        f"D0 today (level 1, infusion planned 2026-06-13 09:00 {BEIJING}): record the D0 pre-infusion assessment."
    )
    assert url_after == f"/admin/dosing/infusion/add/?subject={subject.pk}"
    assert text_after.startswith(
        f"D0 today (level 1, infusion planned 2026-06-13 09:00 {BEIJING}): record the infusion."
    )
