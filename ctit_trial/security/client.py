"""The client's address, trusting X-Forwarded-For only as far as our own proxies (DJANGO_TRUSTED_PROXY_COUNT)."""

from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address our outermost trusted proxy saw (the same rule as DRF's NUM_PROXIES)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr
