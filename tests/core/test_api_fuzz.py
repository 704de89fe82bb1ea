"""A bounded Schemathesis run over every API operation: no 5xx and no response outside the documented schema."""

import contextlib

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 12  # x 2 modes x 58 operations: ~75 s of CPU, under 3 minutes on 2 busy cores
SEED = 20260310
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
BUDGET = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, keeping the test's database connection open (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def coordinator_token(settings):
    """The demo trial (seeded with DEBUG on, as `make run` does) and a token of its BJ01 coordinator."""
    settings.DEBUG = True
    call_command("seed", "--demo", verbosity=0)
    settings.DEBUG = False
    return Token.objects.create(user_id=_user_id("coordinator")).key


def _user_id(username: str) -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username).pk


def _run(operation, mode, headers: dict, failures: list) -> None:
    @BUDGET
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseException as failure:  # collected (the first per operation), so one run reports them all
            label = f"{operation.label} [{mode.value}]"
            if not any(seen.startswith(label) for seen in failures):
                failures.append(f"{label}: {failure}"[:2000])

    with contextlib.suppress(Unsatisfiable):  # nothing to negate (no parameters, no body): the positive run covers it
        check()


def test_every_operation_survives_a_bounded_fuzz_run(wsgi_app, coordinator_token):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, config=schemathesis.Config.from_dict({"seed": SEED})
    )
    headers = {"Authorization": f"Token {coordinator_token}"}
    failures: list = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _run(operation, mode, headers, failures)

    print("\n\n".join(failures))  # shown by pytest when the test fails
    assert len(operations) >= 58
    assert failures == []
