"""Private service instances for tests that stop or kill them (never the machine's shared ones).

Redis on a free loopback port (restartable on the same port), a real SMTP server (aiosmtpd) that records what it
accepts and can refuse, hold or drop chosen addresses, and a real Celery worker process on the test database.
"""

import asyncio
import contextlib
import email
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import redis

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a fixed loopback port: stop it and start it again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 — fixed arguments, loopback only
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_redis(self.url)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def restartable_redis():
    """A private Redis that the test may stop and start again on the same port; yields the RedisServer."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_redis():
    """Start a redis-server of our own on a free loopback port; yields (url, stop)."""
    with restartable_redis() as server:
        yield server.url, server.stop


def _wait_for_redis(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                return
        time.sleep(0.05)
    raise RuntimeError(f"private Redis at {url} did not start")


class RecordingHandler:
    """An SMTP server's behaviour: accept and record; refuse, hold (until released) or drop chosen addresses."""

    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply at RCPT, e.g. "550 5.1.1 No such mailbox"
        self.hold: dict[str, threading.Event] = {}  # address -> its next message waits until set, then 451
        self.drop: set[str] = set()  # addresses whose DATA is cut off by closing the connection
        self.holding = threading.Event()  # set when a held message has arrived
        self._held: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        held = [
            self.hold[address] for address in envelope.rcpt_tos if address in self.hold and address not in self._held
        ]
        if held:  # only the first message to a held address waits
            self._held.update(envelope.rcpt_tos)
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, held[0].wait, 60)
            return "451 4.3.0 Aborted"
        if set(envelope.rcpt_tos) & self.drop:
            server.transport.close()
            return "421 4.3.0 Closing"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.accepted.append(
                {
                    "message_id": message["Message-ID"],
                    "to": list(envelope.rcpt_tos),
                    "subject": message["Subject"],
                    "text": message.get_body(preferencelist=("plain",)).get_content(),
                }
            )
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [item["message_id"] for item in self.accepted]


@contextlib.contextmanager
def smtp_server():
    """A real SMTP server on a free loopback port; yields (handler, email_url)."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{controller.port}"
    finally:
        for gate in handler.hold.values():
            gate.set()
        controller.stop()


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database, in tests)."""
    credentials = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else "")
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{settings_dict['NAME']}"


class CeleryWorker:
    """A real `celery worker` process (solo pool: one task at a time) on a broker, a database and an SMTP server."""

    def __init__(self, *, broker_url: str, database_url: str, email_url: str, log_path: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": broker_url,
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": email_url,
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "celery", "-A", "ctit_trial", "worker", "--pool=solo", "--loglevel=INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", f"--hostname=test-{free_port()}@%h"]
        log = self.log_path.open("a")
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_path.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the Celery worker did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing written on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def celery_worker(**options):
    """A started CeleryWorker (see its arguments), stopped at the end."""
    worker = CeleryWorker(**options)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@contextlib.contextmanager
def celery_broker(url: str):
    """Point this process's Celery app at a broker for the test, then back (and forget pooled connections)."""
    from ctit_trial.celery import app

    def reset() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url = original
        reset()


def wait_until(condition, *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> None:
    """Poll until condition() is true (for work done by other processes), or fail after the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
