"""The wheel, installed with the runtime lock in a fresh venv, checks, migrates and seeds outside the checkout."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.wheel_build import ROOT

pytestmark = pytest.mark.slow

COUNTS = (
    "import json; import ctit_trial;"
    "from django.contrib.auth.models import Group; from django.template.loader import get_template;"
    "from dosing.models import DoseLevel; from enrollment.models import Criterion, Protocol;"
    "from safety.models import CtcaeTerm, VisitDefinition;"
    "print(json.dumps({'package': ctit_trial.__file__, 'template': get_template('notifications/base.html').origin.name,"
    "'protocols': Protocol.objects.count(), 'dose_levels': DoseLevel.objects.count(),"
    "'visits': VisitDefinition.objects.count(), 'criteria': Criterion.objects.count(),"
    "'ctcae_terms': CtcaeTerm.objects.count(), 'roles': Group.objects.count()}))"
)


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False, **kwargs)  # noqa: S603


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding requirements/base.txt (hashes required) and the wheel, nothing else."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-qq", "--no-compile"]
    locked = run(*pip, "--require-hashes", "--only-binary", ":all:", "-r", ROOT / "requirements/base.txt")
    assert locked.returncode == 0, locked.stderr
    project = run(*pip, "--no-deps", wheel)
    assert project.returncode == 0, project.stderr
    return venv


@pytest.fixture
def admin(installed, tmp_path):
    """django-admin of the installed venv, run in an empty folder outside the checkout against a new SQLite file."""
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env = {
        **kept,
        "DJANGO_SETTINGS_MODULE": "ctit_trial.settings",
        "DJANGO_ALLOW_DEV_SECRET_KEY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "CTIT_VAR_DIR": str(tmp_path / "var"),
        "CTIT_ENV_FILE": "",
    }

    def django_admin(*args: str) -> subprocess.CompletedProcess:
        return run(installed / "bin" / "django-admin", *args, cwd=workdir, env=env)

    return django_admin


def test_the_runtime_lock_is_complete_for_the_installed_package(installed):
    checked = run(sys.executable, "-m", "pip", "--python", installed / "bin" / "python", "check")

    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.strip() == "No broken requirements found."


def test_the_installed_package_checks_migrates_and_seeds_outside_the_checkout(installed, admin):
    # when
    check, migrate, seed = admin("check"), admin("migrate", "--no-input", "-v", "0"), admin("seed")
    again = admin("seed")
    counts = admin("shell", "-v", "0", "-c", COUNTS)

    # then
    assert check.returncode == 0, check.stderr
    assert "System check identified no issues" in check.stdout
    assert migrate.returncode == 0, migrate.stderr
    assert seed.returncode == 0, seed.stderr
    assert "seed 2/2 protocol configuration: XJ-MK-002" in seed.stdout
    assert again.returncode == 0, again.stderr
    assert "rows changed: criteria 0, dose levels 0, visits 0," in again.stdout  # (CTCAE rows are rewritten: reported)
    found = json.loads(counts.stdout)
    assert found.pop("package").startswith(str(installed))
    assert found.pop("template").startswith(str(installed))
    assert found == {"protocols": 1, "dose_levels": 3, "visits": 7, "criteria": 27, "ctcae_terms": 24, "roles": 6}
