"""Typed options of the escalation designs, built from the protocol configuration (seeds/protocol.yaml)."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctit_trial.config.protocol import DESIGNS, TITRATION_TRIGGERS
from ctit_trial.protocol_config import protocol_config


class ConfigError(ValueError):
    """An escalation option (from the configuration or an override) is not valid."""


@dataclass(frozen=True)
class EscalationOptions:
    """Options of the default design: accelerated titration at level 1, then 3+3 (PROTOCOL.md §4.1)."""

    n_levels: int
    titration_trigger: str
    mtd_requires: int
    confirm_top_dose: bool

    def __post_init__(self) -> None:
        _require(_is_int(self.n_levels) and self.n_levels >= 1, "n_levels must be a whole number ≥ 1")
        _require(
            self.titration_trigger in TITRATION_TRIGGERS,
            f"titration_trigger must be one of {', '.join(TITRATION_TRIGGERS)}",
        )
        # Fewer than 3 would let "≤1 DLT" declare an MTD on 1 DLT in 1 or 2 subjects.
        _require(_is_int(self.mtd_requires) and self.mtd_requires >= 3, "mtd_requires must be a whole number ≥ 3")
        _require(isinstance(self.confirm_top_dose, bool), "confirm_top_dose must be true or false")


@dataclass(frozen=True)
class BoinOptions:
    """Options of the BOIN design (Liu & Yuan 2015; PROTOCOL.md §4.3)."""

    n_levels: int
    target: float
    cohort_size: int
    n_cohorts: int
    elimination_cutoff: float
    elimination_min_n: int

    def __post_init__(self) -> None:
        _require(_is_int(self.n_levels) and self.n_levels >= 1, "n_levels must be a whole number ≥ 1")
        # 1.4 × target must stay a probability for the de-escalation boundary to exist.
        _require(
            _is_real(self.target) and 0 < self.target < 1 / 1.4,
            "target must lie strictly between 0 and 1/1.4 (≈ 0.714)",
        )
        _require(_is_int(self.cohort_size) and self.cohort_size >= 1, "cohort_size must be a whole number ≥ 1")
        _require(_is_int(self.n_cohorts) and self.n_cohorts >= 1, "n_cohorts must be a whole number ≥ 1")
        _require(
            _is_real(self.elimination_cutoff) and 0 < self.elimination_cutoff < 1,
            "elimination_cutoff must lie strictly between 0 and 1",
        )
        _require(
            _is_int(self.elimination_min_n) and self.elimination_min_n >= 1,
            "elimination_min_n must be a whole number ≥ 1",
        )

    @property
    def max_subjects(self) -> int:
        """The most evaluable subjects the trial doses: cohort size × number of cohorts."""
        return self.cohort_size * self.n_cohorts


def configured_design(config: Mapping[str, Any] | None = None) -> str:
    """The design the protocol selects (`escalation.design`)."""
    design = _config(config)["escalation"]["design"]
    _require(design in DESIGNS, f"escalation.design must be one of {', '.join(DESIGNS)}")
    return design


def escalation_options(config: Mapping[str, Any] | None = None, **overrides: Any) -> EscalationOptions:
    """AT+3+3 options from `escalation.options`; overrides given as None keep the configured value."""
    config = _config(config)
    values = {"n_levels": len(config["dose_levels"]), **config["escalation"]["options"]}
    return _build(EscalationOptions, values, overrides)


def boin_options(config: Mapping[str, Any] | None = None, **overrides: Any) -> BoinOptions:
    """BOIN options from `escalation.boin`; overrides given as None keep the configured value."""
    config = _config(config)
    values = {"n_levels": len(config["dose_levels"]), **config["escalation"]["boin"]}
    return _build(BoinOptions, values, overrides)


def _build(options_class: type, values: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
    """Instantiate an options class, naming unknown keys instead of failing with a TypeError."""
    merged = {**values, **{key: value for key, value in overrides.items() if value is not None}}
    known = {field.name for field in dataclasses.fields(options_class)}
    unknown = sorted(set(merged) - known)
    _require(not unknown, f"unknown escalation option(s): {', '.join(unknown)}")
    missing = sorted(known - set(merged))
    _require(not missing, f"missing escalation option(s): {', '.join(missing)}")
    return options_class(**merged)


def _config(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return protocol_config() if config is None else config


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
