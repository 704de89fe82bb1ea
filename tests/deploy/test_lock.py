"""The locked, hashed dependencies (requirements/*.txt, `make lock`) and the venv that `make venv` builds from them."""

import subprocess
import sys

import pytest

from tests.deploy.locks import canonical, pins, pyproject_pins, requirement_blocks

LOCKS = ["base.txt", "build.txt", "dev.txt"]
PROJECT = "ctit-trial"


def installed_versions() -> dict[str, str]:
    """{name: version} of `pip freeze --all` in this venv, without the project itself."""
    frozen = subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in frozen.splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in lines), f"only name==version lines: {lines}"
    versions = dict(line.split("==", 1) for line in lines)
    return {canonical(name): version for name, version in versions.items() if canonical(name) != PROJECT}


def test_the_venv_holds_exactly_the_dev_lock():
    installed, locked = installed_versions(), pins("dev.txt")

    extra = sorted(f"{name}=={version}" for name, version in installed.items() if name not in locked)
    missing = sorted(f"{name}=={version}" for name, version in locked.items() if name not in installed)
    different = sorted(
        f"{name}: {installed[name]} installed, {version} locked"
        for name, version in locked.items()
        if name in installed and installed[name] != version
    )
    assert (extra, missing, different) == ([], [], []), "run `make venv` (or `make lock` after changing pyproject)"


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_requirement_carries_hashes(lock):
    blocks = requirement_blocks(lock)

    assert blocks, f"{lock} locks nothing"
    assert sorted(name for name, block in blocks.items() if "--hash=sha256:" not in block) == []


@pytest.mark.parametrize("lock", ["build.txt", "dev.txt"])
def test_the_other_locks_keep_the_runtime_locks_versions(lock):
    runtime, other = pins("base.txt"), pins(lock)

    assert {name: other[name] for name in other if name in runtime} == {
        name: version for name, version in runtime.items() if name in other
    }


def test_the_dev_lock_holds_the_runtime_and_build_locks():
    dev = pins("dev.txt")

    assert sorted(set(pins("base.txt")) - set(dev)) == []
    assert pins("build.txt") == {"setuptools": dev["setuptools"]}


def test_pyproject_pins_are_the_locked_versions():
    runtime, dev = pins("base.txt"), pins("dev.txt")

    assert {name: runtime.get(name) for name in pyproject_pins()} == pyproject_pins()
    assert {name: dev.get(name) for name in pyproject_pins("dev")} == pyproject_pins("dev")


def test_the_build_tools_are_locked_and_the_dropped_packages_are_gone():
    dev = pins("dev.txt")

    assert {"pip", "setuptools", "pip-tools"} <= set(dev)
    assert [name for name in ("tqdm", "factory-boy") if any(name in pins(lock) for lock in LOCKS)] == []
    assert {"python-json-logger", "django-prometheus", "sentry-sdk"} <= set(pins("base.txt"))
