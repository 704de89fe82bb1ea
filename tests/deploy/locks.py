"""Reading the lock files of requirements/ (pip-compile output: `name==version` lines with `--hash=` options)."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", flags=re.MULTILINE)


def canonical(name: str) -> str:
    """The normalised project name (PEP 503): `Django` and `django`, `python_json_logger` and `python-json-logger`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    """{name: version} of one lock file of requirements/."""
    text = (REQUIREMENTS / lock).read_text()
    return {canonical(name): version for name, version in PIN.findall(text)}


def requirement_blocks(lock: str) -> dict[str, str]:
    """{name: its requirement with its hash options} of one lock file."""
    text = (REQUIREMENTS / lock).read_text()
    starts = [(match.start(), canonical(match.group(1))) for match in PIN.finditer(text)]
    ends = [start for start, _ in starts[1:]] + [len(text)]
    return {name: text[start:end] for (start, name), end in zip(starts, ends, strict=True)}


def pyproject_pins(extra: str | None = None) -> dict[str, str]:
    """{name: version} of pyproject's dependencies (or of one optional-dependencies extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    parsed = [re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)$", requirement) for requirement in requirements]
    assert all(parsed), f"every dependency is pinned with ==: {requirements}"
    return {canonical(match.group(1)): match.group(2) for match in parsed}
