"""Throttles count atomically (one increment per request) and keep working, locally, when Redis is down."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.views import APIView

from ctit_trial.api import throttling
from ctit_trial.api.throttling import AnonThrottle, ThrottleCounter, UserThrottle
from enrollment.models import Subject
from enrollment.roles import STUDY_COORDINATOR
from tests.factories import PASSWORD, make_staff_user
from tests.services import restartable_redis

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, 30, tzinfo=UTC)


@pytest.fixture
def throttled(settings, monkeypatch, clock):
    """The production throttle classes on every view (tests/conftest.py turns them off), a fresh counter."""
    clock(T0)
    rates = {"anon": "60/minute", "user": "1200/minute", "auth": "3/minute"}
    classes = [AnonThrottle, UserThrottle]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(APIView, "throttle_classes", classes)
    monkeypatch.setattr(throttling, "counter", ThrottleCounter())
    return rates


def redis_cache(url: str) -> dict:
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": options}


def token_attempt(client, forwarded_for: str):
    payload = {"username": "nobody", "password": "x"}
    return client.post("/api/v1/auth/token/", payload, headers={"X-Forwarded-For": forwarded_for})


def test_a_spoofed_forwarded_for_does_not_change_the_throttle_key(client, roles, throttled, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    statuses = [token_attempt(client, f"198.51.100.{n}").status_code for n in range(5)]

    assert statuses == [400, 400, 400, 429, 429]


def test_with_one_trusted_proxy_each_forwarded_client_has_its_own_budget(client, roles, throttled, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    statuses = [token_attempt(client, f"6.6.6.6, 198.51.100.{n}").status_code for n in range(5)]
    same_client = [token_attempt(client, "7.7.7.7, 198.51.100.0").status_code for _ in range(3)]

    assert statuses == [400] * 5
    assert same_client == [400, 400, 429]  # 198.51.100.0 made one request above


def test_the_refusal_says_when_to_retry(client, roles, throttled):
    for _ in range(3):
        token_attempt(client, "")

    response = token_attempt(client, "")

    assert response.status_code == 429
    assert response["Retry-After"] == "30"  # the window ends at 08:01:00
    assert response.json() == {"detail": "Request was throttled. Expected available in 30 seconds.", "errors": {}}


@pytest.mark.redis
def test_concurrent_requests_cannot_exceed_the_limit_on_redis(throttled, settings):
    # given: the counters on a real Redis, a limit of 50 per minute, 200 requests from 40 threads at once
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "50/minute"}}
    factory, barrier = RequestFactory(), Barrier(40)

    def anonymous_request():
        request = factory.get("/api/v1/me/")
        request.user = AnonymousUser()
        return request

    def five_requests(_) -> list[bool]:
        barrier.wait()
        return [AnonThrottle().allow_request(anonymous_request(), None) for _ in range(5)]

    with restartable_redis() as redis_server:
        settings.CACHES = {**settings.CACHES, "throttle": redis_cache(redis_server.url)}
        # when
        with ThreadPoolExecutor(max_workers=40) as pool:
            allowed = [ok for results in pool.map(five_requests, range(40)) for ok in results]
        counted = int(next(iter(redis_server_values(redis_server.url))))

    # then
    assert allowed.count(True) == 50
    assert counted == 200


def redis_server_values(url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(url)
    return [client.get(key) for key in client.keys("*throttle_anon*")]


@pytest.mark.redis
def test_with_redis_down_clinical_writes_and_reads_still_succeed(throttled, settings, roles, site_a, client):
    # given: the throttle counters and the cache on a private Redis, which then stops
    coordinator = make_staff_user(role_key=STUDY_COORDINATOR, sites=[site_a], username="coord")
    token = client.post("/api/v1/auth/token/", {"username": "coord", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Token {token}"}
    with restartable_redis() as redis_server:
        settings.CACHES = {**settings.CACHES, "default": redis_cache(redis_server.url)}
        settings.CACHES["throttle"] = redis_cache(redis_server.url)
        assert client.get("/api/v1/me/", headers=headers).status_code == 200
        redis_server.stop()

        # when
        writes = [
            client.post(
                "/api/v1/subjects/", {"site": "BJ01"}, content_type="application/json", headers=headers
            ).status_code
            for _ in range(100)
        ]
        reads = [client.get(url, headers=headers).status_code for url in ("/api/v1/me/", "/api/v1/subjects/")]

    # then
    assert writes == [201] * 100
    assert reads == [200, 200]
    assert Subject.objects.filter(site=site_a).count() == 100
    assert coordinator.is_active


@pytest.mark.redis
def test_with_redis_down_the_limit_still_holds_in_the_process(throttled, settings, roles, client):
    with restartable_redis() as redis_server:
        settings.CACHES = {**settings.CACHES, "throttle": redis_cache(redis_server.url)}
        redis_server.stop()

        statuses = [token_attempt(client, "").status_code for _ in range(5)]

    assert statuses == [400, 400, 400, 429, 429]


def test_the_admin_login_shares_the_token_endpoint_rate(client, roles, throttled):
    token_attempt(client, "")
    statuses = [client.post("/admin/login/", {"username": "x", "password": "y"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert (
        "Too many login attempts from your address: wait a minute and try again." in client.post("/admin/login/").text
    )
