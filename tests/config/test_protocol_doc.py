"""docs/protocol.md and seeds/ stay in step: every value the doc states is the seeded one, and every configurable
value of seeds/ is stated in the doc."""

import re
from pathlib import Path

import pytest
import yaml

from ctit_trial.config import seed_mapping

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
STATED = re.compile(r"`([a-z_]+(?:\.[A-Za-z0-9_]+)+)` = (\[[^\]]*\]|\"[^\"]*\"|[^\s,;|)]+)")
MISSING = object()


def stated_values() -> dict[str, list[str]]:
    """Each `key` = value the doc states, as the written value texts per key."""
    stated: dict[str, list[str]] = {}
    for key, value in STATED.findall(DOC.read_text(encoding="utf-8")):
        stated.setdefault(key, []).append(value.rstrip("."))
    return stated


def seeded_value(key: str):
    """The value at a dotted key: protocol.yaml sections, or dlt_rules.yaml under `dlt_rules`; list entries by
    their `level`, `code` or `name`."""
    node = seed_mapping("dlt_rules.yaml") if key.startswith("dlt_rules.") else seed_mapping("protocol.yaml")
    for part in key.split("."):
        if isinstance(node, list):
            node = next(
                (item for item in node if part in {str(item.get(k)) for k in ("level", "code", "name")}), MISSING
            )
        elif isinstance(node, dict):
            node = node.get(part, MISSING)
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def configurable_keys() -> list[str]:
    """Every value of seeds/ a trial may configure (the trial's names and texts are not rules, so not listed)."""
    protocol = seed_mapping("protocol.yaml")
    keys = ["trial.planned_enrollment", "trial.ctcae_version"]
    for section in ("escalation", "scheduling", "dosing_gate", "eligibility", "safety", "notifications"):
        keys += _leaves(section, protocol[section])
    for level in protocol["dose_levels"]:
        keys += [f"dose_levels.{level['level']}.viable_cells", f"dose_levels.{level['level']}.design_role"]
    for visit in protocol["visits"]:
        keys += [f"visits.{visit['code']}.{field}" for field in ("target_day", "window_before", "window_after")]
    rules = seed_mapping("dlt_rules.yaml")["dlt_rules"]
    keys.append("dlt_rules.related_levels")
    keys += [f"dlt_rules.flag_rules.{rule['name']}.min_grade" for rule in rules["flag_rules"]]
    keys += _leaves("dlt_rules.prolonged_neutropenia", rules["prolonged_neutropenia"])
    keys += _leaves("dlt_rules.non_hematologic", rules["non_hematologic"])
    return keys


def _leaves(prefix: str, node) -> list[str]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(f"{prefix}.{key}", value)]
    return [prefix]


def test_the_doc_states_values():
    assert len(stated_values()) > 80


@pytest.mark.parametrize("key", sorted(stated_values()))
def test_every_value_the_doc_states_is_the_seeded_one(key):
    expected = seeded_value(key)
    assert expected is not MISSING, f"docs/protocol.md names `{key}`, which seeds/ does not have"
    for written in stated_values()[key]:
        assert yaml.safe_load(written) == expected, f"docs/protocol.md: `{key}` = {written}, seeds/ has {expected!r}"


def test_every_configurable_value_is_described_in_the_doc():
    undocumented = [key for key in configurable_keys() if key not in stated_values()]

    assert undocumented == []


def test_nothing_in_the_product_points_outside_the_repository():
    root = DOC.parents[1]
    places = [root / "README.md", *root.glob("docs/**/*.md"), *root.glob("templates/**/*.html")]
    for package in ("ctit_trial", "enrollment", "dosing", "safety"):
        places += (root / package).glob("**/*.py")

    pointing = [str(path.relative_to(root)) for path in places if "../shared" in path.read_text(encoding="utf-8")]

    assert pointing == []
