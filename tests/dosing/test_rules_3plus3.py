"""Accelerated titration at level 1, then 3+3 (PROTOCOL.md §4.1–4.2): every branch, every option."""

import json
from dataclasses import replace

import pytest

from dosing.rules.config import ConfigError, EscalationOptions, escalation_options
from dosing.rules.decision import Decision
from dosing.rules.path import DosePathError, count_by_level, parse_dose_path
from dosing.rules.three_plus_three import decide, next_decision

PROTOCOL = escalation_options()  # the seeded protocol's options: the §4.2 examples are stated for them


def options(**overrides) -> EscalationOptions:
    return replace(PROTOCOL, **overrides)


def outcome(decision: Decision) -> tuple:
    return decision.action, decision.dose_level, decision.subjects


def test_the_protocol_options_are_the_documented_defaults():
    assert (
        EscalationOptions(n_levels=3, titration_trigger="dlt_or_related_grade2", mtd_requires=6, confirm_top_dose=True)
        == PROTOCOL
    )


DEFAULT_CASES = [
    # §4.2 examples
    ("", "enroll", 1, 1),
    ("1P", "hold", None, None),
    ("1N", "escalate", 2, 3),
    ("1T", "enroll", 1, 2),
    ("1N 2NNN", "escalate", 3, 3),
    # accelerated titration at level 1
    ("1G", "enroll", 1, 2),
    ("1X", "enroll", 1, 1),
    ("1X 1P", "hold", None, None),
    ("1X 1N", "escalate", 2, 3),
    ("1TP", "enroll", 1, 1),
    ("1G 1N", "enroll", 1, 1),
    ("1G 1NP", "hold", None, None),
    ("1G 1NN", "escalate", 2, 3),
    ("1T 1NN", "enroll", 1, 3),  # 1 DLT in 3 at level 1 → 3 more (the protocol's 3+3, not escalation)
    ("1T 1NNNNN", "escalate", 2, 3),
    ("1T 1NNNNT", "stop", None, None),
    ("1TT", "stop", None, None),
    ("1TTP", "stop", None, None),  # ≥2 DLT: decided at once, pending or not
    ("1TT 2NNN", "stop", None, None),
    # 3+3 at level 2
    ("1N 2P", "enroll", 2, 2),
    ("1N 2PPP", "hold", None, None),
    ("1N 2NNP", "hold", None, None),
    ("1N 2NNNP", "hold", None, None),
    ("1N 2T", "enroll", 2, 2),
    ("1N 2TP", "enroll", 2, 1),
    ("1N 2TPP", "hold", None, None),
    ("1N 2NTP", "hold", None, None),  # 1 DLT, one pending: no expansion until it is evaluable
    ("1N 2NNT", "enroll", 2, 3),
    ("1N 2NNTP", "enroll", 2, 2),
    ("1N 2NNTPPP", "hold", None, None),
    ("1N 2NNTNP", "enroll", 2, 1),
    ("1N 2NNTNNN", "escalate", 3, 3),
    ("1N 2NNTNNT", "enroll", 1, 5),
    # replacement of not-evaluable subjects
    ("1N 2NXN", "enroll", 2, 1),
    ("1N 2XXX", "enroll", 2, 3),
    ("1N 2NNXN", "escalate", 3, 3),
    ("1N 2NNTXXNNN", "escalate", 3, 3),
    # a level exceeds the MTD: fill the level below to 6, lower again, or stop
    ("1N 2TT", "enroll", 1, 5),  # even level 1, which had 1
    ("1N 2TTP", "enroll", 1, 5),
    ("1N 2TT 1NNNNP", "hold", None, None),
    ("1N 2TT 1NNNNN", "declare_mtd", 1, None),
    ("1N 2TT 1NNNNT", "declare_mtd", 1, None),
    ("1N 2TT 1NNNTT", "stop", None, None),
    ("1N 2NNN 3TT", "enroll", 2, 3),
    ("1N 2NNN 3TTP", "enroll", 2, 3),
    ("1N 2NNN 3TPT", "enroll", 2, 3),
    ("1N 2NNN 3TT 2NN", "enroll", 2, 1),
    ("1N 2NNN 3TT 2PPP", "hold", None, None),
    ("1N 2NNN 3TT 2NNP", "hold", None, None),
    ("1N 2NNN 3TT 2NNN", "declare_mtd", 2, None),
    ("1N 2NNN 3TT 2NNT", "declare_mtd", 2, None),
    ("1N 2NNN 3TT 2NXNT", "declare_mtd", 2, None),
    ("1N 2NNN 3TT 2NTT", "enroll", 1, 5),
    ("1N 2NNN 3TT 2NTT 1NNNNN", "declare_mtd", 1, None),
    ("1N 2NNN 3TT 2NTT 1NNTTN", "stop", None, None),
    ("1N 2NNTNNN 3TT", "declare_mtd", 2, None),
    ("1N 2NNTNNN 3NTNT", "declare_mtd", 2, None),
    ("1N 3TT", "enroll", 2, 6),  # a what-if path that skipped level 2
    # the top level: confirm in 6, then the MAD
    ("1N 2NNN 3P", "enroll", 3, 2),
    ("1N 2NNN 3NNP", "hold", None, None),
    ("1N 2NNN 3NNN", "enroll", 3, 3),
    ("1N 2NNN 3NNNP", "enroll", 3, 2),  # the confirmation cohort is decided: complete it
    ("1N 2NNN 3NNNPP", "enroll", 3, 1),
    ("1N 2NNN 3NNPN", "enroll", 3, 2),
    ("1N 2NNN 3NNNPPP", "hold", None, None),
    ("1N 2NNN 3NNNNNN", "declare_mad", 3, None),
    ("1N 2NNN 3NNNNNT", "declare_mad", 3, None),
    ("1N 2NNN 3NNNNTT", "enroll", 2, 3),
    ("1N 2NNN 3NNT", "enroll", 3, 3),
    ("1N 2NNN 3NNTNNN", "declare_mad", 3, None),
    ("1N 2NNN 3NNTNNT", "enroll", 2, 3),
    # state derived from all data: a late DLT at a lower level pauses dosing above
    ("1T 2NNN 3PP", "enroll", 1, 2),
    ("1N 2NNT 3PPP", "enroll", 2, 3),
    ("1T 2NNN 3NN 1NN", "enroll", 1, 3),
    ("1T 2NNN 3NN 1NNNNN", "escalate", 3, 1),
    ("1N 2NNN 3NNN 2TT", "enroll", 1, 5),
]


