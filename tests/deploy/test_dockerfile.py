"""What can be checked of the Dockerfile without a Docker engine: its stages, what it copies and installs, its user."""

import re

from tests.deploy.wheel_build import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stage(name: str) -> str:
    """The instructions of one build stage."""
    return re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, flags=re.MULTILINE | re.DOTALL).group(1)


def test_two_stages_from_the_same_slim_python():
    assert re.findall(r"^FROM (\S+) AS (\w+)$", DOCKERFILE, flags=re.MULTILINE) == [
        ("${PYTHON_IMAGE}", "builder"),
        ("${PYTHON_IMAGE}", "runtime"),
    ]
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in DOCKERFILE


def test_the_builder_installs_only_locked_hashed_packages_and_the_wheel_without_deps():
    builder = stage("builder")

    installs = [found.strip() for found in re.findall(r"pip(?: --python \S+)? (?:install|wheel) ([^\n\\]+)", builder)]
    assert installs == [
        "--require-hashes --only-binary :all: -r requirements/build.txt",
        "--require-hashes --only-binary :all:",  # -r requirements/base.txt on the next line
        "--no-deps --no-build-isolation --wheel-dir /wheels .",
        "--no-deps /wheels/ctit_trial-*.whl",
    ]
    assert "-r requirements/base.txt" in builder
    assert "DJANGO_ALLOW_DEV_SECRET_KEY=1 DJANGO_STATIC_ROOT=/app/static django-admin collectstatic" in builder


def test_the_runtime_runs_the_entrypoint_as_a_non_root_user_with_no_build_tools():
    runtime = stage("runtime")

    assert re.findall(r"^USER (\S+)$", runtime, flags=re.MULTILINE) == ["ctit"]
    assert "useradd --create-home --uid 1000 ctit" in runtime
    assert re.findall(r"^COPY (.+)$", runtime, flags=re.MULTILINE) == [
        "--from=builder /opt/venv /opt/venv",
        "--from=builder /app/static /app/static",
        "deploy/entrypoint.sh /usr/local/bin/ctit-entrypoint",
    ]
    assert not re.search(r"apt-get|gcc|build-essential", runtime)
    assert 'ENTRYPOINT ["ctit-entrypoint"]' in runtime


def test_the_dockerfile_copies_only_paths_that_exist():
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, flags=re.MULTILINE)
    sources = [source for line in copied for source in line.split()]

    assert "seeds" in sources and "templates" in sources
    assert [source for source in sources if not (ROOT / source).exists()] == []


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()

    assert {".git", ".venv", "var", ".env", "backups"} <= set(ignored)
