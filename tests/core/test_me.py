import pytest

from enrollment.roles import INVESTIGATOR, MONITOR

pytestmark = pytest.mark.django_db


def test_me_returns_roles_and_sites(api_client_for, site_a):
    client = api_client_for(INVESTIGATOR, site_a, username="dr-wang")

    body = client.get("/api/v1/me/").json()

    assert body["username"] == "dr-wang"
    assert body["roles"] == ["investigator"]
    assert body["sites"] == [{"code": "BJ01", "name": "Beijing", "time_zone": "Asia/Shanghai"}]
    assert body["sees_all_sites"] is False


def test_me_for_monitor_has_no_sites_but_sees_all(api_client_for):
    body = api_client_for(MONITOR).get("/api/v1/me/").json()

    assert (body["roles"], body["sites"], body["sees_all_sites"]) == (["monitor"], [], True)


def test_token_authentication(client, roles, site_a):
    from tests.factories import PASSWORD, make_staff_user

    make_staff_user(role_key=INVESTIGATOR, sites=[site_a], username="tokenuser")
    token = client.post("/api/v1/auth/token/", {"username": "tokenuser", "password": PASSWORD}).json()["token"]

    response = client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200
    assert response.json()["username"] == "tokenuser"


def test_wrong_password_gets_a_field_error(client, roles):
    response = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Unable to log in with provided credentials.",
        "errors": {"non_field_errors": ["Unable to log in with provided credentials."]},
    }