@pytest.mark.parametrize(("path", "action", "level", "subjects"), DEFAULT_CASES)
def test_next_decision_with_the_protocol_options(path, action, level, subjects):
    assert outcome(next_decision(path, PROTOCOL)) == (action, level, subjects)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "No subject dosed at level 1: dose the first subject (accelerated titration)"),
        ("1N", "0 DLT and no related grade ≥2 AE in 1 evaluable subject at level 1: escalate to level 2"),
        (
            "1T",
            "1 DLT and no related grade ≥2 AE in 1 evaluable subject at level 1: "
            "titration trigger: level 1 becomes a 3+3 cohort, complete the cohort of 3",
        ),
        (
            "1G",
            "0 DLT and 1 related grade ≥2 AE in 1 evaluable subject at level 1: "
            "titration trigger: level 1 becomes a 3+3 cohort, complete the cohort of 3",
        ),
        (
            "1P",
            "0 DLT and no related grade ≥2 AE in 0 evaluable subjects at level 1 (1 still in the DLT window): "
            "hold until every subject dosed at level 1 is evaluable",
        ),
        ("1N 2NNN", "0 DLT in 3 evaluable subjects at level 2: escalate to level 3"),
        ("1N 2NNT", "1 DLT in 3 evaluable subjects at level 2: expand to 6"),
        ("1N 2NNTNNN", "1 DLT in 6 evaluable subjects at level 2: escalate to level 3"),
        ("1N 2T", "1 DLT in 1 evaluable subject at level 2: complete the cohort of 3"),
        (
            "1N 2NXN",
            "0 DLT in 2 evaluable subjects at level 2 (1 not evaluable, not counted): complete the cohort of 3",
        ),
        (
            "1N 2NNN 3TT",
            "0 DLT in 3 evaluable subjects at level 2: level 3 exceeds the MTD (2 DLT in 2 evaluable subjects), "
            "so fill level 2 to 6 evaluable subjects",
        ),
        (
            "1N 2TT",
            "0 DLT and no related grade ≥2 AE in 1 evaluable subject at level 1: level 2 exceeds the MTD "
            "(2 DLT in 2 evaluable subjects), so fill level 1 to 6 evaluable subjects",
        ),
        (
            "1N 2NNN 3TT 2NNT",
            "1 DLT in 6 evaluable subjects at level 2: level 3 exceeds the MTD (2 DLT in 2 evaluable subjects), "
            "so the MTD is level 2",
        ),
        (
            "1TT",
            "2 DLT in 2 evaluable subjects at level 1: level 1 exceeds the MTD and there is no lower level: "
            "no tolerable dose",
        ),
        ("1N 2NNN 3NNN", "0 DLT in 3 evaluable subjects at level 3: top level cleared, confirm in 6"),
        (
            "1N 2NNN 3NNNNNT",
            "1 DLT in 6 evaluable subjects at level 3: MTD not reached; maximum administered dose is level 3",
        ),
        (
            "1T 2NNN 3NN 1NNNNN",
            "0 DLT in 3 evaluable subjects at level 2: escalate to level 3; "
            "0 DLT in 2 evaluable subjects at level 3: complete the cohort of 3",
        ),
    ],
)
def test_reasons_name_the_counts(path, reason):
    assert next_decision(path, PROTOCOL).reason == reason


