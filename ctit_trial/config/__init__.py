"""The protocol configuration: one loader for every seeds/*.yaml file, validated once at load by typed models.

At run time the protocol values come from the seeded database copy (`Protocol.configuration`), validated by the
same models (`protocol_settings`); the files under seeds/ are what `manage.py seed` loads (ADR 0019).
"""

from ctit_trial.config.errors import ConfigFileError
from ctit_trial.config.loader import (
    SEED_FILES,
    SEEDS_DIR,
    criteria_seed,
    ctcae_seed,
    demo_seed,
    dlt_rules_seed,
    protocol_seed,
    protocol_settings,
    seed_mapping,
)
from ctit_trial.config.protocol import ProtocolSeed, ProtocolSettings

__all__ = (
    "SEED_FILES",
    "SEEDS_DIR",
    "ConfigFileError",
    "ProtocolSeed",
    "ProtocolSettings",
    "criteria_seed",
    "ctcae_seed",
    "demo_seed",
    "dlt_rules_seed",
    "protocol_seed",
    "protocol_settings",
    "seed_mapping",
)
