"""API tokens expire and die with the password or the account; 401 with WWW-Authenticate; admin idle timeout."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token

from ctit_trial.api.authentication import TOKEN_EXPIRED
from enrollment.roles import INVESTIGATOR, STUDY_COORDINATOR
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def user(roles, site_a):
    return make_staff_user(role_key=INVESTIGATOR, sites=[site_a], username="dr-li")


def obtain(client, password=PASSWORD) -> str:
    response = client.post("/api/v1/auth/token/", {"username": "dr-li", "password": password})
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def me(client, token):
    return client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})


def test_the_token_says_when_it_expires_and_is_refused_after(client, user, clock, settings):
    settings.API_TOKEN_TTL = timedelta(hours=12)
    clock(T0)
    response = client.post("/api/v1/auth/token/", {"username": "dr-li", "password": PASSWORD})
    token = response.json()["token"]

    clock(T0 + timedelta(hours=11, minutes=59))
    still_valid = me(client, token)
    clock(T0 + timedelta(hours=12))
    expired = me(client, token)

    assert response.json()["expires_at"] == "2026-06-01T20:00:00Z"
    assert still_valid.status_code == 200
    assert expired.status_code == 401
    assert expired.json() == {"detail": TOKEN_EXPIRED, "errors": {}}
    assert expired["WWW-Authenticate"] == "Token"
    assert not Token.objects.filter(key=token).exists()


def test_a_new_login_after_expiry_gives_a_new_token(client, user, clock):
    clock(T0)
    first = obtain(client)
    clock(T0 + timedelta(hours=1))
    same = obtain(client)
    clock(T0 + timedelta(hours=13))
    renewed = obtain(client)

    assert same == first
    assert renewed != first
    assert me(client, renewed).status_code == 200


def test_a_password_change_revokes_the_token(client, user):
    token = obtain(client)

    user.set_password("another-long-passphrase-7")
    user.save()

    response = me(client, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "errors": {}}
    assert obtain(client, "another-long-passphrase-7") != token


def test_deactivation_revokes_the_token(client, user):
    token = obtain(client)

    user.is_active = False
    user.save()

    assert me(client, token).status_code == 401
    assert Token.objects.count() == 0


def test_saving_other_fields_keeps_the_token(client, user):
    token = obtain(client)

    user.first_name = "Wei"
    user.save()

    assert me(client, token).status_code == 200


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": "Token not-a-token"}, "Invalid token."),
        ({"Authorization": "Token"}, "Invalid token header. No credentials provided."),
    ],
)
def test_missing_or_bad_credentials_are_a_401_with_www_authenticate(client, roles, headers, detail):
    response = client.get("/api/v1/me/", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": detail, "errors": {}}


def test_a_browser_session_still_reaches_the_api(client, user):
    client.force_login(user)

    assert client.get("/api/v1/me/").json()["username"] == "dr-li"


@pytest.fixture
def staff_session(client, roles, site_a, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    client.force_login(make_staff_user(role_key=STUDY_COORDINATOR, sites=[site_a], username="coord"))
    return client


def test_the_admin_session_ends_after_30_idle_minutes(staff_session, clock):
    clock(T0)
    assert staff_session.get("/admin/").status_code == 200

    clock(T0 + timedelta(minutes=30, seconds=1))
    response = staff_session.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    login_page = staff_session.get(response["Location"])
    assert "You were logged out after 30 minutes without activity." in login_page.text


def test_activity_extends_the_admin_session(staff_session, clock):
    for minutes in (0, 29, 58, 87):
        clock(T0 + timedelta(minutes=minutes))
        assert staff_session.get("/admin/").status_code == 200, minutes
