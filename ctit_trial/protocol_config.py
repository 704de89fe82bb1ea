"""Reads the seeded protocol configuration (seeds/protocol.yaml), the one source of protocol values."""

from functools import cache
from typing import Any

import yaml

from ctit_trial.data_dirs import data_dir

SEEDS_DIR = data_dir("seeds")  # ctit_trial/seeds in the installed wheel, seeds/ in the checkout


@cache
def load_seed(name: str) -> Any:
    """Parse one YAML file of seeds/ (cached; the files do not change while the process runs)."""
    with (SEEDS_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def protocol_config() -> dict[str, Any]:
    """The trial's protocol configuration as a mapping of sections."""
    return load_seed("protocol.yaml")
