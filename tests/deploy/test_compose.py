"""docker-compose.yml against the Compose Specification's schema, and what the deployment needs of it."""

import json
import os
import re
import subprocess
import sys

import pytest
from jsonschema import Draft7Validator

from tests.deploy.compose_file import ROOT, MissingVariable, compose, compose_raw, interpolate, variables_used

SCHEMA = json.loads((ROOT / "tests/deploy/compose_spec/compose-spec.json").read_text())
DOT_ENV = {  # what an operator puts in .env: the required variables only
    "SITE_DOMAIN": "trial.example.org",
    "DJANGO_SECRET_KEY": "q8#2vH!x9zL@m4Rt7wY$e1Kp6nB0cJ3sD5fG8hA2uQ9iO4lZ7xC1vN6bM3",
    "POSTGRES_PASSWORD": "a-long-random-password",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}
APP_SERVICES = ("migrate", "web", "worker", "beat")


def schema_errors(document: dict) -> list[str]:
    validator = Draft7Validator(SCHEMA)
    return sorted(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)
    )


def test_the_compose_file_is_valid_against_the_compose_specification():
    assert schema_errors(compose_raw()) == []
    assert schema_errors(compose(DOT_ENV)) == []


def test_the_schema_check_catches_a_mistake():
    broken = compose(DOT_ENV)
    broken["services"]["web"]["healthcheck"]["intervall"] = "15s"

    assert schema_errors(broken) == ["services/web/healthcheck: 'intervall' does not match any of the regexes: '^x-'"]


def test_the_deployment_has_its_services_and_the_mail_catcher_only_in_the_dev_profile():
    services = compose(DOT_ENV)["services"]

    assert set(services) == {"proxy", "db", "redis", "migrate", "web", "worker", "beat", "backup", "mailpit"}
    assert [name for name, service in services.items() if service.get("profiles")] == ["mailpit"]
    assert services["mailpit"]["profiles"] == ["dev"]
    outside_dev = {name: service for name, service in services.items() if "dev" not in service.get("profiles", [])}
    assert [name for name, service in outside_dev.items() if "mailpit" in json.dumps(service)] == []


def test_every_dependency_is_a_service_of_the_file():
    services = compose(DOT_ENV)["services"]

    dependencies = {(name, needed) for name, service in services.items() for needed in service.get("depends_on", {})}
    assert sorted(needed for _, needed in dependencies if needed not in services) == []
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["proxy"]["depends_on"] == {"web": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_web_worker_and_beat_have_their_own_health_checks(name):
    service = compose(DOT_ENV)["services"][name]

    assert service["command"] == [name]
    assert service["healthcheck"]["test"] == ["CMD", "ctit-entrypoint", "healthcheck", name]
    assert {"interval", "timeout", "retries", "start_period"} <= set(service["healthcheck"])


def test_exactly_one_beat_and_the_migrate_job_runs_once_per_up():
    services = compose(DOT_ENV)["services"]

    assert services["beat"]["deploy"] == {"replicas": 1}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"


def test_only_the_proxy_publishes_ports_and_the_catcher_only_on_loopback():
    services = compose(DOT_ENV)["services"]

    assert {name: service["ports"] for name, service in services.items() if "ports" in service} == {
        "proxy": ["80:80", "443:443", "443:443/udp"],
        "mailpit": ["127.0.0.1:8025:8025"],
    }


@pytest.mark.parametrize("missing", sorted(DOT_ENV))
def test_each_required_variable_stops_compose_naming_it(missing):
    with pytest.raises(MissingVariable, match=rf"^{missing}: set {missing} in \.env"):
        compose({name: value for name, value in DOT_ENV.items() if name != missing})


def test_smtp_is_required_not_defaulted_to_a_catcher():
    raw = compose_raw()["x-app"]["environment"]

    assert raw["EMAIL_URL"].startswith("${EMAIL_URL:?")
    assert raw["DJANGO_DEBUG"] == "0"
    assert [
        name
        for name in APP_SERVICES
        if "DJANGO_ALLOW_DEV_SECRET_KEY" in compose(DOT_ENV)["services"][name]["environment"]
    ] == []


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_gets_every_value_production_requires(name):
    environment = {key: str(value) for key, value in compose(DOT_ENV)["services"][name]["environment"].items()}
    kept = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "CTIT_ENV_FILE") if key in os.environ}

    result = subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**kept, **environment},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert environment["SITE_URL"] == "https://trial.example.org"
    assert environment["DJANGO_TRUSTED_PROXY_COUNT"] == "1"
    assert environment["DJANGO_CONN_MAX_AGE"] == "60"


def test_the_backup_service_dumps_the_app_database_with_retention():
    backup = compose({**DOT_ENV, "BACKUP_KEEP_DAYS": "30"})["services"]["backup"]

    assert backup["entrypoint"] == ["sh", "/usr/local/bin/ctit-backup"]
    assert "./deploy/backup.sh:/usr/local/bin/ctit-backup:ro" in backup["volumes"]
    assert {key: backup["environment"][key] for key in ("PGHOST", "PGUSER", "PGDATABASE", "BACKUP_KEEP_DAYS")} == {
        "PGHOST": "db", "PGUSER": "ctit", "PGDATABASE": "ctit", "BACKUP_KEEP_DAYS": "30"
    }  # fmt: skip
    assert backup["healthcheck"]["test"][1].startswith(
        "find /backups -name 'ctit-*.dump' -mmin -$((2 * ${BACKUP_INTERVAL"
    )


def test_every_file_the_compose_file_mounts_is_in_the_repository():
    services = compose(DOT_ENV)["services"]
    mounted = [volume.split(":")[0] for service in services.values() for volume in service.get("volumes", [])]

    assert (
        sorted(path for path in mounted if path.startswith("./") and not (ROOT / path).exists() and path != "./backups")
        == []
    )
    assert {"./deploy/Caddyfile", "./deploy/backup.sh"} <= set(mounted)


def test_compose_variables_are_documented_in_env_example():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))

    assert sorted(variables_used() - documented) == []


def test_interpolation_follows_compose():
    environment = {"SET": "x", "EMPTY": ""}

    assert interpolate("${SET} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} $$HOME", environment) == "x d d  $HOME"
    with pytest.raises(MissingVariable, match="EMPTY: needed"):
        interpolate("${EMPTY:?needed}", environment)
