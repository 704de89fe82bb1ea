"""docker-compose.yml as Compose reads it: YAML with anchors, then `${VAR}` interpolation from the environment."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
VARIABLE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})")


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset or empty: `docker compose` stops with the message."""


def compose_raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def interpolate(value, environment: dict[str, str]):
    """The value with Compose's interpolation applied: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$."""
    if isinstance(value, dict):
        return {key: interpolate(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environment) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if name is None:
            return "$"
        current = environment.get(name)
        unset = current is None or (current == "" and operator and operator.startswith(":"))
        if operator in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {argument}")
        if operator in (":-", "-") and unset:
            return argument
        return current or ""

    return VARIABLE.sub(replace, value)


def compose(environment: dict[str, str]) -> dict:
    return interpolate(compose_raw(), environment)


def variables_used() -> set[str]:
    return {match.group(1) for match in VARIABLE.finditer(COMPOSE_FILE.read_text()) if match.group(1)}
