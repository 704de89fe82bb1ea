"""Typed models of seeds/protocol.yaml: every section validated (types, ranges, cross-field rules) at load.

`ProtocolSettings` is the part `manage.py seed` stores as `Protocol.configuration` and the services read at run
time; `ProtocolSeed` adds what is stored in its own tables (the trial record, dose levels, visit schedule).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ctit_trial.config.reader import Node

DESIGNS = ("at3+3", "boin")
TITRATION_TRIGGERS = ("dlt_or_related_grade2", "dlt_only", "add_one")
DESIGN_ROLES = ("accelerated_titration", "three_plus_three")
SETTINGS_SECTIONS = ("escalation", "scheduling", "dosing_gate", "eligibility", "safety", "notifications")
SEED_SECTIONS = ("trial", "dose_levels", *SETTINGS_SECTIONS, "visits")

# eligibility keys: whole numbers (counts, days, months) and numbers (limits compared as exact decimals)
ELIGIBILITY_WHOLE = (
    "age_min", "age_max", "ecog_max", "pregnancy_test_valid_days", "hbv_dna_lookback_months",
    "thromboembolism_lookback_months", "catheter_thrombosis_lookback_months", "cardiac_lookback_months",
    "anticoagulant_lookback_days", "similar_product_lookback_days",
)  # fmt: skip
ELIGIBILITY_NUMBERS = (
    "platelets_min", "platelets_max", "life_expectancy_months_min", "aptt_uln_multiple_max", "inr_uln_multiple_max",
    "liver_uln_multiple_max", "creatinine_clearance_min", "creatinine_uln_multiple_max", "anc_min",
    "hemoglobin_min", "hbv_dna_max_iu_ml",
)  # fmt: skip


@dataclass(frozen=True)
class TrialConfig:
    code: str
    registry_id: str
    title: str
    sponsor: str
    protocol_version: str
    planned_enrollment: int
    ctcae_version: str


@dataclass(frozen=True)
class DoseLevelConfig:
    level: int
    label: str
    viable_cells: int
    design_role: str


@dataclass(frozen=True)
class TitrationOptions:
    titration_trigger: str
    mtd_requires: int
    confirm_top_dose: bool


@dataclass(frozen=True)
class BoinConfig:
    target: Decimal
    cohort_size: int
    n_cohorts: int
    elimination_cutoff: Decimal
    elimination_min_n: int


@dataclass(frozen=True)
class EscalationConfig:
    design: str
    src_signatures_required: int
    options: TitrationOptions
    boin: BoinConfig


@dataclass(frozen=True)
class SchedulingConfig:
    sentinel_days: int
    min_hours_between_infusions: int
    dlt_window_days: int
    screening_labs_valid_days: int
    dose_tolerance_percent: Decimal


@dataclass(frozen=True)
class DosingGateConfig:
    reconfirmation_platelets_min: Decimal
    reconfirmation_platelets_max: Decimal
    transfusion_free_hours: int
    thrombopoietic_free_days: int
    surgery_free_days: int
    post_infusion_draws_minutes: tuple[int, ...]
    post_infusion_draw_tolerance_minutes: int


@dataclass(frozen=True)
class SafetyConfig:
    sae_report_hours: int
    sae_alert_hours: tuple[int, ...]
    susar_fatal_days: int
    susar_fatal_completion_extra_days: int
    susar_other_days: int
    ae_follow_up_end_day: int
    platelet_equivalent_factor: Decimal | None


@dataclass(frozen=True)
class NotificationsConfig:
    reconfirmation_cutoff_local_time: str
    morning_reminder_local_time: str
    visit_overdue_alert_days: int


@dataclass(frozen=True)
class VisitConfig:
    code: str
    label: str
    target_day: int
    window_before: int
    window_after: int
    content: str


@dataclass(frozen=True)
class ProtocolSettings:
    """The protocol values the services read at run time (`Protocol.configuration`), typed."""

    escalation: EscalationConfig
    scheduling: SchedulingConfig
    dosing_gate: DosingGateConfig
    eligibility: Mapping[str, int | Decimal]
    safety: SafetyConfig
    notifications: NotificationsConfig
    sections: Mapping[str, Any]  # the validated sections as stored in the database (plain JSON values)


@dataclass(frozen=True)
class ProtocolSeed:
    """Everything seeds/protocol.yaml sets."""

    trial: TrialConfig
    dose_levels: tuple[DoseLevelConfig, ...]
    visits: tuple[VisitConfig, ...]
    settings: ProtocolSettings


def protocol_seed_from(node: Node) -> ProtocolSeed:
    """The typed protocol seed (raises ConfigFileError naming the file and the path of a bad value)."""
    node.mapping(SEED_SECTIONS)
    settings = protocol_settings_from(node, strict_sections=False)
    seed = ProtocolSeed(
        trial=_trial(node.at("trial")),
        dose_levels=_dose_levels(node.at("dose_levels")),
        visits=_visits(node.at("visits")),
        settings=settings,
    )
    _check_visits_against_settings(node.at("visits"), seed.visits, settings)
    return seed


def protocol_settings_from(node: Node, *, strict_sections: bool = True) -> ProtocolSettings:
    """The typed settings sections (the database copy holds exactly these; the seed file holds more)."""
    if strict_sections:
        node.mapping(SETTINGS_SECTIONS)
    settings = ProtocolSettings(
        escalation=_escalation(node.at("escalation")),
        scheduling=_scheduling(node.at("scheduling")),
        dosing_gate=_dosing_gate(node.at("dosing_gate")),
        eligibility=_eligibility(node.at("eligibility")),
        safety=_safety(node.at("safety")),
        notifications=_notifications(node.at("notifications")),
        sections={section: node.value[section] for section in SETTINGS_SECTIONS},
    )
    if settings.safety.ae_follow_up_end_day < settings.scheduling.dlt_window_days:
        node.at("safety").at("ae_follow_up_end_day").fail(
            f"must be at least scheduling.dlt_window_days ({settings.scheduling.dlt_window_days}), "
            f"got {settings.safety.ae_follow_up_end_day}"
        )
    return settings


def _trial(node: Node) -> TrialConfig:
    node.mapping(("code", "registry_id", "title", "sponsor", "protocol_version", "planned_enrollment", "ctcae_version"))
    return TrialConfig(
        code=node.at("code").text(),
        registry_id=node.at("registry_id").text(pattern=r"NCT\d{8}", hint="a ClinicalTrials.gov ID (NCT + 8 digits)"),
        title=node.at("title").text(),
        sponsor=node.at("sponsor").text(),
        protocol_version=node.at("protocol_version").text(),
        planned_enrollment=node.at("planned_enrollment").whole(minimum=1),
        ctcae_version=node.at("ctcae_version").text(),
    )


def _dose_levels(node: Node) -> tuple[DoseLevelConfig, ...]:
    levels = []
    for item in node.items(min_length=1):
        item.mapping(("level", "label", "viable_cells", "design_role"))
        level = DoseLevelConfig(
            level=item.at("level").whole(minimum=1),
            label=item.at("label").text(),
            viable_cells=item.at("viable_cells").whole(minimum=1),
            design_role=item.at("design_role").choice(DESIGN_ROLES),
        )
        if level.level != len(levels) + 1:
            item.at("level").fail(f"levels must be numbered 1, 2, 3… in order: expected {len(levels) + 1}")
        if levels and level.viable_cells <= levels[-1].viable_cells:
            item.at("viable_cells").fail(f"must be more than level {levels[-1].level}'s {levels[-1].viable_cells}")
        levels.append(level)
    return tuple(levels)


def _escalation(node: Node) -> EscalationConfig:
    node.mapping(("design", "src_signatures_required", "options", "boin"))
    options = node.at("options").mapping(("titration_trigger", "mtd_requires", "confirm_top_dose"))
    boin = node.at("boin").mapping(("target", "cohort_size", "n_cohorts", "elimination_cutoff", "elimination_min_n"))
    return EscalationConfig(
        design=node.at("design").choice(DESIGNS),
        src_signatures_required=node.at("src_signatures_required").whole(minimum=1),
        options=TitrationOptions(
            titration_trigger=options.at("titration_trigger").choice(TITRATION_TRIGGERS),
            # Fewer than 3 would let "≤1 DLT" declare an MTD on 1 DLT in 1 or 2 subjects.
            mtd_requires=options.at("mtd_requires").whole(minimum=3),
            confirm_top_dose=options.at("confirm_top_dose").boolean(),
        ),
        boin=BoinConfig(
            # 1.4 × target must stay a probability for the de-escalation boundary to exist.
            target=boin.at("target").number(above=0, below="0.714"),
            cohort_size=boin.at("cohort_size").whole(minimum=1),
            n_cohorts=boin.at("n_cohorts").whole(minimum=1),
            elimination_cutoff=boin.at("elimination_cutoff").number(above=0, below=1),
            elimination_min_n=boin.at("elimination_min_n").whole(minimum=1),
        ),
    )


def _scheduling(node: Node) -> SchedulingConfig:
    node.mapping(
        (
            "sentinel_days",
            "min_hours_between_infusions",
            "dlt_window_days",
            "screening_labs_valid_days",
            "dose_tolerance_percent",
        )
    )
    return SchedulingConfig(
        sentinel_days=node.at("sentinel_days").whole(minimum=1),
        min_hours_between_infusions=node.at("min_hours_between_infusions").whole(minimum=0),
        dlt_window_days=node.at("dlt_window_days").whole(minimum=1),
        screening_labs_valid_days=node.at("screening_labs_valid_days").whole(minimum=1),
        dose_tolerance_percent=node.at("dose_tolerance_percent").number(minimum=0, maximum=100),
    )


def _dosing_gate(node: Node) -> DosingGateConfig:
    node.mapping(
        (
            "reconfirmation_platelets_min",
            "reconfirmation_platelets_max",
            "transfusion_free_hours",
            "thrombopoietic_free_days",
            "surgery_free_days",
            "post_infusion_draws_minutes",
            "post_infusion_draw_tolerance_minutes",
        )
    )
    low = node.at("reconfirmation_platelets_min").number(minimum=0)
    high = node.at("reconfirmation_platelets_max").number(minimum=0)
    if high < low:
        node.at("reconfirmation_platelets_max").fail(f"must not be below reconfirmation_platelets_min ({low})")
    draws = tuple(item.whole(minimum=1) for item in node.at("post_infusion_draws_minutes").items(min_length=1))
    if list(draws) != sorted(set(draws)):
        node.at("post_infusion_draws_minutes").fail(f"must ascend without repeats, got {list(draws)}")
    return DosingGateConfig(
        reconfirmation_platelets_min=low,
        reconfirmation_platelets_max=high,
        transfusion_free_hours=node.at("transfusion_free_hours").whole(minimum=0),
        thrombopoietic_free_days=node.at("thrombopoietic_free_days").whole(minimum=0),
        surgery_free_days=node.at("surgery_free_days").whole(minimum=0),
        post_infusion_draws_minutes=draws,
        post_infusion_draw_tolerance_minutes=node.at("post_infusion_draw_tolerance_minutes").whole(minimum=0),
    )


def _eligibility(node: Node) -> dict[str, int | Decimal]:
    node.mapping(ELIGIBILITY_WHOLE + ELIGIBILITY_NUMBERS)
    limits: dict[str, int | Decimal] = {key: node.at(key).whole(minimum=0) for key in ELIGIBILITY_WHOLE}
    limits |= {key: node.at(key).number(minimum=0) for key in ELIGIBILITY_NUMBERS}
    for low, high in (("age_min", "age_max"), ("platelets_min", "platelets_max")):
        if limits[high] < limits[low]:
            node.at(high).fail(f"must not be below {low} ({limits[low]}), got {limits[high]}")
    return limits


def _safety(node: Node) -> SafetyConfig:
    node.mapping(
        (
            "sae_report_hours",
            "sae_alert_hours",
            "susar_fatal_days",
            "susar_fatal_completion_extra_days",
            "susar_other_days",
            "ae_follow_up_end_day",
            "platelet_equivalent_factor",
        )
    )
    report_hours = node.at("sae_report_hours").whole(minimum=1)
    alert_hours = tuple(item.whole(minimum=1, maximum=report_hours - 1) for item in node.at("sae_alert_hours").items())
    factor = node.at("platelet_equivalent_factor").optional()
    return SafetyConfig(
        sae_report_hours=report_hours,
        sae_alert_hours=alert_hours,
        susar_fatal_days=node.at("susar_fatal_days").whole(minimum=1),
        susar_fatal_completion_extra_days=node.at("susar_fatal_completion_extra_days").whole(minimum=0),
        susar_other_days=node.at("susar_other_days").whole(minimum=1),
        ae_follow_up_end_day=node.at("ae_follow_up_end_day").whole(minimum=1),
        platelet_equivalent_factor=None if factor is None else factor.number(above=0),
    )


def _notifications(node: Node) -> NotificationsConfig:
    node.mapping(("reconfirmation_cutoff_local_time", "morning_reminder_local_time", "visit_overdue_alert_days"))
    cutoff = node.at("reconfirmation_cutoff_local_time").clock_time()
    morning = node.at("morning_reminder_local_time").clock_time()
    if cutoff <= morning:
        node.at("reconfirmation_cutoff_local_time").fail(
            f"must come after morning_reminder_local_time ({morning}), got {cutoff}"
        )
    return NotificationsConfig(
        reconfirmation_cutoff_local_time=cutoff,
        morning_reminder_local_time=morning,
        visit_overdue_alert_days=node.at("visit_overdue_alert_days").whole(minimum=0),
    )


def _visits(node: Node) -> tuple[VisitConfig, ...]:
    visits: list[VisitConfig] = []
    for item in node.items(min_length=1):
        item.mapping(("code", "label", "target_day", "window_before", "window_after"), ("content",))
        visit = VisitConfig(
            code=item.at("code").text(pattern=r"D\d+", hint="a study day code such as D7"),
            label=item.at("label").text(),
            target_day=item.at("target_day").whole(minimum=0),
            window_before=item.at("window_before").whole(minimum=0),
            window_after=item.at("window_after").whole(minimum=0),
            content="" if item.at("content").value is None else item.at("content").text(),
        )
        if any(earlier.code == visit.code for earlier in visits):
            item.at("code").fail(f"must be unique, {visit.code} is listed twice")
        if visits and visit.target_day <= visits[-1].target_day:
            item.at("target_day").fail(f"visits must be listed by ascending target day, got {visit.target_day}")
        visits.append(visit)
    return tuple(visits)


def _check_visits_against_settings(node: Node, visits: tuple[VisitConfig, ...], settings: ProtocolSettings) -> None:
    window_days = settings.scheduling.dlt_window_days
    if not any(visit.target_day == window_days for visit in visits):
        node.fail(f"no visit ends the DLT window: scheduling.dlt_window_days is {window_days}")
    if visits[0].target_day != 0:
        node.at(0).at("target_day").fail("the first visit must be the infusion day, D0 (target_day 0)")
