"""The admin in a real browser: a coordinator logs in and registers a subject; bad input and read-only roles."""

import pytest

from enrollment.models import Subject
from enrollment.roles import MONITOR, STUDY_COORDINATOR
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.postgres


def test_a_coordinator_logs_in_and_registers_a_subject_at_beijing(page, staff_user, site_a):
    # given
    coordinator = staff_user(STUDY_COORDINATOR)
    login(page, coordinator)
    assert page.inner_text("#site-name") == "XJ-MK-002 trial administration"
    # when
    page.locator("#content-main").get_by_role("link", name="Subjects", exact=True).click()
    page.locator("#content-main a.addlink").click()
    page.select_option("#id_site", label=str(site_a))
    page.click("input[name=_save]")
    # then
    screenshot(page, "subject-registered")
    assert page.inner_text("ul.messagelist") == "The subject “S-BJ01-001” was added successfully."
    assert list(Subject.objects.values_list("study_number", flat=True)) == ["S-BJ01-001"]


def test_a_subject_without_a_site_is_refused_with_its_message(page, staff_user):
    login(page, staff_user(STUDY_COORDINATOR))

    page.goto("/admin/enrollment/subject/add/")
    page.click("input[name=_save]")

    assert page.inner_text("p.errornote") == "Please correct the error below."
    assert page.inner_text(".field-site ul.errorlist") == "This field is required."
    assert Subject.objects.count() == 0


def test_a_monitor_gets_no_add_button_on_subjects(page, staff_user):
    login(page, staff_user(MONITOR, sites=[]))

    page.goto("/admin/enrollment/subject/")

    assert page.inner_text("h1") == "Select subject to view"
    assert page.locator("a.addlink").count() == 0
