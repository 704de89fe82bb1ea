"""Platelet endpoints (PROTOCOL.md §7) of a subject and per dose level, from recorded visits and draws."""

import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from dosing.models import DoseLevel, Infusion, PostInfusionDraw
from dosing.rules.gate import time_point_name
from enrollment.models import Subject
from enrollment.selectors import screening_current
from safety.models import Visit
from safety.rules import endpoints
from safety.rules.endpoints import EndpointConfig
from safety.selectors.common import infusion_of

BASELINE_VISIT = "D0"
HOURLY_TIME_POINTS = ("1h", "2h", "4h")
VISIT_TIME_POINTS = ("D2", "D3", "D7", "D14", "D28")
TIME_POINTS = HOURLY_TIME_POINTS + VISIT_TIME_POINTS
NO_BODY_SIZE = "CCI and PPR not computed: height/weight not recorded"
SEXES = {"M": endpoints.Sex.MALE, "F": endpoints.Sex.FEMALE}


@dataclass(frozen=True)
class BodySize:
    """Height, weight and sex: from the subject's screening unless the caller gives them."""

    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None
    sex: str | None = None  # "M" or "F"

    @property
    def complete(self) -> bool:
        return self.height_cm is not None and self.weight_kg is not None and self.sex in SEXES


@dataclass(frozen=True)
class TimePoint:
    """One time point of a subject: count, ΔPLT, CCI and PPR, and why any of them is empty."""

    time_point: str
    platelets: Decimal | None
    delta: Decimal | None
    cci: Decimal | None
    ppr_percent: Decimal | None
    note: str


def body_size_of(subject: Subject, *, given: dict | None = None) -> BodySize:
    """The subject's height, weight and sex from the current screening; values `given` take precedence."""
    screening = screening_current(subject)
    recorded = {"height_cm": None, "weight_kg": None, "sex": None}
    if screening is not None:
        recorded = {"height_cm": screening.height_cm, "weight_kg": screening.weight_kg, "sex": screening.sex or None}
    return BodySize(**(recorded | (given or {})))


def _draw_counts(subject_ids) -> dict[int, dict[str, Decimal]]:
    """Post-infusion draw counts (1h, 2h, 4h) by subject and time point."""
    counts: dict[int, dict[str, Decimal]] = {}
    rows = PostInfusionDraw.objects.filter(infusion__subject_id__in=subject_ids)
    for subject_id, minutes, platelets in rows.values_list("infusion__subject_id", "minutes_after_end", "platelets"):
        counts.setdefault(subject_id, {})[time_point_name(minutes)] = platelets
    return counts


def _recorded_counts(subject: Subject) -> dict[str, Decimal]:
    """Platelet counts of the subject's recorded visits (by visit code) and post-infusion draws (1h, 2h, 4h)."""
    rows = subject.visits.filter(status=Visit.Status.DONE, platelets__isnull=False)
    return dict(rows.values_list("definition__code", "platelets")) | _draw_counts([subject.pk]).get(subject.pk, {})


def _time_point(name: str, count: Decimal | None, baseline: Decimal | None, dose_cells, body, config) -> TimePoint:
    if count is None:
        where = "post-infusion draw" if name in HOURLY_TIME_POINTS else "visit"
        return TimePoint(name, None, None, None, None, f"No platelet count recorded at the {name} {where}.")
    if baseline is None:
        return TimePoint(name, count, None, None, None, "No baseline: the D0 pre-infusion count is not recorded.")
    if config.platelet_equivalent_factor is not None and body.complete and dose_cells is not None:
        facts = endpoints.EndpointSubject(body.height_cm, body.weight_kg, SEXES[body.sex], baseline, dose_cells)
        result = endpoints.platelet_endpoint(name, count, subject=facts, config=config)
        return TimePoint(name, count, result.delta_platelets_10e9_per_l, result.cci, result.ppr_percent, result.reason)
    delta = endpoints.delta_platelets_10e9_per_l(count, baseline)
    if config.platelet_equivalent_factor is None:
        note = "CCI and PPR not computed: the protocol's platelet-equivalent factor is not configured"
    else:
        note = NO_BODY_SIZE
    return TimePoint(name, count, delta, None, None, note)


def subject_platelets(subject: Subject, *, body: BodySize, config: EndpointConfig) -> dict:
    """Baseline, body size and each time point's endpoints for one subject."""
    infusion = infusion_of(subject)
    counts = _recorded_counts(subject)
    baseline = counts.get(BASELINE_VISIT)
    dose_cells = Decimal(infusion.viable_cells_given) if infusion else None
    complete = body.height_cm is not None and body.weight_kg is not None
    return {
        "subject": subject.study_number,
        "dose_level": infusion.dose_level.level if infusion else None,
        "viable_cells_infused": dose_cells,
        "baseline": baseline,
        "bsa_m2": endpoints.mosteller_bsa_m2(body.height_cm, body.weight_kg) if complete else None,
        "blood_volume_l": (
            endpoints.nadler_blood_volume_l(body.height_cm, body.weight_kg, SEXES[body.sex]) if body.complete else None
        ),
        "time_points": [
            _time_point(name, counts.get(name), baseline, dose_cells, body, config) for name in TIME_POINTS
        ],
    }


def _statistics(deltas: list[Decimal]) -> dict:
    if not deltas:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None}
    return {
        "n": len(deltas),
        "mean": statistics.mean(deltas),
        "median": statistics.median(deltas),
        "min": min(deltas),
        "max": max(deltas),
    }


def platelet_summary(subjects: QuerySet[Subject], *, levels: QuerySet[DoseLevel]) -> list[dict]:
    """ΔPLT per dose level and time point (n, mean, median, min, max) over the given subjects, in 3 queries."""
    level_of = dict(Infusion.objects.filter(subject__in=subjects).values_list("subject_id", "dose_level__level"))
    counts: dict[int, dict[str, Decimal]] = {}
    visits = Visit.objects.filter(
        subject_id__in=list(level_of),
        status=Visit.Status.DONE,
        platelets__isnull=False,
        definition__code__in=(BASELINE_VISIT, *VISIT_TIME_POINTS),
    ).values_list("subject_id", "definition__code", "platelets")
    for subject_id, code, platelets in visits:
        counts.setdefault(subject_id, {})[code] = platelets
    for subject_id, draws in _draw_counts(list(level_of)).items():
        counts.setdefault(subject_id, {}).update(draws)
    summary = []
    for level in levels.order_by("level"):
        subject_counts = [counts.get(pk, {}) for pk, at in level_of.items() if at == level.level]
        rows = []
        for name in TIME_POINTS:
            deltas = [c[name] - c[BASELINE_VISIT] for c in subject_counts if name in c and BASELINE_VISIT in c]
            rows.append({"time_point": name, **_statistics(deltas), "note": ""})
        summary.append(
            {"dose_level": level.level, "label": level.label, "subjects": len(subject_counts), "time_points": rows}
        )
    return summary
