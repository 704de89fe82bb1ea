"""The trial status page reads like a dashboard (doses in cells, Beijing times with the zone, a chart over the trial's
own dates), and "Dosing today" shows site-local times and links each line to the page where its act is done."""

import struct
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from dosing import charts
from dosing.admin_day import InfusionForm
from dosing.doses import format_cells
from enrollment.roles import INVESTIGATOR, MONITOR
from tests.dosing.conftest import D0_MORNING, D_MINUS_1_NOON
from tests.factories import make_infusion, make_staff_user, make_subject, set_open_level

pytestmark = pytest.mark.django_db
BEIJING = "Asia/Shanghai, UTC+08:00"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 June in Beijing
INFUSED_AT = datetime(2026, 5, 25, 1, 0, tzinfo=UTC)  # 09:00 on 25 May in Beijing: the first subject at level 1
STATUS = "/admin/dosing/doselevel/status/"
CHART = "/admin/dosing/doselevel/status/chart.png"
TODAY = "/admin/dosing/infusionplan/today/"
VITAL_LABELS = {
    "measured_at": "measured at",
    "temperature_c": "temperature (°C)",
    "heart_rate_bpm": "heart rate (beats/min)",
    "systolic_mmhg": "systolic blood pressure (mmHg)",
    "diastolic_mmhg": "diastolic blood pressure (mmHg)",
    "respiratory_rate": "respiratory rate (breaths/min)",
    "spo2_percent": "SpO₂ (%)",
}


def login(client, role: str, *sites):
    user = make_staff_user(role_key=role, sites=sites)
    client.force_login(user)
    return client


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    return struct.unpack(">II", png[16:24])


# --- doses and the chart's axis: pure functions


@pytest.mark.parametrize(
    ("viable_cells", "written"),
    [
        (100_000_000, "1.0 × 10⁸ cells"),
        (300_000_000, "3.0 × 10⁸ cells"),
        (600_000_000, "6.0 × 10⁸ cells"),
        (1_500_000_000, "1.5 × 10⁹ cells"),
        (50_000_000, "5.0 × 10⁷ cells"),
    ],
)
def test_a_dose_is_written_in_cells_as_a_power_of_ten(viable_cells, written):
    assert format_cells(viable_cells) == written


def test_the_chart_spans_the_trials_own_dates_from_a_few_days_before_the_first_infusion_to_after_today():
    infusion_days = [date(2026, 5, 25), date(2026, 5, 27)]

    assert charts.chart_date_range(infusion_days, today=date(2026, 6, 1)) == (date(2026, 5, 22), date(2026, 6, 4))


def test_with_no_infusion_yet_the_chart_spans_the_days_around_today():
    assert charts.chart_date_range([], today=date(2026, 6, 1)) == (date(2026, 5, 29), date(2026, 6, 4))


# --- the trial status page


@pytest.fixture
def dosed(roles, site_a, time_machine):
    """One subject dosed at level 1 on 25 May (Beijing); the clock at 10:00 on 1 June in Beijing."""
    time_machine.move_to(NOW, tick=False)
    call_command("seed", verbosity=0)
    set_open_level(1)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT)


def test_the_status_page_writes_doses_in_cells_and_times_in_beijing_with_the_zone(client, dosed, site_a):
    login(client, MONITOR, site_a)

    page = client.get(STATUS)

    html = page.content.decode()
    assert page.status_code == 200
    assert [row["dose"] for row in page.context["levels"]] == ["1.0 × 10⁸ cells", "3.0 × 10⁸ cells", "6.0 × 10⁸ cells"]
    assert "<td>L1</td><td>1.0 × 10⁸ cells</td><td>Open</td>" in html
    assert f"As of 2026-06-01 10:00 ({BEIJING})." in html
    # the sentinel: the next subject at level 1 not before 14 days after the first infusion, in Beijing time
    assert f"<h3>Earliest next infusion (spacing and sentinel rules)</h3><p>2026-06-08 09:00 ({BEIJING})</p>" in html
    assert "<h3>Open level</h3><p>L1 · 1.0 × 10⁸ cells</p>" in html
    assert "<h2>Holding the trial's next step</h2>" in html
    assert "(UTC)" not in html
    assert 'S-BJ01-001 <span class="outcome outcome-P" title="P">P</span>' in html
    assert '<span class="outcome outcome-T">T</span> DLT' in html


