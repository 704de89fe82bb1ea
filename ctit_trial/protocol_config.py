"""The seeded protocol configuration as parsed mappings, read through the one typed loader (ctit_trial.config)."""

from typing import Any

from ctit_trial.config import SEEDS_DIR, protocol_seed, seed_mapping

__all__ = ("SEEDS_DIR", "load_seed", "protocol_config")


def load_seed(name: str) -> Any:
    """The parsed mapping of one seeds/ file, validated by its typed model at first load (cached)."""
    return seed_mapping(name)


def protocol_config() -> dict[str, Any]:
    """seeds/protocol.yaml as a mapping of sections (validated; the run-time values come from the database)."""
    protocol_seed()
    return seed_mapping("protocol.yaml")
