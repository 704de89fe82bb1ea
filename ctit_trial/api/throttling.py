"""Throttles that count atomically and survive a Redis outage (docs/adr/0009).

DRF's SimpleRateThrottle reads a history list and writes it back, so concurrent requests all pass; here each
request is one atomic increment of a counter per client and window. The counters live in the `throttle` cache
(Redis when configured); while it is unreachable they are counted in this process, so no request fails for it.
"""

import logging
import threading
import time
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from ctit_trial.security.client import client_ip

logger = logging.getLogger(__name__)


def _increment(cache, key: str, ttl: int) -> int:
    cache.add(key, 0, timeout=ttl)  # the key outlives its window, so it cannot expire before the increment
    return cache.incr(key)


class ThrottleCounter:
    """Per-key request counts in the `throttle` cache, or in `throttle-fallback` while it is unreachable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shared_down_until = 0.0

    def hit(self, key: str, ttl: int) -> int:
        if time.monotonic() >= self._shared_down_until:
            try:
                return _increment(caches["throttle"], key, ttl)
            except (RedisError, OSError) as error:
                self._give_up_shared(error)
        return _increment(caches["throttle-fallback"], key, ttl)

    def _give_up_shared(self, error: Exception) -> None:
        with self._lock:
            self._shared_down_until = time.monotonic() + settings.THROTTLE_REDIS_RETRY_SECONDS
        logger.warning("Throttle cache unreachable (%s): counting in this process for a while", error)


counter = ThrottleCounter()


class AtomicRateThrottleMixin:
    """At most `num_requests` per client in each window of `duration` seconds, counted atomically."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # read live, so settings overrides apply

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        count = counter.hit(f"{self.key}:{window}", ttl=self.duration + 1)
        self.retry_after = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return self.retry_after


class AnonThrottle(AtomicRateThrottleMixin, AnonRateThrottle):
    pass


class UserThrottle(AtomicRateThrottleMixin, UserRateThrottle):
    pass


class ScopedThrottle(AtomicRateThrottleMixin, ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


def login_throttled(request) -> bool:
    """Whether this client has used up the `auth` rate, which the admin login shares with the token endpoint."""
    return not ScopedThrottle().allow_request(request, SimpleNamespace(throttle_scope="auth"))
