"""Platelet endpoints (PROTOCOL.md §7) per subject and per dose level, from the recorded visits."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from ctit_trial.audit import save_audited, system_actor
from enrollment.roles import MONITOR, STUDY_COORDINATOR
from enrollment.selectors import protocol_current
from safety import selectors, services
from tests.factories import make_infusion, make_site_member, make_subject, make_visit_schedule

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai
FACTOR_NOTE = "CCI and PPR not computed: the protocol's platelet-equivalent factor is not configured"


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 7, 10, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def trial(site_a):
    call_command("seed", verbosity=0)
    return site_a


def dosed_with_counts(site, level: int, counts: dict[str, int], *, hours_later: int = 0):
    """A subject infused at `level` whose visits recorded these platelet counts (on their target dates)."""
    infusion = make_infusion(
        subject=make_subject(site=site), level=level, started_at=INFUSED_AT + timedelta(hours=hours_later)
    )
    make_visit_schedule(infusion=infusion)
    member = make_site_member(site=site)
    for visit in selectors.visits_of(infusion.subject):
        if visit.definition.code in counts:
            services.visit_record(
                actor=member,
                visit=visit,
                visit_date=visit.target_date,
                platelets=Decimal(counts[visit.definition.code]),
                ae_review_done=True,
            )
    return infusion.subject


def test_subject_endpoints_without_the_platelet_equivalent_factor(trial, api_client_for):
    subject = dosed_with_counts(trial, 1, {"D0": 60, "D2": 75, "D7": 90})

    body = api_client_for(STUDY_COORDINATOR, trial).get(f"/api/v1/subjects/{subject.pk}/platelets/").json()

    assert (body["subject"], body["dose_level"], body["viable_cells_infused"], body["baseline"]) == (
        "S-BJ01-001",
        1,
        100000000,
        60.0,
    )
    assert (body["bsa_m2"], body["blood_volume_l"]) == (None, None)
    assert [(t["time_point"], t["platelets"], t["delta"], t["cci"], t["note"]) for t in body["time_points"]] == [
        ("1h", None, None, None, "No platelet count recorded at the 1h post-infusion draw."),
        ("2h", None, None, None, "No platelet count recorded at the 2h post-infusion draw."),
        ("4h", None, None, None, "No platelet count recorded at the 4h post-infusion draw."),
        ("D2", 75.0, 15.0, None, FACTOR_NOTE),
        ("D3", None, None, None, "No platelet count recorded at the D3 visit."),
        ("D7", 90.0, 30.0, None, FACTOR_NOTE),
        ("D14", None, None, None, "No platelet count recorded at the D14 visit."),
        ("D28", None, None, None, "No platelet count recorded at the D28 visit."),
    ]


def test_cci_and_ppr_once_the_factor_and_body_size_are_known(trial, api_client_for):
    protocol = protocol_current()
    protocol.configuration["safety"]["platelet_equivalent_factor"] = 3000  # L1: 1×10⁸ cells → 3×10¹¹
    save_audited(protocol, actor=system_actor(), reason="test set-up")
    subject = dosed_with_counts(trial, 1, {"D0": 60, "D2": 80})
    client = api_client_for(STUDY_COORDINATOR, trial)
    url = f"/api/v1/subjects/{subject.pk}/platelets/"

    without_body = client.get(url).json()
    body = client.get(f"{url}?height_cm=170&weight_kg=70&sex=M").json()
    bad = client.get(f"{url}?height_cm=17&sex=X")

    assert without_body["time_points"][3]["note"] == "CCI and PPR not computed: height/weight not recorded"
    assert (body["bsa_m2"], body["blood_volume_l"]) == (1.8181, 4.660)
    d2 = body["time_points"][3]
    # CCI = 20,000/µL × 1.81812 m² / 3 = 12,120.8; PPR = 20 × 4.65998 L × 10⁹ / 3×10¹¹ × 100 = 31.07 %
    assert (d2["delta"], d2["cci"], d2["ppr_percent"], d2["note"]) == (20.0, 12121.0, 31.07, "computed")
    assert bad.status_code == 400
    assert sorted(bad.json()["errors"]) == ["height_cm", "sex"]


def test_summary_per_dose_level_and_time_point(trial, api_client_for, site_b):
    dosed_with_counts(trial, 1, {"D0": 60, "D2": 75, "D7": 90})
    dosed_with_counts(trial, 1, {"D0": 50, "D2": 75}, hours_later=30)
    dosed_with_counts(trial, 2, {"D0": 70, "D2": 65}, hours_later=60)

    summary = api_client_for(MONITOR).get("/api/v1/platelets/summary/").json()
    elsewhere = api_client_for(STUDY_COORDINATOR, site_b).get("/api/v1/platelets/summary/").json()

    by_level = {level["dose_level"]: level for level in summary}
    d2 = {level: by_level[level]["time_points"][3] for level in (1, 2, 3)}
    assert [(level["label"], level["subjects"]) for level in summary] == [("L1", 2), ("L2", 1), ("L3", 0)]
    assert d2[1] == {"time_point": "D2", "n": 2, "mean": 20.0, "median": 20.0, "min": 15.0, "max": 25.0, "note": ""}
    assert d2[2] == {"time_point": "D2", "n": 1, "mean": -5.0, "median": -5.0, "min": -5.0, "max": -5.0, "note": ""}
    assert (d2[3]["n"], d2[3]["mean"]) == (0, None)
    assert by_level[1]["time_points"][5]["n"] == 1  # D7
    assert all(tp["n"] == 0 for level in elsewhere for tp in level["time_points"])


def test_another_sites_subject_is_not_found(trial, api_client_for, site_b):
    subject = dosed_with_counts(trial, 1, {"D0": 60})

    response = api_client_for(STUDY_COORDINATOR, site_b).get(f"/api/v1/subjects/{subject.pk}/platelets/")

    assert response.status_code == 404
    assert date(2026, 6, 2) == selectors.subject_d0(subject)


def test_post_infusion_draws_give_the_hourly_time_points(trial, api_client_for):
    from dosing import services as dosing_services

    subject = dosed_with_counts(trial, 1, {"D0": 60})
    ended = subject.infusion.ended_at
    member = make_site_member(site=trial)
    for minutes, count in ((60, 66), (120, 71)):
        dosing_services.draw_record(
            actor=member,
            subject=subject,
            minutes_after_end=minutes,
            drawn_at=ended + timedelta(minutes=minutes),
            platelets=Decimal(count),
        )

    body = api_client_for(STUDY_COORDINATOR, trial).get(f"/api/v1/subjects/{subject.pk}/platelets/").json()
    summary = api_client_for(MONITOR).get("/api/v1/platelets/summary/").json()

    assert [(t["time_point"], t["platelets"], t["delta"]) for t in body["time_points"][:3]] == [
        ("1h", 66.0, 6.0),
        ("2h", 71.0, 11.0),
        ("4h", None, None),
    ]
    assert [(t["time_point"], t["n"], t["mean"]) for t in summary[0]["time_points"][:3]] == [
        ("1h", 1, 6.0),
        ("2h", 1, 11.0),
        ("4h", 0, None),
    ]
