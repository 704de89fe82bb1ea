"""Behind a real PgBouncer (Debian's) in transaction pooling mode, where each transaction may run on another server
connection: the service migrates, seeds a trial in mid-flight through its services (locks, signatures, history
triggers, time travel) and passes its checks, with DJANGO_DB_TRANSACTION_POOLING=1 as the README documents."""

import os
import shutil
import socket
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings

from tests.deploy.wheel_build import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DEMO_SUBJECTS = 8  # seeds/demo.yaml: seven at BJ01, one at DEMO2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres(dbname: str = "postgres") -> psycopg.Connection:
    server = settings.DATABASES["default"]
    return psycopg.connect(
        host=server["HOST"], port=server["PORT"] or 5432, user=server["USER"], dbname=dbname, autocommit=True
    )


@pytest.fixture
def pgbouncer(tmp_path):
    """A private PgBouncer on a free port (pool_mode = transaction) in front of a database of its own."""
    binary = shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")
    if binary is None:
        reason = "needs PgBouncer: apt-get install pgbouncer"
        if settings.CI_REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CTIT_REQUIRE_SERVICES=1: this test must run in CI)", pytrace=False)
        pytest.skip(reason)
    server, port, dbname = settings.DATABASES["default"], free_port(), f"ctit_pgbouncer_{os.getpid()}"
    with postgres() as admin:
        admin.execute(f"CREATE DATABASE {dbname}")
    folder = tmp_path / "pgbouncer"
    folder.mkdir()
    (folder / "users.txt").write_text(f'"{server["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{dbname} = host={server['HOST']} port={server['PORT'] or 5432} user={server['USER']}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\npool_mode = transaction\ndefault_pool_size = 4\n"
        "max_client_conn = 100\nunix_socket_dir =\nignore_startup_parameters = extra_float_digits,options\n"
    )
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []  # PgBouncer refuses to run as root
    process = subprocess.Popen(  # noqa: S603
        [binary, *as_user, str(folder / "pgbouncer.ini")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    for _ in range(50):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"postgres://{server['USER']}@127.0.0.1:{port}/{dbname}", dbname
    process.terminate()
    process.wait(timeout=10)
    with postgres() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def manage(*args: str, database_url: str, var_dir) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DB_TRANSACTION_POOLING": "1",
        "CTIT_VAR_DIR": str(var_dir),
        "DJANGO_LOG_JSON": "0",
        "DJANGO_DEBUG": "1",  # the demo trial (published passwords) is seeded only with DEBUG on
    }
    env.pop("REDIS_URL", None)  # the embedded broker: this test is about the database path
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)  # noqa: S603


def test_the_service_runs_behind_pgbouncer_in_transaction_pooling(pgbouncer, tmp_path):
    database_url, dbname = pgbouncer

    steps = [manage(*step, database_url=database_url, var_dir=tmp_path / "var") for step in (
        ("migrate", "--no-input"), ("seed", "--demo"), ("check",), ("seed",),
    )]  # fmt: skip

    for step in steps:
        assert step.returncode == 0, step.stderr[-3000:]
    with postgres(dbname) as direct:
        subjects = direct.execute("SELECT count(*) FROM enrollment_subject").fetchone()[0]
        signed = direct.execute("SELECT count(*) FROM dosing_srcsignature").fetchone()[0]
    assert (subjects, signed) == (DEMO_SUBJECTS, 2)
