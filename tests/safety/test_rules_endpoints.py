"""Platelet endpoints (PROTOCOL.md §7): worked checks, units, and CCI/PPR without a configured factor."""

from decimal import Decimal

import pytest

from safety.rules.endpoints import (
    EndpointConfig,
    EndpointSubject,
    PlateletEndpoint,
    Sex,
    delta_platelets_10e9_per_l,
    load_endpoint_config,
    modified_cci,
    modified_ppr_percent,
    mosteller_bsa_m2,
    nadler_blood_volume_l,
    per_ul_from_10e9_per_l,
    platelet_endpoint,
    platelet_equivalent_dose,
)

FOUR_DP = Decimal("0.0001")
THREE_DP = Decimal("0.001")

SUBJECT = EndpointSubject(
    height_cm=Decimal(170),
    weight_kg=Decimal(70),
    sex=Sex.MALE,
    baseline_platelets_10e9_per_l=Decimal(60),
    viable_cells_infused=Decimal("3E8"),
)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "bsa"),
    [(170, 70, "1.8181"), (160, 55, "1.5635"), (180, 90, "2.1213"), ("175.5", "62.3", "1.7427")],
)
def test_mosteller_bsa(height_cm, weight_kg, bsa):
    assert mosteller_bsa_m2(height_cm, weight_kg).quantize(FOUR_DP) == Decimal(bsa)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "sex", "volume"),
    [
        (170, 70, Sex.MALE, "4.660"),  # 0.3669·1.7³ + 0.03219·70 + 0.6041 = 4.6599797
        (170, 70, "male", "4.660"),
        (160, 55, Sex.FEMALE, "3.461"),  # 0.3561·1.6³ + 0.03308·55 + 0.1833 = 3.4612856
        (170, 70, Sex.FEMALE, "4.248"),  # 0.3561·4.913 + 0.03308·70 + 0.1833 = 4.2484193
    ],
)
def test_nadler_blood_volume(height_cm, weight_kg, sex, volume):
    assert nadler_blood_volume_l(height_cm, weight_kg, sex).quantize(THREE_DP) == Decimal(volume)


def test_nadler_exact_value():
    assert nadler_blood_volume_l(170, 70, Sex.MALE) == Decimal("4.6599797")


def test_unknown_sex_is_refused():
    with pytest.raises(ValueError, match="'other' is not a valid Sex"):
        nadler_blood_volume_l(170, 70, "other")


@pytest.mark.parametrize(("value", "name"), [(0, "height_cm"), (-170, "height_cm")])
def test_non_positive_body_size_is_refused(value, name):
    with pytest.raises(ValueError, match=f"{name} must be positive"):
        mosteller_bsa_m2(value, 70)


@pytest.mark.parametrize(
    ("count", "baseline", "delta"),
    [(80, 60, "20"), ("55.5", 60, "-4.5"), (60, 60, "0"), (0.1 + 0.2, 0, "0.30000000000000004")],
)
def test_delta_platelets(count, baseline, delta):
    assert delta_platelets_10e9_per_l(count, baseline) == Decimal(delta)


def test_units_10e9_per_l_to_per_ul():
    assert per_ul_from_10e9_per_l(20) == Decimal(20000)
    assert per_ul_from_10e9_per_l("0.5") == Decimal(500)


def test_cci_worked_check():
    # ΔPLT 20,000/µL, BSA 1.8 m², 3×10¹¹ platelets → 12,000
    assert modified_cci(20000, Decimal("1.8"), Decimal("3E11")) == Decimal(12000)


def test_cci_from_10e9_per_l():
    assert modified_cci(per_ul_from_10e9_per_l(20), "1.8", "3E11") == Decimal(12000)


def test_ppr_worked_value():
    # 20 ×10⁹/L × 4.5 L × 10⁹ / 3×10¹¹ × 100 = 30 %
    assert modified_ppr_percent(20, "4.5", "3E11") == Decimal(30)


def test_platelet_equivalent_dose():
    assert platelet_equivalent_dose("3E8", 1000) == Decimal("3E11")
    assert platelet_equivalent_dose("3E8", None) is None


def test_zero_dose_is_refused():
    with pytest.raises(ValueError, match="platelet_equivalent_dose must be positive"):
        modified_cci(20000, "1.8", 0)


def test_protocol_leaves_the_factor_unset():
    assert load_endpoint_config() == EndpointConfig(platelet_equivalent_factor=None)


def test_config_factor_is_exact():
    assert EndpointConfig.from_mapping({"platelet_equivalent_factor": 1000.5}).platelet_equivalent_factor == Decimal(
        "1000.5"
    )


def test_endpoint_without_factor_reports_delta_only_with_reason():
    result = platelet_endpoint("D7", 85, subject=SUBJECT, config=EndpointConfig(None))
    assert result == PlateletEndpoint(
        time_point="D7",
        platelets_10e9_per_l=Decimal(85),
        delta_platelets_10e9_per_l=Decimal(25),
        cci=None,
        ppr_percent=None,
        reason="CCI and PPR not computed: the protocol's platelet-equivalent factor is not configured",
    )


def test_endpoint_with_factor():
    # given 3×10⁸ viable cells × 1,000 platelets per cell = 3×10¹¹ platelet-equivalents
    config = EndpointConfig(Decimal(1000))
    # when the count rises from 60 to 80 ×10⁹/L
    result = platelet_endpoint("1h", 80, subject=SUBJECT, config=config)
    # then CCI = 20,000 × 1.81812 / 3 and PPR = 20 × 4.66 × 10⁹ / 3×10¹¹ × 100
    assert result.delta_platelets_10e9_per_l == Decimal(20)
    assert result.cci.quantize(Decimal(1)) == Decimal(12121)
    assert result.ppr_percent.quantize(Decimal("0.01")) == Decimal("31.07")
    assert result.reason == "computed"


def test_endpoint_with_a_fall_gives_negative_values():
    result = platelet_endpoint("D2", 50, subject=SUBJECT, config=EndpointConfig(Decimal(1000)))
    assert result.delta_platelets_10e9_per_l == Decimal(-10)
    assert result.cci < 0 and result.ppr_percent < 0
