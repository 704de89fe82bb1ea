"""Every seeds/ file is validated once, at load, by its typed model: a bad value is refused naming its path."""

import copy
from decimal import Decimal

import pytest
import yaml

from ctit_trial.config import ConfigFileError, protocol_seed, protocol_settings, seed_mapping
from ctit_trial.config.loader import SEED_FILES, parse_seed_text, seed_path


def with_value(name: str, path: tuple, value) -> str:
    """The text of seeds/<name> with the value at path replaced (None as a path end deletes the key)."""
    data = copy.deepcopy(seed_mapping(name))
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


DELETE = object()

BAD_VALUES = [
    (
        "protocol.yaml",
        ("scheduling", "sentinel_days"),
        "fourteen",
        'seeds/protocol.yaml: scheduling.sentinel_days: must be a whole number ≥ 1, got "fourteen"',
    ),
    (
        "protocol.yaml",
        ("scheduling", "dlt_window_days"),
        27.5,
        "seeds/protocol.yaml: scheduling.dlt_window_days: must be a whole number ≥ 1, got 27.5",
    ),
    (
        "protocol.yaml",
        ("trial", "protocol_version"),
        1.0,
        "seeds/protocol.yaml: trial.protocol_version: must be text (quote it), got 1.0",
    ),
    (
        "protocol.yaml",
        ("dose_levels", 1, "viable_cells"),
        50_000_000,
        "seeds/protocol.yaml: dose_levels[1].viable_cells: must be more than level 1's 100000000",
    ),
    (
        "protocol.yaml",
        ("escalation", "options", "titration_trigger"),
        "sometimes",
        "seeds/protocol.yaml: escalation.options.titration_trigger: "
        'must be one of dlt_or_related_grade2, dlt_only, add_one, got "sometimes"',
    ),
    (
        "protocol.yaml",
        ("escalation", "boin", "target"),
        0.8,
        "seeds/protocol.yaml: escalation.boin.target: must be a number below 0.714, got 0.8",
    ),
    (
        "protocol.yaml",
        ("dosing_gate", "reconfirmation_platelets_max"),
        40,
        "seeds/protocol.yaml: dosing_gate.reconfirmation_platelets_max: "
        "must not be below reconfirmation_platelets_min (50)",
    ),
    (
        "protocol.yaml",
        ("eligibility", "age_max"),
        17,
        "seeds/protocol.yaml: eligibility.age_max: must not be below age_min (18), got 17",
    ),
    (
        "protocol.yaml",
        ("eligibility", "anc_min"),
        "1.0",
        'seeds/protocol.yaml: eligibility.anc_min: must be a number ≥ 0, got "1.0"',
    ),
    (
        "protocol.yaml",
        ("visits", 3, "window_before"),
        -1,
        "seeds/protocol.yaml: visits[3].window_before: must be a whole number ≥ 0, got -1",
    ),
    (
        "protocol.yaml",
        ("safety", "sae_alert_hours", 1),
        30,
        "seeds/protocol.yaml: safety.sae_alert_hours[1]: must be a whole number between 1 and 23, got 30",
    ),
    (
        "protocol.yaml",
        ("notifications", "morning_reminder_local_time"),
        480,  # what YAML makes of an unquoted 8:00
        'seeds/protocol.yaml: notifications.morning_reminder_local_time: must be a local time "HH:MM" in quotes, '
        "got 480",
    ),
    (
        "protocol.yaml",
        ("scheduling", "screening_labs_valid_days"),
        DELETE,
        "seeds/protocol.yaml: scheduling.screening_labs_valid_days: is missing",
    ),
    (
        "criteria.yaml",
        ("criteria", 3, "code"),
        "IN9",
        'seeds/criteria.yaml: criteria[3].code: inclusion 4 is IN4, got "IN9"',
    ),
    (
        "criteria.yaml",
        ("criteria", 0, "kind"),
        "inclusive",
        'seeds/criteria.yaml: criteria[0].kind: must be one of inclusion, exclusion, got "inclusive"',
    ),
    (
        "dlt_rules.yaml",
        ("dlt_rules", "flag_rules", 1, "min_grade"),
        6,
        "seeds/dlt_rules.yaml: dlt_rules.flag_rules[1].min_grade: must be a whole number between 1 and 5, got 6",
    ),
    (
        "dlt_rules.yaml",
        ("dlt_rules", "non_hematologic", "fever_resolved_within_hours"),
        "three days",
        "seeds/dlt_rules.yaml: dlt_rules.non_hematologic.fever_resolved_within_hours: must be a number ≥ 0, "
        'got "three days"',
    ),
    (
        "dlt_rules.yaml",
        ("dlt_rules", "related_levels", 2),
        "maybe",
        "seeds/dlt_rules.yaml: dlt_rules.related_levels[2]: "
        'must be one of definitely, probably, possibly, unlikely, not_related, got "maybe"',
    ),
    (
        "ctcae_v5.yaml",
        ("terms", "platelet_count_decreased", "meddra_code"),
        10035528,
        "seeds/ctcae_v5.yaml: terms.platelet_count_decreased.meddra_code: must be text (quote it), got 10035528",
    ),
    (
        "ctcae_v5.yaml",
        ("terms", "fever", "temperature", "thresholds", 1, "op"),
        "=>",
        'seeds/ctcae_v5.yaml: terms.fever.temperature.thresholds[1].op: must be one of <, <=, >, >=, got "=>"',
    ),
    (
        "ctcae_v5.yaml",
        ("terms", "anemia", "category"),
        "blood",
        'seeds/ctcae_v5.yaml: terms.anemia.category: must be one of hematologic, non_hematologic, got "blood"',
    ),
    (
        "demo.yaml",
        ("users", 0, "role"),
        "boss",
        "seeds/demo.yaml: users[0].role: must be one of data_manager, investigator, monitor, sponsor_safety, "
        'src_member, study_coordinator, got "boss"',
    ),
    (
        "demo.yaml",
        ("subjects", "DEMO2"),
        "one",
        'seeds/demo.yaml: subjects.DEMO2: must be a whole number ≥ 0, got "one"',
    ),
]


