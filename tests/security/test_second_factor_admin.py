"""The admin login asks for the one-time code of an enrolled authenticator app; users enrol one themselves."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessFailureLog
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctit_trial.security.admin_site import ADMIN_CODE_MISSING, ADMIN_CODE_WRONG, ENROL_CODE_WRONG
from enrollment.roles import STUDY_COORDINATOR
from tests.factories import PASSWORD, make_staff_user
from tests.second_factor import current_code, enrol_totp, wrong_code

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def required(settings, clock):
    settings.CTIT_REQUIRE_2FA = True
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    clock(T0)


@pytest.fixture
def user(roles, site_a):
    return make_staff_user(role_key=STUDY_COORDINATOR, sites=[site_a], username="coord")


def login(client, otp_token=None):
    data = {"username": "coord", "password": PASSWORD}
    if otp_token is not None:
        data["otp_token"] = otp_token
    return client.post("/admin/login/?next=/admin/", data)


def test_the_login_needs_the_current_code_of_the_enrolled_app(client, user, clock):
    device = enrol_totp(user)

    missing = login(client)
    wrong = login(client, wrong_code(device))
    clock(T0 + timedelta(seconds=30))  # after the throttle of one wrong code, and a new code
    right = login(client, current_code(device))

    assert missing.status_code == wrong.status_code == 200
    assert missing.context["form"].errors == {"otp_token": [ADMIN_CODE_MISSING]}
    assert wrong.context["form"].errors == {"otp_token": [ADMIN_CODE_WRONG]}
    assert (right.status_code, right["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_a_code_is_accepted_once(client, user):
    device = enrol_totp(user)
    code = current_code(device)
    assert login(client, code).status_code == 302
    client.logout()

    replayed = login(client, code)

    assert replayed.context["form"].errors == {"otp_token": [ADMIN_CODE_WRONG]}


def test_wrong_codes_count_like_wrong_passwords(client, user, clock):
    device = enrol_totp(user)

    statuses = []
    for step in range(3):
        clock(T0 + timedelta(seconds=30 * step))
        statuses.append(login(client, wrong_code(device)).status_code)
    clock(T0 + timedelta(minutes=2))
    locked = login(client, current_code(device))

    assert statuses == [200, 200, 429]
    assert locked.status_code == 429
    assert AccessFailureLog.objects.filter(username="coord", path_info="/admin/login/").count() == 4


def test_a_user_without_an_app_is_sent_to_enrol_one_and_then_in(client, user, clock):
    # given: a password login without a device, 2FA required
    assert login(client).status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/two-factor/"

    # when: the enrolment page shows a QR code and the key; a wrong code, then the right one
    page = client.get("/admin/two-factor/")
    device = TOTPDevice.objects.get(user=user)
    wrong = client.post("/admin/two-factor/", {"otp_token": wrong_code(device)})
    clock(T0 + timedelta(seconds=30))
    confirmed = client.post("/admin/two-factor/", {"otp_token": current_code(device)})

    # then
    assert 'src="data:image/svg+xml;base64,' in page.text
    key = re.search(r"<code>([A-Z2-7]+)</code>", page.text).group(1)
    assert len(key) == 32
    assert not device.confirmed
    assert wrong.context["form"].errors == {"otp_token": [ENROL_CODE_WRONG]}
    assert (confirmed.status_code, confirmed["Location"]) == (302, "/admin/")
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/admin/").status_code == 200


def test_after_enrolment_the_login_needs_the_code(client, user, clock):
    device = enrol_totp(user)

    password_only = login(client)

    assert password_only.context["form"].errors == {"otp_token": [ADMIN_CODE_MISSING]}
    assert client.get("/admin/two-factor/")["Location"] == "/admin/login/?next=/admin/two-factor/"
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert login(client, current_code(device)).status_code == 302


def test_without_the_requirement_a_password_is_enough_until_an_app_is_enrolled(client, user, settings):
    settings.CTIT_REQUIRE_2FA = False

    assert login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    enrol_totp(user)
    client.logout()
    assert login(client).context["form"].errors == {"otp_token": [ADMIN_CODE_MISSING]}


def test_a_session_from_before_the_enrolment_must_log_in_again(client, user, clock):
    client.force_login(user)

    enrol_totp(user)

    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
