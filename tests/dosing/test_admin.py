"""Admin: the trial status page, the escalation chart, and opening level 1."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from dosing.models import DoseLevel
from enrollment.roles import MONITOR, SRC_MEMBER
from tests.factories import PASSWORD, make_infusion, make_staff_user, make_subject, set_open_level

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def staff_client(client, roles, site_a):
    call_command("seed", verbosity=0)
    make_staff_user(role_key=MONITOR, username="mon")
    client.login(username="mon", password=PASSWORD)
    return client


@time_machine.travel(NOW, tick=False)
def test_status_page_shows_path_levels_and_blockers(staff_client, site_a):
    set_open_level(1)
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))

    page = staff_client.get("/admin/dosing/doselevel/status/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<code>1N</code>" in html
    assert 'S-BJ01-001 <span class="outcome outcome-N" title="N">N</span>' in html
    assert "Missing SRC decision: the engine recommends escalate at level 2." in html


@time_machine.travel(NOW, tick=False)
def test_chart_is_a_png(staff_client, site_a):
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))

    response = staff_client.get("/admin/dosing/doselevel/status/chart.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_open_first_level_action_asks_the_src_for_a_reason(client, roles, site_a):
    call_command("seed", verbosity=0)
    make_staff_user(role_key=SRC_MEMBER, sites=[site_a], username="src")
    client.login(username="src", password=PASSWORD)
    action = {"action": "open_first_level", "_selected_action": [DoseLevel.objects.get(level=1).pk]}

    asked = client.post("/admin/dosing/doselevel/", action)
    response = client.post("/admin/dosing/doselevel/", {**action, "apply": "1", "reason": "Trial start"}, follow=True)

    assert 'name="reason"' in asked.content.decode()
    assert "L1 is open for enrollment." in response.content.decode()
    assert DoseLevel.objects.get(level=1).status == "open"