@pytest.mark.parametrize(
    ("trigger", "path", "action", "level", "subjects"),
    [
        ("dlt_only", "1G", "escalate", 2, 3),
        ("dlt_only", "1N", "escalate", 2, 3),
        ("dlt_only", "1T", "enroll", 1, 2),
        ("dlt_only", "1P", "hold", None, None),
        ("dlt_only", "1T 1GG", "enroll", 1, 3),  # G never counts in 3+3
        ("dlt_only", "1T 1GT", "stop", None, None),
        ("add_one", "1N", "escalate", 2, 3),
        ("add_one", "1G", "enroll", 1, 1),
        ("add_one", "1G 1P", "hold", None, None),
        ("add_one", "1G 1N", "escalate", 2, 3),
        ("add_one", "1G 1X", "enroll", 1, 1),
        ("add_one", "1G 1G", "enroll", 1, 1),  # a second triggered subject: 3+3 at level 1
        ("add_one", "1G 1GN", "escalate", 2, 3),
        ("add_one", "1G 1T", "enroll", 1, 1),
        ("add_one", "1G 1TN", "enroll", 1, 3),
        ("add_one", "1T", "enroll", 1, 2),  # a DLT switches to 3+3 at once
        ("add_one", "1G 1TT", "stop", None, None),
        ("dlt_or_related_grade2", "1G", "enroll", 1, 2),
    ],
)
def test_titration_trigger_options(trigger, path, action, level, subjects):
    assert outcome(next_decision(path, options(titration_trigger=trigger))) == (action, level, subjects)


def test_add_one_reason():
    decision = next_decision("1G", options(titration_trigger="add_one"))
    assert decision.reason == (
        "0 DLT and 1 related grade ≥2 AE in 1 evaluable subject at level 1: "
        "a related grade ≥2 AE in the titration subject adds one subject"
    )


@pytest.mark.parametrize(
    ("mtd_requires", "path", "action", "level", "subjects"),
    [
        (9, "1N 2NNN 3TT", "enroll", 2, 6),
        (9, "1N 2TT", "enroll", 1, 8),
        (9, "1N 2NNN 3TT 2NNN", "enroll", 2, 3),
        (9, "1N 2NNN 3TT 2NNNNNNNT", "declare_mtd", 2, None),
        (9, "1N 2NNN 3NNN", "enroll", 3, 6),
        (9, "1N 2NNN 3NNNNNT", "enroll", 3, 3),
        (9, "1N 2NNN 3NNNNNTNN", "enroll", 3, 1),
        (9, "1N 2NNN 3NNNNNTNNN", "declare_mad", 3, None),
        (3, "1N 2NNN 3TT", "declare_mtd", 2, None),
        (3, "1N 2TT", "enroll", 1, 2),
        (3, "1N 2TT 1NNT", "enroll", 1, 2),  # 1 DLT in 4: the 3+3 expansion to 6 still applies
        (3, "1N 2TT 1NN", "declare_mtd", 1, None),
        (3, "1N 2NNN 3NNN", "declare_mad", 3, None),
        (3, "1N 2NNN 3NNT", "enroll", 3, 3),
        (3, "1N 2NNTNNN 3TT", "declare_mtd", 2, None),
    ],
)
def test_mtd_requires_option(mtd_requires, path, action, level, subjects):
    assert outcome(next_decision(path, options(mtd_requires=mtd_requires))) == (action, level, subjects)


@pytest.mark.parametrize(
    ("path", "action", "level", "subjects"),
    [
        ("1N 2NNN 3NNN", "declare_mad", 3, None),
        ("1N 2NNN 3NNP", "hold", None, None),
        ("1N 2NNN 3NNT", "enroll", 3, 3),
        ("1N 2NNN 3NNTNNN", "declare_mad", 3, None),
        ("1N 2NNN 3NNTNTN", "enroll", 2, 3),
        ("1N 2NNN 3TT", "enroll", 2, 3),
    ],
)
def test_without_top_dose_confirmation(path, action, level, subjects):
    assert outcome(next_decision(path, options(confirm_top_dose=False))) == (action, level, subjects)


