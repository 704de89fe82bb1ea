"""deploy/Caddyfile, adapted and validated by Caddy itself (Debian's caddy; .ci/run installs it)."""

import json
import os
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.deploy.wheel_build import ROOT

CADDYFILE = ROOT / "deploy/Caddyfile"


@pytest.fixture
def caddy(tmp_path):
    """Run caddy with the given environment, its state in a temporary home (the internal CA writes there)."""
    binary = shutil.which("caddy")
    if binary is None:
        reason = "needs Caddy: apt-get install caddy"
        if settings.CI_REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CTIT_REQUIRE_SERVICES=1: this test must run in CI)", pytrace=False)
        pytest.skip(reason)

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
                       "XDG_CONFIG_HOME": str(tmp_path / "config"), **env}  # fmt: skip
        command = [binary, *args, "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)  # noqa: S603

    return run


def adapted(caddy, **env: str) -> dict:
    result = caddy("adapt", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_caddyfile_is_valid(caddy):
    result = caddy("validate", SITE_DOMAIN="trial.example.org")

    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_site_domain_is_served_over_tls_from_the_internal_ca_by_default(caddy):
    config = adapted(caddy, SITE_DOMAIN="trial.example.org")

    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["trial.example.org"]}]
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["trial.example.org"]
    assert [issuer["module"] for issuer in policy["issuers"]] == ["internal"]
    assert config["admin"] == {"disabled": True}


def test_an_email_in_caddy_tls_asks_a_public_ca_instead(caddy):
    config = adapted(caddy, SITE_DOMAIN="trial.example.org", CADDY_TLS="ops@example.org")

    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert {issuer["module"] for issuer in policy["issuers"]} == {"acme", "zerossl"}
    assert {issuer.get("email") for issuer in policy["issuers"]} == {"ops@example.org"}


def test_every_web_replica_is_proxied_and_health_checked_with_the_site_host(caddy):
    config = adapted(caddy, SITE_DOMAIN="trial.example.org")
    (proxy,) = [handler for handler in handlers(config) if handler["handler"] == "reverse_proxy"]

    assert proxy["dynamic_upstreams"] == {"source": "a", "name": "web", "port": "8000", "refresh": 10000000000}
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "least_conn"}
    assert proxy["health_checks"]["active"]["uri"] == "/livez"
    assert proxy["health_checks"]["active"]["headers"] == {"Host": ["trial.example.org"]}


def handlers(node) -> list[dict]:
    """Every handler object anywhere in an adapted configuration."""
    found = []
    if isinstance(node, dict):
        if "handler" in node:
            found.append(node)
        for value in node.values():
            found += handlers(value)
    elif isinstance(node, list):
        for value in node:
            found += handlers(value)
    return found
