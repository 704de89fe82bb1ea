"""The screening document parser (PROTOCOL.md Appendix A): typed values, absent data and 400-style errors."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from ctit_trial.errors import InvalidInput
from enrollment.rules import DocumentError, parse_screening_document
from enrollment.rules.document import UNANSWERED, LabValue
from enrollment.rules.units import convert
from tests.enrollment.documents import APPENDIX_A, DELETE, changed


def errors_of(data: dict) -> dict[str, list[str]]:
    with pytest.raises(DocumentError) as caught:
        parse_screening_document(data)
    return caught.value.errors


def test_appendix_a_document_parses_into_typed_values():
    doc = parse_screening_document(APPENDIX_A)

    assert doc.sex == "F"
    assert doc.date_of_birth == date(1970, 5, 1)
    assert doc.planned_infusion_at == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert doc.weight_kg == Decimal("55")
    assert doc.labs.inr == LabValue(value=Decimal("1.1"), unit="ratio", uln=Decimal("1.2"), lln=None)
    assert doc.labs.anc.value == Decimal("2.1")
    assert doc.pregnancy_test.date == date(2026, 3, 1)
    assert doc.serology.hbv_dna_iu_ml == Decimal("500")
    assert doc.history.last_anticoagulant_on is None
    assert doc.last_platelet_transfusion_at is None


def test_document_is_frozen():
    doc = parse_screening_document(APPENDIX_A)

    with pytest.raises(AttributeError):
        doc.ecog = 3  # type: ignore[misc]


def test_empty_document_parses_with_every_field_absent():
    doc = parse_screening_document({})

    assert doc.sex is None
    assert doc.pregnancy_test is None
    assert doc.labs.platelets is None
    assert doc.serology.hbcab is None
    assert doc.history.severe_bleeding is None
    assert doc.history.last_anticoagulant_on is UNANSWERED
    assert doc.last_platelet_transfusion_at is UNANSWERED


def test_null_event_means_none_on_record_and_absent_event_means_unanswered():
    doc = parse_screening_document(changed({"history.last_thromboembolism_on": DELETE}))

    assert doc.history.last_thromboembolism_on is UNANSWERED
    assert doc.history.last_catheter_thrombosis_on is None


def test_instant_with_z_suffix_is_utc():
    doc = parse_screening_document(changed({"last_platelet_transfusion_at": "2026-03-07T01:00:00Z"}))

    assert doc.last_platelet_transfusion_at == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"labs.creatinine.unit": "mmol/L"},
            "labs.creatinine.unit",
            "Unknown unit 'mmol/L'; expected one of: umol/L, mg/dL.",
        ),
        (
            {"labs.total_bilirubin.unit": "mmol/L"},
            "labs.total_bilirubin.unit",
            "Unknown unit 'mmol/L'; expected one of: umol/L, mg/dL.",
        ),
        (
            {"labs.hemoglobin.unit": "mg/dL"},
            "labs.hemoglobin.unit",
            "Unknown unit 'mg/dL'; expected one of: g/L, g/dL.",
        ),
        ({"labs.platelets.unit": "/uL"}, "labs.platelets.unit", "Unknown unit '/uL'; expected one of: 10^9/L."),
        ({"labs.anc.unit": "10^6/L"}, "labs.anc.unit", "Unknown unit '10^6/L'; expected one of: 10^9/L."),
        ({"labs.aptt.unit": "min"}, "labs.aptt.unit", "Unknown unit 'min'; expected one of: s."),
        ({"labs.inr.unit": "%"}, "labs.inr.unit", "Unknown unit '%'; expected one of: ratio."),
        ({"labs.alt.unit": "IU/L"}, "labs.alt.unit", "Unknown unit 'IU/L'; expected one of: U/L."),
        ({"labs.platelets.value": -1}, "labs.platelets.value", "Must not be negative."),
        ({"labs.anc.value": -0.1}, "labs.anc.value", "Must not be negative."),
        ({"labs.creatinine.value": 0}, "labs.creatinine.value", "Must be greater than zero."),
        ({"labs.alt.uln": 0}, "labs.alt.uln", "Must be greater than zero."),
        ({"labs.alt.lln": -5}, "labs.alt.lln", "Must not be negative."),
        ({"labs.platelets.value": "72"}, "labs.platelets.value", "Must be a number."),
        ({"labs.platelets.value": True}, "labs.platelets.value", "Must be a number."),
        ({"labs.platelets.value": float("nan")}, "labs.platelets.value", "Must be a finite number."),
        ({"labs.platelets.colour": "red"}, "labs.platelets.colour", "Unknown field."),
        ({"labs.platelets": 72}, "labs.platelets", "Must be an object."),
        ({"labs.fibrinogen": {"value": 3}}, "labs.fibrinogen", "Unknown field."),
        ({"labs": []}, "labs", "Must be an object."),
        (
            {"date_of_birth": "2027-01-01"},
            "date_of_birth",
            "Date of birth 2027-01-01 is after the consent date 2026-03-02.",
        ),
        (
            {"date_of_birth": "2026-03-04", "consent_signed_on": None},
            "date_of_birth",
            "Date of birth 2026-03-04 is after the screening date 2026-03-03.",
        ),
        (
            {"screening_date": "2026-02-30"},
            "screening_date",
            "Invalid date '2026-02-30'; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"consent_signed_on": "02/03/2026"},
            "consent_signed_on",
            "Invalid date '02/03/2026'; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"planned_enrollment_date": "20260305"},
            "planned_enrollment_date",
            "Invalid date '20260305'; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"pregnancy_test.date": 20260301},
            "pregnancy_test.date",
            "Invalid date 20260301; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"history.last_anticoagulant_on": "2026-13-01"},
            "history.last_anticoagulant_on",
            "Invalid date '2026-13-01'; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"serology.hbv_dna_date": "yesterday"},
            "serology.hbv_dna_date",
            "Invalid date 'yesterday'; expected an ISO date (YYYY-MM-DD).",
        ),
        (
            {"planned_infusion_at": "2026-03-10T09:00:00"},
            "planned_infusion_at",
            "Instant '2026-03-10T09:00:00' has no UTC offset; add one (e.g. +08:00).",
        ),
        (
            {"planned_infusion_at": "2026-03-10"},
            "planned_infusion_at",
            "Invalid instant '2026-03-10'; expected ISO 8601 such as 2026-03-10T09:00:00+08:00.",
        ),
        (
            {"last_platelet_transfusion_at": "2026-03-32T09:00:00+08:00"},
            "last_platelet_transfusion_at",
            "Invalid instant '2026-03-32T09:00:00+08:00'; expected ISO 8601 such as 2026-03-10T09:00:00+08:00.",
        ),
        ({"sex": "X"}, "sex", "Unknown sex 'X'; expected one of: F, M."),
        ({"sex": "female"}, "sex", "Unknown sex 'female'; expected one of: F, M."),
        ({"ecog": 6}, "ecog", "Must be an integer from 0 to 5."),
        ({"ecog": -1}, "ecog", "Must be an integer from 0 to 5."),
        ({"ecog": 1.5}, "ecog", "Must be an integer from 0 to 5."),
        ({"ecog": True}, "ecog", "Must be an integer from 0 to 5."),
        ({"weight_kg": 0}, "weight_kg", "Must be greater than zero."),
        ({"life_expectancy_months": -1}, "life_expectancy_months", "Must not be negative."),
        ({"active_bleeding": "no"}, "active_bleeding", "Must be true or false."),
        ({"history.severe_bleeding": 0}, "history.severe_bleeding", "Must be true or false."),
        (
            {"serology.hiv_ab": "reactive"},
            "serology.hiv_ab",
            "Unknown result 'reactive'; expected one of: positive, negative.",
        ),
        ({"serology.hbv_dna_iu_ml": -1}, "serology.hbv_dna_iu_ml", "Must not be negative."),
        (
            {"pregnancy_test.result": "pos"},
            "pregnancy_test.result",
            "Unknown result 'pos'; expected one of: positive, negative.",
        ),
        ({"pregnancy_test": "negative"}, "pregnancy_test", "Must be an object."),
        ({"histroy": {}}, "histroy", "Unknown field."),
        ({"history.smoker": False}, "history.smoker", "Unknown field."),
    ],
)
def test_invalid_field_is_named_with_its_message(changes, field, message):
    assert errors_of(changed(changes)) == {field: [message]}


def test_every_error_is_collected_not_just_the_first():
    data = changed({"labs.creatinine.unit": "mmol/L", "labs.platelets.value": -3, "sex": "X", "ecog": 9})

    assert errors_of(data) == {
        "sex": ["Unknown sex 'X'; expected one of: F, M."],
        "ecog": ["Must be an integer from 0 to 5."],
        "labs.platelets.value": ["Must not be negative."],
        "labs.creatinine.unit": ["Unknown unit 'mmol/L'; expected one of: umol/L, mg/dL."],
    }


def test_birth_after_both_consent_and_screening_names_the_consent_date_once():
    errors = errors_of(changed({"date_of_birth": "2027-01-01"}))

    assert errors == {"date_of_birth": ["Date of birth 2027-01-01 is after the consent date 2026-03-02."]}


@pytest.mark.parametrize("data", [["not", "an", "object"], None, "{}"])
def test_document_that_is_not_an_object_is_rejected(data):
    assert errors_of(data) == {"non_field_errors": ["Must be an object."]}


def test_document_error_is_an_http_400_domain_error():
    with pytest.raises(InvalidInput) as caught:
        parse_screening_document(changed({"sex": "X"}))

    assert caught.value.status_code == 400
    assert caught.value.message == "The screening document is invalid."


def test_null_lab_fields_are_allowed():
    doc = parse_screening_document(changed({"labs.platelets.value": None, "labs.alt": None}))

    assert doc.labs.platelets == LabValue(value=None, unit="10^9/L", uln=None, lln=None)
    assert doc.labs.alt is None


@pytest.mark.parametrize(
    ("analyte", "value", "from_unit", "to_unit", "expected"),
    [
        ("creatinine", Decimal("88.4"), "umol/L", "mg/dL", Fraction(1)),
        ("creatinine", Decimal("79.56"), "umol/L", "mg/dL", Fraction("0.9")),
        ("creatinine", Decimal("1.5"), "mg/dL", "umol/L", Fraction("132.6")),
        ("total_bilirubin", Decimal("1"), "mg/dL", "umol/L", Fraction("17.1")),
        ("hemoglobin", Decimal("7.9"), "g/dL", "g/L", Fraction(79)),
        ("hemoglobin", Decimal("98"), "g/L", "g/L", Fraction(98)),
    ],
)
def test_unit_conversion_is_exact(analyte, value, from_unit, to_unit, expected):
    assert convert(analyte, value, from_unit, to_unit) == expected


def test_unit_conversion_between_unrelated_units_is_refused():
    with pytest.raises(ValueError, match="No conversion for platelets"):
        convert("platelets", Decimal(1), "10^9/L", "g/L")
