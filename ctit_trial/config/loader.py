"""The one loader of seeds/*.yaml: each file parsed once, validated by its typed model, cached for the process."""

import json
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from ctit_trial.config.errors import ConfigFileError
from ctit_trial.config.protocol import ProtocolSeed, ProtocolSettings, protocol_seed_from, protocol_settings_from
from ctit_trial.config.reader import Node, shown
from ctit_trial.config.reference import (
    CriteriaSeed,
    CtcaeSeed,
    DemoSeed,
    DltRulesSeed,
    criteria_seed_from,
    ctcae_seed_from,
    demo_seed_from,
    dlt_rules_seed_from,
)
from ctit_trial.data_dirs import data_dir

SEEDS_DIR = data_dir("seeds")  # ctit_trial/seeds in the installed wheel, seeds/ in the checkout
DATABASE_COPY = "the database copy (Protocol.configuration)"
SEED_FILES: dict[str, Callable[[Node], Any]] = {
    "protocol.yaml": protocol_seed_from,
    "criteria.yaml": criteria_seed_from,
    "dlt_rules.yaml": dlt_rules_seed_from,
    "ctcae_v5.yaml": ctcae_seed_from,
    "demo.yaml": demo_seed_from,
}


def parse_seed_text(name: str, text: str) -> tuple[Any, Any]:
    """(parsed mapping, typed model) of one seed file's text; ConfigFileError naming the file and the path."""
    label = f"seeds/{name}"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top level)"
        raise ConfigFileError(label, where, f"is not valid YAML ({getattr(error, 'problem', error)})") from error
    return data, SEED_FILES[name](Node(data, label))


@cache
def _load(name: str) -> tuple[Any, Any]:
    return parse_seed_text(name, (SEEDS_DIR / name).read_text(encoding="utf-8"))


def seed_mapping(name: str) -> Any:
    """The parsed mapping of one seed file, once its typed model has accepted it (cached)."""
    return _load(name)[0]


def protocol_seed() -> ProtocolSeed:
    """seeds/protocol.yaml, typed."""
    return _load("protocol.yaml")[1]


def criteria_seed() -> CriteriaSeed:
    """seeds/criteria.yaml, typed."""
    return _load("criteria.yaml")[1]


def dlt_rules_seed() -> DltRulesSeed:
    """seeds/dlt_rules.yaml, typed."""
    return _load("dlt_rules.yaml")[1]


def ctcae_seed() -> CtcaeSeed:
    """seeds/ctcae_v5.yaml, typed; its version must be the protocol's CTCAE version."""
    seed = _load("ctcae_v5.yaml")[1]
    expected = protocol_seed().trial.ctcae_version
    if seed.ctcae_version != expected:
        raise ConfigFileError(
            "seeds/ctcae_v5.yaml",
            "ctcae_version",
            f"must match seeds/protocol.yaml trial.ctcae_version ({shown(expected)}), got {shown(seed.ctcae_version)}",
        )
    return seed


def demo_seed() -> DemoSeed:
    """seeds/demo.yaml, typed."""
    return _load("demo.yaml")[1]


def protocol_settings(configuration: Mapping[str, Any]) -> ProtocolSettings:
    """The typed run-time settings of a protocol record's `configuration` (validated like the seed, cached)."""
    return _settings_of(json.dumps(configuration, sort_keys=True))


@lru_cache(maxsize=32)
def _settings_of(configuration_json: str) -> ProtocolSettings:
    return protocol_settings_from(Node(json.loads(configuration_json), DATABASE_COPY))


def seed_path(name: str) -> Path:
    """Where a seed file is read from."""
    return SEEDS_DIR / name