def test_the_dose_level_list_writes_doses_in_cells(client, dosed, site_a):
    login(client, MONITOR, site_a)

    page = client.get("/admin/dosing/doselevel/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<td class="field-dose">1.0 × 10⁸ cells</td>' in html
    assert "100000000" not in html


def test_the_chart_is_1000_by_400_px_over_the_days_around_the_trials_infusions(
    client, dosed, site_a, monkeypatch, time_machine
):
    # given the chart asked for at 01:00 on 2 June in Beijing (still 1 June in UTC)
    time_machine.move_to(datetime(2026, 6, 1, 17, 0, tzinfo=UTC), tick=False)
    axis, chart_date_range = [], charts.chart_date_range

    def recorded(infusion_days, *, today):
        axis.append(((infusion_days, today), chart_date_range(infusion_days, today=today)))
        return axis[-1][1]

    monkeypatch.setattr(charts, "chart_date_range", recorded)
    login(client, MONITOR, site_a)

    # when
    response = client.get(CHART)

    # then: 25 May − 3 days to the Beijing day 2 June + 3 days, not years
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png_size(response.content) == (1000, 400)
    assert axis == [(([date(2026, 5, 25)], date(2026, 6, 2)), (date(2026, 5, 22), date(2026, 6, 5)))]


# --- "Dosing today": site-local times, and each line's links to where its act is done


def subject_page(subject) -> str:
    return f"/admin/enrollment/subject/{subject.pk}/change/"


def test_on_d_minus_1_the_line_links_to_the_reconfirmation_page_with_the_subject_chosen(
    scheduled, client, trial, clock
):
    clock(D_MINUS_1_NOON)
    login(client, INVESTIGATOR, trial)
    reconfirmation_add = f"/admin/dosing/reconfirmation/add/?subject={scheduled.pk}"

    page = client.get(TODAY)
    add_page = client.get(reconfirmation_add)

    html = page.content.decode()
    [row] = page.context["rows"]
    assert row["planned_local"] == f"2026-03-10 09:00 ({BEIJING})"
    assert "<td>L1 · 1.0 × 10⁸ cells</td>" in html
    assert row["links"] == [
        ("Record the D−1 reconfirmation", reconfirmation_add),
        ("Subject page", subject_page(scheduled)),
    ]
    assert f"Now: 2026-03-09 12:00 ({BEIJING})." in html
    assert f"<td>2026-03-10 09:00 ({BEIJING})</td>" in html
    assert f'<a href="{reconfirmation_add}">Record the D−1 reconfirmation</a>' in html
    assert add_page.status_code == 200
    assert str(add_page.context["adminform"].form["subject"].value()) == str(scheduled.pk)


def test_on_d0_the_line_links_to_the_assessment_and_the_infusion_pages(cleared, client, trial, clock):
    clock(D0_MORNING)
    login(client, INVESTIGATOR, trial)

    [row] = client.get(TODAY).context["rows"]

    assert row["missing"] == [  # once, not once per checklist item the assessment answers
        "Record the D0 pre-infusion assessment (baseline count and events since screening).",
        "Record the infusion.",
    ]
    assert row["links"] == [
        ("Record the D0 assessment", f"/admin/dosing/preinfusionassessment/add/?subject={cleared.pk}"),
        ("Record the infusion", f"/admin/dosing/infusion/add/?subject={cleared.pk}"),
        ("Subject page", subject_page(cleared)),
    ]


def test_once_assessed_only_the_infusion_is_left_to_record(assessed, client, trial):
    login(client, INVESTIGATOR, trial)

    [row] = client.get(TODAY).context["rows"]

    assert row["links"] == [
        ("Record the infusion", f"/admin/dosing/infusion/add/?subject={assessed.pk}"),
        ("Subject page", subject_page(assessed)),
    ]


def test_after_the_infusion_the_line_links_to_the_draws_that_are_due(infused, client, trial):
    login(client, INVESTIGATOR, trial)

    [row] = client.get(TODAY).context["rows"]

    assert row["missing"] == ["1h platelet draw", "2h platelet draw", "4h platelet draw"]
    assert row["links"] == [
        ("Record a post-infusion draw", f"/admin/dosing/postinfusiondraw/add/?subject={infused.pk}"),
        ("Subject page", subject_page(infused)),
    ]


def test_a_monitor_is_linked_to_the_subject_page_only(scheduled, client, trial, clock):
    clock(D_MINUS_1_NOON)
    login(client, MONITOR, trial)

    [row] = client.get(TODAY).context["rows"]

    assert row["links"] == [("Subject page", subject_page(scheduled))]


# --- the infusion form's two vital-sign blocks


def test_the_two_vital_sign_blocks_of_the_infusion_read_before_and_after(enrolled, client, trial):
    login(client, INVESTIGATOR, trial)

    page = client.get("/admin/dosing/infusion/add/")

    html = page.content.decode()
    assert page.status_code == 200
    for phase, heading in (("before", "Before infusion"), ("after", "After infusion")):
        assert {name: InfusionForm.base_fields[f"{phase}_{name}"].label for name in VITAL_LABELS} == {
            name: f"{heading} — {label}" for name, label in VITAL_LABELS.items()
        }
    assert "Before infusion — heart rate (beats/min)" in html
    assert "After infusion — heart rate (beats/min)" in html


def test_a_large_trial_s_chart_counts_per_level_instead_of_labelling_each_subject():
    from matplotlib import pyplot

    from dosing.rules.live import DosedSubject

    day = date(2026, 5, 1)
    few = [DosedSubject(subject_id=n, level=1, d0=day, window_complete=True) for n in range(3)]
    many = [
        DosedSubject(subject_id=n, level=1 + n % 2, d0=day, window_complete=True, dlt_confirmed=n % 10 == 0)
        for n in range(500)
    ]
    texts = {}
    for name, subjects in (("few", few), ("many", many)):
        figure, axes = pyplot.subplots()
        charts._plot_subjects(axes, subjects, {s.subject_id: f"S-{s.subject_id}" for s in subjects})
        texts[name] = [text.get_text() for text in axes.texts]
        pyplot.close(figure)

    assert texts["few"] == ["N", "S-0", "N", "S-1", "N", "S-2"]
    assert texts["many"] == ["250 dosed: N 200 T 50", "250 dosed: N 250"]
