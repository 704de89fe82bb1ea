"""Private service instances for tests that stop or kill them (never the machine's shared ones)."""

import contextlib
import shutil
import socket
import subprocess
import time

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def private_redis():
    """Start a redis-server of our own on a free loopback port; yields (url, stop)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 — fixed arguments, loopback only
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for_redis(url)

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)

    try:
        yield url, stop
    finally:
        if process.poll() is None:
            stop()


def _wait_for_redis(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                return
        time.sleep(0.05)
    raise RuntimeError(f"private Redis at {url} did not start")