@pytest.mark.parametrize(("name", "path", "value", "message"), BAD_VALUES, ids=[f"{c[0]}:{c[1]}" for c in BAD_VALUES])
def test_a_bad_value_is_refused_naming_the_file_and_its_path(name, path, value, message):
    with pytest.raises(ConfigFileError) as raised:
        parse_seed_text(name, with_value(name, path, value))

    assert str(raised.value) == message


def test_every_seed_file_has_a_bad_value_case():
    assert {case[0] for case in BAD_VALUES} == set(SEED_FILES)


@pytest.mark.parametrize("name", sorted(SEED_FILES))
def test_the_shipped_seed_files_load(name):
    parse_seed_text(name, seed_path(name).read_text(encoding="utf-8"))


def test_an_unknown_key_is_named_with_the_known_ones():
    text = with_value("protocol.yaml", ("scheduling", "sentinal_days"), 14)

    with pytest.raises(
        ConfigFileError, match=r"^seeds/protocol.yaml: scheduling.sentinal_days: is not a known key here"
    ):
        parse_seed_text("protocol.yaml", text)


def test_a_dlt_window_without_a_visit_ending_it_is_refused():
    text = with_value("protocol.yaml", ("scheduling", "dlt_window_days"), 21)

    with pytest.raises(ConfigFileError) as raised:
        parse_seed_text("protocol.yaml", text)

    assert str(raised.value) == (
        "seeds/protocol.yaml: visits: no visit ends the DLT window: scheduling.dlt_window_days is 21"
    )


def test_yaml_that_does_not_parse_names_its_line():
    with pytest.raises(ConfigFileError, match=r"^seeds/protocol.yaml: line 3: is not valid YAML"):
        parse_seed_text("protocol.yaml", "trial:\n  code: [unclosed\n")


def test_the_typed_model_carries_exact_values():
    seed = protocol_seed()

    assert seed.settings.scheduling.sentinel_days == 14
    assert seed.settings.eligibility["anc_min"] == Decimal("1.0")
    assert seed.settings.escalation.boin.target == Decimal("0.30")
    assert [level.viable_cells for level in seed.dose_levels] == [100_000_000, 300_000_000, 600_000_000]
    assert seed.settings.safety.platelet_equivalent_factor is None


def test_the_database_copy_goes_through_the_same_model():
    configuration = copy.deepcopy(dict(protocol_seed().settings.sections))
    configuration["scheduling"]["sentinel_days"] = "fourteen"

    with pytest.raises(ConfigFileError) as raised:
        protocol_settings(configuration)

    assert str(raised.value) == (
        "the database copy (Protocol.configuration): scheduling.sentinel_days: "
        'must be a whole number ≥ 1, got "fourteen"'
    )
