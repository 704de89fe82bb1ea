"""POST /api/v1/escalation/next/: the engine's decision for a dose path, with the protocol's options."""

import pytest
from django.core.management import call_command

from enrollment.roles import INVESTIGATOR, MONITOR

pytestmark = pytest.mark.django_db
URL = "/api/v1/escalation/next/"


@pytest.fixture
def client(api_client_for, site_a):
    call_command("seed", verbosity=0)
    return api_client_for(INVESTIGATOR, site_a)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", {"action": "enroll", "dose_level": 1, "subjects": 1}),
        ("1P", {"action": "hold", "dose_level": None, "subjects": None}),
        ("1N", {"action": "escalate", "dose_level": 2, "subjects": 3}),
        ("1T", {"action": "enroll", "dose_level": 1, "subjects": 2}),
        ("1N 2NNN", {"action": "escalate", "dose_level": 3, "subjects": 3}),
    ],
)
def test_protocol_examples(client, path, expected):
    response = client.post(URL, {"path": path}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in expected} == expected
    assert body["reason"]


def test_what_if_the_next_subject_has_a_dlt(client):
    response = client.post(URL, {"path": "1N 2NNT"}, format="json")

    assert response.json() == {
        "action": "enroll",
        "dose_level": 2,
        "subjects": 3,
        "reason": "1 DLT in 3 evaluable subjects at level 2: expand to 6",
    }


def test_options_change_the_decision(client):
    default = client.post(URL, {"path": "1G"}, format="json").json()
    dlt_only = client.post(URL, {"path": "1G", "options": {"titration_trigger": "dlt_only"}}, format="json").json()

    assert (default["action"], default["dose_level"], default["subjects"]) == ("enroll", 1, 2)
    assert (dlt_only["action"], dlt_only["dose_level"], dlt_only["subjects"]) == ("escalate", 2, 3)


def test_boin_design_is_selectable(client):
    response = client.post(URL, {"path": "1NNN", "options": {"design": "boin"}}, format="json")

    assert (response.status_code, response.json()["action"], response.json()["dose_level"]) == (200, "escalate", 2)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("1Q", 'Token "1Q" has the unknown outcome letter "Q" (allowed: N G T X P)'),
        ("0N", 'Token "0N" names dose level 0; levels run from 1 to 3'),
        ("4N", 'Token "4N" names dose level 4; levels run from 1 to 3'),
        ("1N 2", 'Token "2" has no outcomes (letters NGTXP)'),
    ],
)
def test_bad_path_is_a_400_naming_the_token(client, path, message):
    response = client.post(URL, {"path": path}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"path": [message]}}


def test_bad_option_names_the_field(client):
    response = client.post(URL, {"path": "1N", "options": {"titration_trigger": "sometimes"}}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["options.titration_trigger"]


def test_read_only_roles_may_ask_what_if(api_client_for):
    call_command("seed", verbosity=0)

    assert api_client_for(MONITOR).post(URL, {"path": "1N"}, format="json").status_code == 200


def test_simulation_is_reproducible_by_seed(client):
    request = {"design": "at3+3", "true_dlt": [0.05, 0.15, 0.35], "trials": 2000, "seed": 7}

    first = client.post("/api/v1/escalation/simulate/", request, format="json")
    second = client.post("/api/v1/escalation/simulate/", request, format="json")

    assert first.status_code == 200
    assert first.json() == second.json()
    body = first.json()
    assert [level["level"] for level in body["levels"]] == [1, 2, 3]
    total = sum(level["p_selected"] for level in body["levels"]) + body["p_stop_no_tolerable_dose"]
    assert total == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"true_dlt": [0.1, 0.2]}, "true_dlt"),
        ({"true_dlt": [0.1, 0.2, 1.5]}, "true_dlt.2"),
        ({"trials": 20_001}, "trials"),
        ({"design": "crm"}, "design"),
    ],
)
def test_bad_simulation_requests_name_the_field(client, changes, field):
    request = {"true_dlt": [0.05, 0.15, 0.35], "trials": 100, **changes}

    response = client.post("/api/v1/escalation/simulate/", request, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
