"""What can be checked of the Docker deployment without a Docker engine."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_of_a_deployment():
    assert set(compose()["services"]) == {"db", "redis", "migrate", "web", "worker", "beat", "mailpit"}


def test_app_services_use_postgres_redis_and_the_mail_catcher():
    services = compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://ctit:"), name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["EMAIL_URL"] == "${EMAIL_URL:-smtp://mailpit:1025}", name
        assert env["DJANGO_DEBUG"] == "0", name


def test_worker_and_beat_run_the_project_celery_app():
    services = compose()["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "ctit_trial", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "ctit_trial", "beat"]


def test_dockerfile_copies_only_paths_that_exist():
    copied = re.findall(r"^COPY (.+) \S+$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    sources = [source for line in copied for source in line.split()]
    assert sources, "Dockerfile copies nothing"
    assert [source for source in sources if not (ROOT / source).exists()] == []


def test_compose_variables_are_documented_in_env_example():
    documented = (ROOT / ".env.example").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert sorted(name for name in used if name not in documented and name != "POSTGRES_PASSWORD") == []
