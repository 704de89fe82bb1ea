"""The guard of issue 14's speed at scale: no GET of the API issues more queries when the trial has more rows.

Every GET operation of the OpenAPI schema (lists, details, status and summary reads) is requested as a monitor
(all sites) and as an investigator (one site) in a small trial, then again after more subjects of every kind were
added; the query counts must be equal. The benchmark (benchmarks/bench_api.py) measures the time; this test
counts, so it is fast and exact.
"""

from functools import cache

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.perf.world import NOW, build_small_world, grow

pytestmark = pytest.mark.django_db  # pytest-django sets up the test database only for tests marked so
VIEWERS = ("monitor", "inv_a")
GROWTH = 4  # subjects of each kind added at each site between the two counts


@cache
def get_paths() -> tuple[str, ...]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    connections.close_all()  # generated at collection, before the test database exists: never keep that connection
    return tuple(path for path, operations in schema["paths"].items() if "get" in operations)


def _url(path: str, world) -> str:
    """The schema path with the site A subject's records (a planned subject for the D0 checklist)."""
    objects = world.objects["A"]
    subject = world.objects["planned_subject"] if path.endswith("/dosing/checklist/") else objects["subject"]
    values = {
        "/adverse-events/{id}/": objects["ae"].pk,
        "/eligibility-evaluations/{id}/": objects["evaluation"].pk,
        "/screenings/{id}/": objects["screening"].pk,
        "/src-decisions/{id}/": world.objects["src_decision"].pk,
        "/visits/{id}/": objects["visit"].pk,
    }
    for suffix, pk in values.items():
        path = path.replace(suffix, f"/{suffix.split('/')[1]}/{pk}/")
    path = path.replace("{code}", world.sites["A"].code).replace("{subject_pk}", str(subject.pk))
    path = path.replace("{id}", str(subject.pk))
    return path + ("?page_size=100" if "{" not in path and _is_list(path) else "")


def _is_list(path: str) -> bool:
    return not path.rstrip("/").split("/")[-1].isdigit() and path.count("/") == 4


def _counts(world) -> dict[tuple[str, str], tuple[int, int]]:
    """(path, viewer) -> (status code, queries) for every GET of the schema."""
    counts, client = {}, APIClient()
    for viewer in VIEWERS:
        for path in get_paths():
            client.force_authenticate(type(world.users[viewer]).objects.get(pk=world.users[viewer].pk))  # as a request
            with CaptureQueriesContext(connection) as queries:
                response = client.get(_url(path, world))
            counts[path, viewer] = (response.status_code, len(queries))
    return counts


@pytest.fixture(scope="module")
def counted(django_db_setup, django_db_blocker):
    """The query counts in the small trial and after it grew (one module transaction, rolled back)."""
    locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SECURE_SSL_REDIRECT=False,
        CACHES={"default": locmem, "throttle": locmem, "throttle-fallback": {**locmem, "LOCATION": "fallback"}},
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []},
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        world = build_small_world()
        with time_machine.travel(NOW, tick=False):
            small = _counts(world)
        grow(world, GROWTH)
        with time_machine.travel(NOW, tick=False):
            large = _counts(world)
        transaction.set_rollback(True)
    return small, large


def test_every_get_answers_alike_before_and_after_the_trial_grew(counted):
    small, large = counted
    refused = {path for path in get_paths() if all(small[path, viewer][0] != 200 for viewer in VIEWERS)}
    assert refused == set()  # each read is measured on a real answer (the monitor may not read identities)
    assert {key: code for key, (code, _) in large.items()} == {key: code for key, (code, _) in small.items()}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("path", get_paths())
def test_queries_do_not_grow_with_rows(counted, path, viewer):
    small, large = counted
    assert large[path, viewer][1] == small[path, viewer][1]
