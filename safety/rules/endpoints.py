"""Platelet endpoints (PROTOCOL.md §7): ΔPLT, Mosteller BSA, Nadler blood volume, modified CCI and PPR.

Units are in the names: platelet counts in ×10⁹/L (numerically equal to ×10³/µL), per_ul = per microlitre.
Results are exact Decimals, unrounded; presentation rounds (BSA 4 dp, blood volume 3 dp).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ctit_trial.config import protocol_seed
from safety.rules.catalogue import to_decimal

Number = Decimal | int | float | str

# Published formula constants (Mosteller 1987; Nadler 1962), not protocol values.
_MOSTELLER_DIVISOR = Decimal(3600)
_NADLER = {
    "male": (Decimal("0.3669"), Decimal("0.03219"), Decimal("0.6041")),
    "female": (Decimal("0.3561"), Decimal("0.03308"), Decimal("0.1833")),
}
_PER_UL_PER_10E9_PER_L = Decimal(1000)  # 1×10⁹/L = 1,000/µL
_CCI_DOSE_UNIT = Decimal(10) ** 11
_PPR_COUNT_UNIT = Decimal(10) ** 9
_CM_PER_M = Decimal(100)


class Sex(StrEnum):
    """Sex for the Nadler blood-volume formula."""

    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class EndpointConfig:
    """The protocol's platelet-equivalent factor (platelets per viable cell infused); None = not configured."""

    platelet_equivalent_factor: Decimal | None

    @classmethod
    def from_mapping(cls, safety: Mapping[str, Any]) -> "EndpointConfig":
        """Typed endpoint configuration from the `safety` section."""
        factor = safety.get("platelet_equivalent_factor")
        return cls(None if factor is None else to_decimal(factor, name="platelet_equivalent_factor"))


def load_endpoint_config() -> EndpointConfig:
    """The endpoint configuration of seeds/protocol.yaml."""
    return EndpointConfig(protocol_seed().settings.safety.platelet_equivalent_factor)


@dataclass(frozen=True)
class EndpointSubject:
    """The per-subject facts behind the endpoints: body size, sex, baseline count and cells infused."""

    height_cm: Decimal
    weight_kg: Decimal
    sex: Sex
    baseline_platelets_10e9_per_l: Decimal
    viable_cells_infused: Decimal


@dataclass(frozen=True)
class PlateletEndpoint:
    """The endpoints at one time point; CCI and PPR are None (with the reason) when they cannot be computed."""

    time_point: str
    platelets_10e9_per_l: Decimal
    delta_platelets_10e9_per_l: Decimal
    cci: Decimal | None
    ppr_percent: Decimal | None
    reason: str


def _positive(value: Number, name: str) -> Decimal:
    number = to_decimal(value, name=name)
    if number <= 0:
        raise ValueError(f"{name} must be positive, not {value}.")
    return number


def mosteller_bsa_m2(height_cm: Number, weight_kg: Number) -> Decimal:
    """Body surface area (m²) by Mosteller: √(height_cm × weight_kg / 3600)."""
    product = _positive(height_cm, "height_cm") * _positive(weight_kg, "weight_kg")
    return (product / _MOSTELLER_DIVISOR).sqrt()


def nadler_blood_volume_l(height_cm: Number, weight_kg: Number, sex: Sex | str) -> Decimal:
    """Blood volume (L) by Nadler: a·H³ + b·W + c with H in metres and W in kg, coefficients by sex."""
    height_m = _positive(height_cm, "height_cm") / _CM_PER_M
    cubic, linear, constant = _NADLER[Sex(sex).value]
    return cubic * height_m**3 + linear * _positive(weight_kg, "weight_kg") + constant


def delta_platelets_10e9_per_l(platelets_10e9_per_l: Number, baseline_10e9_per_l: Number) -> Decimal:
    """ΔPLT (×10⁹/L): the count at a time point minus the pre-infusion baseline."""
    return to_decimal(platelets_10e9_per_l, name="platelets") - to_decimal(baseline_10e9_per_l, name="baseline")


def per_ul_from_10e9_per_l(count_10e9_per_l: Number) -> Decimal:
    """A count in ×10⁹/L expressed per µL (20 ×10⁹/L = 20,000/µL)."""
    return to_decimal(count_10e9_per_l) * _PER_UL_PER_10E9_PER_L


def platelet_equivalent_dose(viable_cells: Number, factor: Number | None) -> Decimal | None:
    """Platelet-equivalent dose = viable cells infused × factor; None when the factor is not configured."""
    if factor is None:
        return None
    return _positive(viable_cells, "viable_cells") * _positive(factor, "platelet_equivalent_factor")


def modified_cci(delta_per_ul: Number, bsa_m2: Number, platelet_equivalent_dose: Number) -> Decimal:
    """Modified CCI = ΔPLT (per µL) × BSA (m²) / (platelet-equivalent dose / 10¹¹)."""
    dose = _positive(platelet_equivalent_dose, "platelet_equivalent_dose")
    return to_decimal(delta_per_ul) * to_decimal(bsa_m2) / (dose / _CCI_DOSE_UNIT)


def modified_ppr_percent(delta_10e9_per_l: Number, blood_volume_l: Number, platelet_equivalent_dose: Number) -> Decimal:
    """Modified PPR (%) = ΔPLT (×10⁹/L) × blood volume (L) × 10⁹ / platelet-equivalent dose × 100."""
    dose = _positive(platelet_equivalent_dose, "platelet_equivalent_dose")
    return to_decimal(delta_10e9_per_l) * to_decimal(blood_volume_l) * _PPR_COUNT_UNIT / dose * 100


def platelet_endpoint(
    time_point: str, platelets_10e9_per_l: Number, *, subject: EndpointSubject, config: EndpointConfig
) -> PlateletEndpoint:
    """ΔPLT, modified CCI and modified PPR at one time point (1h, 2h, 4h, D2, D3, D7, D14, D28)."""
    count = to_decimal(platelets_10e9_per_l, name="platelets_10e9_per_l")
    delta = delta_platelets_10e9_per_l(count, subject.baseline_platelets_10e9_per_l)
    dose = platelet_equivalent_dose(subject.viable_cells_infused, config.platelet_equivalent_factor)
    if dose is None:
        reason = "CCI and PPR not computed: the protocol's platelet-equivalent factor is not configured"
        return PlateletEndpoint(time_point, count, delta, None, None, reason)
    bsa = mosteller_bsa_m2(subject.height_cm, subject.weight_kg)
    volume = nadler_blood_volume_l(subject.height_cm, subject.weight_kg, subject.sex)
    cci = modified_cci(per_ul_from_10e9_per_l(delta), bsa, dose)
    ppr = modified_ppr_percent(delta, volume, dose)
    return PlateletEndpoint(time_point, count, delta, cci, ppr, "computed")
