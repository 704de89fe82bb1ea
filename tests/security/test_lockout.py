"""Lockout after repeated failures (django-axes) on the token endpoint and the admin login, keyed on the
username and the client address taken only from trusted proxies; failures kept and shown read-only to staff."""

from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog

from enrollment.roles import INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LOCKED = {"detail": "Too many failed attempts: logging in and signing are refused for 15 minutes.", "errors": {}}
UNABLE = "Unable to log in with provided credentials."


@pytest.fixture(autouse=True)
def protection(settings, clock):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0
    clock(T0)


@pytest.fixture
def user(roles, site_a):
    return make_staff_user(role_key=INVESTIGATOR, sites=[site_a], username="dr-li")


def token_request(client, password, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/v1/auth/token/", {"username": "dr-li", "password": password}, headers=headers)


def test_the_token_endpoint_locks_out_after_three_failures_and_releases_after_the_cool_off(client, user, clock):
    statuses = [token_request(client, "wrong").status_code for _ in range(3)]
    locked = token_request(client, PASSWORD)
    clock(T0 + timedelta(minutes=14))
    still_locked = token_request(client, PASSWORD)
    clock(T0 + timedelta(minutes=14) + timedelta(minutes=15, seconds=1))
    released = token_request(client, PASSWORD)

    assert statuses == [400, 400, 429]
    assert (locked.status_code, locked.json()) == (429, LOCKED)
    assert still_locked.status_code == 429  # a try while locked out starts the cool-off again
    assert released.status_code == 200
    assert "token" in released.json()


def test_failed_logins_are_recorded_with_who_when_and_where(client, user):
    token_request(client, "wrong")
    token_request(client, "wrong", forwarded_for="203.0.113.9")

    rows = list(AccessFailureLog.objects.order_by("pk").values_list("username", "ip_address", "path_info"))
    assert rows == [("dr-li", "127.0.0.1", "/api/v1/auth/token/")] * 2
    assert set(AccessFailureLog.objects.values_list("attempt_time", flat=True)) == {T0}
    assert "wrong" not in AccessAttempt.objects.get().post_data


def test_a_spoofed_forwarded_for_does_not_escape_the_lockout_without_trusted_proxies(client, user):
    for n in range(3):
        token_request(client, "wrong", forwarded_for=f"198.51.100.{n}")

    response = token_request(client, PASSWORD, forwarded_for="198.51.100.99")

    assert (response.status_code, response.json()) == (429, LOCKED)
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_with_one_trusted_proxy_the_forwarded_address_is_the_client(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        token_request(client, "wrong", forwarded_for="6.6.6.6, 198.51.100.7")  # the proxy appended .7

    other_client = token_request(client, PASSWORD, forwarded_for="6.6.6.6, 198.51.100.8")
    same_client = token_request(client, PASSWORD, forwarded_for="1.2.3.4, 198.51.100.7")

    assert other_client.status_code == 200
    assert (same_client.status_code, same_client.json()) == (429, LOCKED)
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def test_another_username_from_the_same_address_is_not_locked(client, user, roles, site_a):
    make_staff_user(role_key=INVESTIGATOR, sites=[site_a], username="dr-wu")
    for _ in range(3):
        token_request(client, "wrong")

    response = client.post("/api/v1/auth/token/", {"username": "dr-wu", "password": PASSWORD})

    assert response.status_code == 200


def admin_login(client, password, username="dr-li"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_the_admin_login_locks_out_after_three_failures_and_releases_after_the_cool_off(client, user, clock):
    first = admin_login(client, "wrong")
    statuses = [first.status_code] + [admin_login(client, "wrong").status_code for _ in range(2)]
    locked = admin_login(client, PASSWORD)
    clock(T0 + timedelta(minutes=15, seconds=1))
    released = admin_login(client, PASSWORD)

    assert statuses == [200, 200, 429]
    assert "Please enter the correct username and password" in first.text
    assert locked.status_code == 429
    assert "Too many failed attempts: logging in and signing are refused for 15 minutes." in locked.text
    assert (released.status_code, released["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert list(AccessFailureLog.objects.values_list("path_info", flat=True)) == ["/admin/login/"] * 4


def test_the_monitor_reads_failed_logins_read_only_and_a_coordinator_not_at_all(client, user, roles, site_a):
    token_request(client, "wrong")
    failure = AccessFailureLog.objects.get()
    coordinator = type(client)()
    coordinator.force_login(make_staff_user(role_key=STUDY_COORDINATOR, sites=[site_a], username="coord"))
    staff = make_staff_user(role_key=MONITOR, sites=[], username="monitor")
    client.force_login(staff)

    assert coordinator.get("/admin/axes/accessfailurelog/").status_code == 403
    listing = client.get("/admin/axes/accessfailurelog/")
    change_page = client.get(f"/admin/axes/accessfailurelog/{failure.pk}/change/")
    edit = client.post(f"/admin/axes/accessfailurelog/{failure.pk}/change/", {"username": "someone-else"})
    delete = client.post(f"/admin/axes/accessfailurelog/{failure.pk}/delete/", {"post": "yes"})
    unlock = client.post(f"/admin/axes/accessattempt/{AccessAttempt.objects.get().pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert "dr-li" in listing.text and "/api/v1/auth/token/" in listing.text
    assert change_page.status_code == 200
    assert 'name="_save"' not in change_page.text
    assert (edit.status_code, delete.status_code, unlock.status_code) == (403, 403, 403)
    assert AccessFailureLog.objects.get().username == "dr-li"


def test_a_superuser_lifts_a_lockout_by_deleting_the_attempt(client, user, django_user_model):
    for _ in range(3):
        token_request(client, "wrong")
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    admin = type(client)()
    admin.force_login(root)

    response = admin.post(f"/admin/axes/accessattempt/{AccessAttempt.objects.get().pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert token_request(client, PASSWORD).status_code == 200
    assert AccessFailureLog.objects.count() == 3  # the log of failures stays
