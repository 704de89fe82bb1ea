"""The eligibility limits of the protocol configuration (seeds/protocol.yaml `eligibility`), typed."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ctit_trial.config import ProtocolSettings

# Rules re-checked at the dosing gate take their one value from the `dosing_gate` section.
_GATE_KEYS = {
    "transfusion_free_hours": "transfusion_free_hours",
    "thrombopoietic_lookback_days": "thrombopoietic_free_days",
    "surgery_lookback_days": "surgery_free_days",
}


@dataclass(frozen=True)
class EligibilityLimits:
    """Every numeric limit the eligibility rules use; no defaults, so none is ever hard-coded."""

    age_min: int
    age_max: int
    platelets_min: Decimal
    platelets_max: Decimal
    transfusion_free_hours: int
    ecog_max: int
    life_expectancy_months_min: Decimal
    pregnancy_test_valid_days: int
    aptt_uln_multiple_max: Decimal
    inr_uln_multiple_max: Decimal
    liver_uln_multiple_max: Decimal
    creatinine_clearance_min: Decimal
    creatinine_uln_multiple_max: Decimal
    anc_min: Decimal
    hemoglobin_min: Decimal
    hbv_dna_max_iu_ml: Decimal
    hbv_dna_lookback_months: int
    thromboembolism_lookback_months: int
    catheter_thrombosis_lookback_months: int
    cardiac_lookback_months: int
    anticoagulant_lookback_days: int
    thrombopoietic_lookback_days: int
    surgery_lookback_days: int
    similar_product_lookback_days: int

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> "EligibilityLimits":
        """Build from a flat mapping holding exactly the fields; raises ValueError naming bad keys."""
        names = {field.name: field.type for field in dataclasses.fields(cls)}
        absent, unknown = sorted(names.keys() - mapping.keys()), sorted(mapping.keys() - names.keys())
        if absent or unknown:
            raise ValueError(f"Eligibility limits: missing {absent or 'none'}, unknown {unknown or 'none'}.")
        return cls(**{name: _typed(name, mapping[name], kind) for name, kind in names.items()})

    @classmethod
    def from_protocol(cls, config: Mapping[str, Any]) -> "EligibilityLimits":
        """Build from the protocol configuration: `eligibility` plus the limits it shares with `dosing_gate`."""
        section, gate = dict(config["eligibility"]), config["dosing_gate"]
        duplicated = sorted(section.keys() & _GATE_KEYS.keys())
        if duplicated:
            raise ValueError(f"eligibility.{duplicated[0]} belongs in dosing_gate only (one value per rule).")
        section.update({own_key: gate[gate_key] for own_key, gate_key in _GATE_KEYS.items()})
        return cls.from_mapping(section)

    @classmethod
    def from_settings(cls, settings: ProtocolSettings) -> "EligibilityLimits":
        """The limits of the typed protocol settings (validated at load), the gate-shared ones from `dosing_gate`."""
        gate = settings.dosing_gate
        shared = {own_key: getattr(gate, gate_key) for own_key, gate_key in _GATE_KEYS.items()}
        return cls(**settings.eligibility, **shared)


def _typed(name: str, value: Any, kind: type) -> int | Decimal:
    """One limit as its declared type: int stays int, numbers become exact Decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"Eligibility limit {name} must be a number; got {value!r}.")
    if not value >= 0:
        raise ValueError(f"Eligibility limit {name} must not be negative; got {value!r}.")
    if kind is int:
        if not isinstance(value, int):
            raise ValueError(f"Eligibility limit {name} must be a whole number; got {value!r}.")
        return value
    return Decimal(str(value))