def test_without_top_dose_confirmation_the_mad_is_declared_on_0_of_3():
    decision = next_decision("1N 2NNN 3NNN", options(confirm_top_dose=False))
    assert decision.reason == (
        "0 DLT in 3 evaluable subjects at level 3: MTD not reached; maximum administered dose is level 3"
    )


def test_decision_json_is_exactly_the_protocol_object():
    decision = next_decision("1N 2NNT", PROTOCOL)

    assert json.loads(json.dumps(decision.to_dict())) == {
        "action": "enroll",
        "dose_level": 2,
        "subjects": 3,
        "reason": "1 DLT in 3 evaluable subjects at level 2: expand to 6",
    }
    assert next_decision("1P", PROTOCOL).to_dict()["dose_level"] is None
    assert list(next_decision("1N 2TT 1NNNNN", PROTOCOL).to_dict()) == ["action", "dose_level", "subjects", "reason"]


def test_parsed_tokens_and_counts_give_the_same_decision():
    tokens = parse_dose_path("1N 2NNT", n_levels=3)

    from_tokens = next_decision(tokens, PROTOCOL)
    from_counts = decide(count_by_level(tokens, n_levels=3), PROTOCOL, last_dosed_level=2)

    assert from_tokens == from_counts == next_decision("1N 2NNT", PROTOCOL)


def test_a_malformed_path_raises_naming_the_token():
    with pytest.raises(DosePathError) as raised:
        next_decision("1N 4NNN", PROTOCOL)
    assert raised.value.token == "4NNN"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"titration_trigger": "any"}, "titration_trigger must be one of dlt_or_related_grade2, dlt_only, add_one"),
        ({"mtd_requires": 2}, "mtd_requires must be a whole number ≥ 3"),
        ({"confirm_top_dose": "yes"}, "confirm_top_dose must be true or false"),
        ({"n_levels": 0}, "n_levels must be a whole number ≥ 1"),
    ],
)
def test_invalid_options_are_refused(overrides, message):
    with pytest.raises(ConfigError) as raised:
        options(**overrides)
    assert str(raised.value) == message


def test_options_come_from_the_configuration_with_overrides():
    config = {
        "dose_levels": [{"level": 1}, {"level": 2}],
        "escalation": {"options": {"titration_trigger": "dlt_only", "mtd_requires": 6, "confirm_top_dose": True}},
    }

    built = escalation_options(config, mtd_requires=9, confirm_top_dose=None)

    assert built == EscalationOptions(n_levels=2, titration_trigger="dlt_only", mtd_requires=9, confirm_top_dose=True)


def test_unknown_configuration_keys_are_named():
    config = {"dose_levels": [{"level": 1}], "escalation": {"options": {"titration_trigger": "dlt_only", "cohort": 3}}}
    with pytest.raises(ConfigError, match=r"unknown escalation option\(s\): cohort"):
        escalation_options(config)


def _explore(options_: EscalationOptions):
    """Every trial the engine can run when each subject is N or T, as (path, final decision) pairs."""
    finals, stack = [], [""]
    while stack:
        path = stack.pop()
        decision = next_decision(path, options_)
        if decision.action not in ("enroll", "escalate"):
            finals.append((path, decision))
            continue
        assert decision.subjects >= 1
        for dlts in range(decision.subjects + 1):
            outcomes = "T" * dlts + "N" * (decision.subjects - dlts)
            stack.append(f"{path} {decision.dose_level}{outcomes}".strip())
    return finals


@pytest.mark.parametrize("trigger", ["dlt_or_related_grade2", "dlt_only", "add_one"])
@pytest.mark.parametrize("confirm_top_dose", [True, False])
def test_every_trial_ends_with_at_most_6_subjects_a_level(trigger, confirm_top_dose):
    finals = _explore(options(titration_trigger=trigger, confirm_top_dose=confirm_top_dose))

    assert {decision.action for _, decision in finals} == {"stop", "declare_mtd", "declare_mad"}
    for path, decision in finals:
        counts = count_by_level(parse_dose_path(path, n_levels=3), n_levels=3)
        assert max(level.dosed for level in counts) <= 6, path
        if decision.action == "declare_mtd":
            mtd = counts[decision.dose_level - 1]
            assert (mtd.evaluable, mtd.dlts <= 1) == (6, True), path
            assert counts[decision.dose_level].dlts >= 2, path
        if decision.action == "stop":
            assert counts[0].dlts >= 2, path
