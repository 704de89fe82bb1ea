"""Typed models of the reference seeds: criteria.yaml, dlt_rules.yaml, ctcae_v5.yaml and demo.yaml.

Each is validated once at load; the pure rule engines build their own inputs from the validated mapping.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctit_trial.config.reader import Node, shown
from enrollment.roles import ROLES

# The codes the eligibility engine evaluates (enrollment/rules/): the catalogue must carry exactly these.
CRITERIA_COUNTS = {"inclusion": ("IN", 6), "exclusion": ("EX", 21)}
RELATEDNESS = ("definitely", "probably", "possibly", "unlikely", "not_related")
GRADES = (1, 2, 3, 4, 5)
TERM_FLAGS = frozenset(
    {
        "is_infusion_reaction", "is_allergic", "is_anaphylaxis", "is_thromboembolic", "is_crs", "is_gvhd",
        "is_fever", "is_neutropenia", "is_hemorrhage",
    }
)  # fmt: skip
OPERATORS = frozenset({"<", "<=", ">", ">="})
REFERENCES = frozenset({"lln", "uln", "baseline"})
CONDITIONS = frozenset(
    {"always", "baseline_normal", "baseline_abnormal", "baseline_given", "on_anticoagulation", "not_on_anticoagulation"}
)
DIRECTIONS = frozenset({"low", "high"})
CATEGORIES = frozenset({"hematologic", "non_hematologic"})
ROLE_KEYS = frozenset(ROLES)  # the role table is the one list of roles


@dataclass(frozen=True)
class CriterionConfig:
    code: str
    kind: str
    number: int
    text: str


@dataclass(frozen=True)
class CriteriaSeed:
    version: str
    criteria: tuple[CriterionConfig, ...]


@dataclass(frozen=True)
class DltRulesSeed:
    """The DLT candidate rules, validated; `rules` is the `dlt_rules` mapping safety/rules/dlt.py builds from."""

    related_levels: tuple[str, ...]
    flag_rule_names: tuple[str, ...]
    rules: Mapping[str, Any]


@dataclass(frozen=True)
class CtcaeSeed:
    """The CTCAE catalogue, validated; `terms` maps each code to its specification as seeded."""

    ctcae_version: str
    terms: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class DemoSeed:
    """Demo sites, logins and subjects (development only)."""

    data: Mapping[str, Any]


def criteria_seed_from(node: Node) -> CriteriaSeed:
    node.mapping(("version", "criteria"))
    criteria: list[CriterionConfig] = []
    for item in node.at("criteria").items(min_length=1):
        item.mapping(("code", "kind", "number", "text"))
        kind = item.at("kind").choice(tuple(CRITERIA_COUNTS))
        criterion = CriterionConfig(
            code=item.at("code").text(),
            kind=kind,
            number=item.at("number").whole(minimum=1),
            text=item.at("text").text(),
        )
        expected_code = f"{CRITERIA_COUNTS[kind][0]}{criterion.number}"
        if criterion.code != expected_code:
            item.at("code").fail(f"{kind} {criterion.number} is {expected_code}, got {shown(criterion.code)}")
        if any(earlier.code == criterion.code for earlier in criteria):
            item.at("code").fail(f"must be unique, {criterion.code} is listed twice")
        criteria.append(criterion)
    for kind, (prefix, count) in CRITERIA_COUNTS.items():
        codes = {criterion.code for criterion in criteria if criterion.kind == kind}
        missing = [f"{prefix}{number}" for number in range(1, count + 1) if f"{prefix}{number}" not in codes]
        extra = sorted(codes - {f"{prefix}{number}" for number in range(1, count + 1)})
        if missing or extra:
            node.at("criteria").fail(
                f"must list {prefix}1–{prefix}{count} (the codes the eligibility engine evaluates): "
                f"missing {', '.join(missing) or 'none'}, unknown {', '.join(extra) or 'none'}"
            )
    return CriteriaSeed(version=node.at("version").text(), criteria=tuple(criteria))


def dlt_rules_seed_from(node: Node) -> DltRulesSeed:
    node.mapping(("dlt_rules",))
    rules = node.at("dlt_rules").mapping(("related_levels", "flag_rules", "prolonged_neutropenia", "non_hematologic"))
    related = tuple(item.choice(RELATEDNESS) for item in rules.at("related_levels").items(min_length=1))
    names: list[str] = []
    for item in rules.at("flag_rules").items():
        item.mapping(("name", "min_grade"), ("flag",))
        name = item.at("name").text()
        if name in names:
            item.at("name").fail(f"must be unique, {name} is listed twice")
        item.at("min_grade").whole(minimum=1, maximum=5)
        if item.at("flag").value is not None:
            item.at("flag").choice(TERM_FLAGS)
        names.append(name)
    neutropenia = rules.at("prolonged_neutropenia").mapping(("min_grade", "longer_than_days"))
    neutropenia.at("min_grade").whole(minimum=1, maximum=5)
    neutropenia.at("longer_than_days").whole(minimum=0)
    non_hematologic = rules.at("non_hematologic").mapping(
        ("min_grade", "fever_resolved_within_hours", "lab_exception_grade", "lab_resolved_within_days")
    )
    non_hematologic.at("min_grade").whole(minimum=1, maximum=5)
    non_hematologic.at("fever_resolved_within_hours").number(minimum=0)
    non_hematologic.at("lab_exception_grade").whole(minimum=1, maximum=5)
    non_hematologic.at("lab_resolved_within_days").whole(minimum=0)
    return DltRulesSeed(related_levels=related, flag_rule_names=tuple(names), rules=rules.value)


def ctcae_seed_from(node: Node) -> CtcaeSeed:
    node.mapping(("ctcae_version", "terms"))
    listed = node.value["terms"]
    terms = node.at("terms").mapping(tuple(listed) if isinstance(listed, Mapping) else ())
    meddra_codes: dict[str, str] = {}
    for code in terms.value:
        term = terms.at(code)
        if not isinstance(code, str) or not code.replace("_", "").isalnum() or code != code.lower():
            term.fail("a term key must be a lower-case slug such as platelet_count_decreased")
        _term(term)
        meddra = term.value["meddra_code"]
        if meddra in meddra_codes:
            term.at("meddra_code").fail(f"must be unique, {meddra} is also {meddra_codes[meddra]}")
        meddra_codes[meddra] = code
    return CtcaeSeed(ctcae_version=node.at("ctcae_version").text(), terms=terms.value)


def _term(node: Node) -> None:
    node.mapping(("name", "meddra_code", "soc", "category", "grades"), ("flags", "lab", "temperature"))
    node.at("name").text()
    node.at("meddra_code").text(pattern=r"\d{8}", hint='8 digits in quotes, e.g. "10035528"')
    node.at("soc").text()
    node.at("category").choice(CATEGORIES)
    if node.at("flags").value is not None:
        for item in node.at("flags").items():
            item.choice(TERM_FLAGS)
    grades = node.at("grades").mapping((), tuple(GRADES))
    if not grades.value:
        grades.fail("must define at least one grade")
    for grade in grades.value:
        grades.at(grade).text()
    if node.at("lab").value is not None:
        lab = node.at("lab").mapping(("direction", "criteria"), ("unit",))
        lab.at("direction").choice(DIRECTIONS)
        for criterion in lab.at("criteria").items(min_length=1):
            criterion.mapping(("when", "thresholds"))
            criterion.at("when").choice(CONDITIONS)
            _thresholds(criterion.at("thresholds"))
    if node.at("temperature").value is not None:
        temperature = node.at("temperature").mapping(("thresholds",), ("unit", "sustained"))
        _thresholds(temperature.at("thresholds"))
        if temperature.at("sustained").value is not None:
            sustained = temperature.at("sustained").mapping(("from_grade", "grade", "longer_than_hours"))
            sustained.at("from_grade").whole(minimum=1, maximum=5)
            sustained.at("grade").whole(minimum=1, maximum=5)
            sustained.at("longer_than_hours").decimal_text()


def _thresholds(node: Node) -> None:
    grades = []
    for item in node.items(min_length=1):
        item.mapping(("grade", "op"), ("of", "factor", "value"))
        grades.append(item.at("grade").whole(minimum=1, maximum=5))
        item.at("op").choice(OPERATORS)
        if item.at("of").value is None:
            if "factor" in item.value or "value" not in item.value:
                item.fail("an absolute threshold needs `value` only")
            item.at("value").decimal_text()
        else:
            item.at("of").choice(REFERENCES)
            if "value" in item.value or "factor" not in item.value:
                item.fail("a threshold relative to `of` needs `factor` only")
            item.at("factor").decimal_text()
    if grades != sorted(set(grades)):
        node.fail(f"grades must ascend, got {grades}")


def demo_seed_from(node: Node) -> DemoSeed:
    node.mapping(("sites", "password", "superuser", "users", "subjects"))
    site_codes = []
    for item in node.at("sites").items(min_length=1):
        item.mapping(("code", "name", "time_zone"))
        site_codes.append(item.at("code").text(pattern=r"[A-Z0-9]{2,10}", hint="2–10 capital letters or digits"))
        item.at("name").text()
        item.at("time_zone").text(pattern=r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", hint="an IANA time zone")
    node.at("password").text()
    superuser = node.at("superuser").mapping(("username", "password", "email"))
    for key in ("username", "password", "email"):
        superuser.at(key).text()
    for item in node.at("users").items():
        item.mapping(("username", "role", "sites", "first_name", "last_name"))
        item.at("username").text()
        item.at("role").choice(ROLE_KEYS)
        for site in item.at("sites").items():
            site.choice(tuple(site_codes))
        item.at("first_name").text()
        item.at("last_name").text()
    subjects = node.at("subjects").mapping((), tuple(site_codes))
    for code in subjects.value:
        subjects.at(code).whole(minimum=0)
    return DemoSeed(data=node.value)
