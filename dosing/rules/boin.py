"""BOIN (Liu & Yuan 2015; PROTOCOL.md §4.3): boundaries, elimination, the per-cohort move, MTD selection.

Readings chosen where the protocol is silent (they follow the BOIN R package where it has one):
- From a dose path: T is a DLT, N and G are evaluable without DLT, P is pending, X is not evaluable and not
  counted (replaced, as in the 3+3 engine).
- The current level is the level of the last subject dosed; its current cohort is the trailing run of subjects
  at that level, and an incomplete cohort (X not counted) is completed before any move.
- Elimination is derived from all data on every call and acts at once, pending subjects notwithstanding: the
  lowest level eliminated stops the trial; an eliminated current level de-escalates below the eliminated ones.
- The trial ends once cohort_size × n_cohorts subjects count (X excluded), then selects the MTD.
- MTD ties: equal estimates above φ go to the lower dose, at or below φ to the higher; two estimates equally
  far on either side of φ go to the lower (safer) dose, as the R package's tie-break does.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from dosing.rules.config import BoinOptions
from dosing.rules.decision import Action, Decision, declare, dose, hold, plural, stop
from dosing.rules.path import DoseToken, LevelCounts, count_by_level, parse_dose_path

_CONTINUED_FRACTION_STEPS = 300
_TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class BoinBoundaries:
    """Escalate when the observed DLT rate is ≤ lambda_e, de-escalate when it is ≥ lambda_d."""

    target: float
    lambda_e: float
    lambda_d: float

    def escalate_max_dlts(self, n: int) -> int:
        """The most DLTs among n evaluable subjects that still escalate."""
        return math.floor(self.lambda_e * n)

    def deescalate_min_dlts(self, n: int) -> int:
        """The fewest DLTs among n evaluable subjects that de-escalate."""
        return math.ceil(self.lambda_d * n)


@dataclass(frozen=True)
class Move:
    """Where the next cohort goes after a cohort at `level`, and why."""

    level: int
    reason: str


def boin_boundaries(target: float) -> BoinBoundaries:
    """λe and λd for a target φ, with φ₁ = 0.6φ and φ₂ = 1.4φ."""
    low, high = 0.6 * target, 1.4 * target
    lambda_e = math.log((1 - low) / (1 - target)) / math.log(target * (1 - low) / (low * (1 - target)))
    lambda_d = math.log((1 - target) / (1 - high)) / math.log(high * (1 - target) / (target * (1 - high)))
    return BoinBoundaries(target, lambda_e, lambda_d)


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the Beta(a, b) distribution function at x (continued fraction, modified Lentz)."""
    if not (0 <= x <= 1 and a > 0 and b > 0):
        raise ValueError(f"regularized_incomplete_beta needs 0 ≤ x ≤ 1 and a, b > 0 (got {x}, {a}, {b})")
    if x in (0, 1):
        return float(x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_continued_fraction(x, a, b) / a
    return 1 - math.exp(log_front) * _beta_continued_fraction(1 - x, b, a) / b


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300

    def guarded(value: float) -> float:
        return value if abs(value) > tiny else tiny

    c, d = 1.0, 1 / guarded(1 - (a + b) * x / (a + 1))
    fraction = d
    for m in range(1, _CONTINUED_FRACTION_STEPS):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 / guarded(1 + numerator * d)
            c = guarded(1 + numerator / c)
            fraction *= d * c
        if abs(d * c - 1) < 1e-15:
            return fraction
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (x={x}, a={a}, b={b})")


def prob_above_target(n: int, dlts: int, target: float) -> float:
    """P(p > target) under the Beta(1 + dlts, 1 + n − dlts) posterior (uniform prior)."""
    return 1 - regularized_incomplete_beta(target, 1 + dlts, 1 + n - dlts)


@cache
def elimination_min_dlts(n: int, options: BoinOptions) -> int | None:
    """The fewest DLTs among n evaluable subjects that eliminate the level; None when none can."""
    if n < options.elimination_min_n:
        return None
    eliminating = (y for y in range(n + 1) if prob_above_target(n, y, options.target) > options.elimination_cutoff)
    return next(eliminating, None)


def is_eliminated(n: int, dlts: int, options: BoinOptions) -> bool:
    """Whether `dlts` DLTs among `n` evaluable subjects eliminate a level (and every level above it)."""
    threshold = elimination_min_dlts(n, options)
    return threshold is not None and dlts >= threshold


def first_eliminated_level(ns: Sequence[int], dlts: Sequence[int], options: BoinOptions) -> int | None:
    """The lowest eliminated level (1-based), or None."""
    return next((index + 1 for index, n in enumerate(ns) if is_eliminated(n, dlts[index], options)), None)


def boin_move(
    level: int, n: int, dlts: int, *, first_eliminated: int | None, options: BoinOptions, bounds: BoinBoundaries
) -> Move:
    """The BOIN move after `dlts` DLTs in `n` evaluable subjects at `level` (which is not level 1 eliminated)."""
    seen = f"{dlts} DLT in {plural(n, 'evaluable subject')} at level {level}"
    if first_eliminated is not None and level >= first_eliminated:
        below = first_eliminated - 1
        return Move(below, f"{seen}: level {first_eliminated} and above eliminated, de-escalate to level {below}")
    rate = f"{seen}: observed DLT rate {dlts / n:.3f}"
    if dlts <= bounds.escalate_max_dlts(n):
        blocked = _escalation_blocked(level, first_eliminated, options)
        if blocked:
            return Move(level, f"{rate} ≤ λe {bounds.lambda_e:.4f} but {blocked}: stay at level {level}")
        return Move(level + 1, f"{rate} ≤ λe {bounds.lambda_e:.4f}: escalate to level {level + 1}")
    if dlts >= bounds.deescalate_min_dlts(n):
        if level == 1:
            return Move(1, f"{rate} ≥ λd {bounds.lambda_d:.4f} at the lowest level: stay at level 1")
        return Move(level - 1, f"{rate} ≥ λd {bounds.lambda_d:.4f}: de-escalate to level {level - 1}")
    return Move(level, f"{rate} between λe {bounds.lambda_e:.4f} and λd {bounds.lambda_d:.4f}: stay at level {level}")


def _escalation_blocked(level: int, first_eliminated: int | None, options: BoinOptions) -> str:
    if level == options.n_levels:
        return "it is the top level"
    if first_eliminated is not None and level + 1 >= first_eliminated:
        return f"level {level + 1} is eliminated"
    return ""


def isotonic_regression(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """The weighted non-decreasing least-squares fit (pool adjacent violators)."""
    blocks: list[tuple[float, float, int]] = []  # (value, weight, size)
    for value, weight in zip(values, weights, strict=True):
        blocks.append((value, weight, 1))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (high, high_weight, high_size), (low, low_weight, low_size) = blocks.pop(-2), blocks.pop()
            pooled_weight = high_weight + low_weight
            pooled = (high * high_weight + low * low_weight) / pooled_weight
            blocks.append((pooled, pooled_weight, high_size + low_size))
    return [value for value, _, size in blocks for _ in range(size)]


def closest_to_target(estimates: Sequence[float], target: float) -> int:
    """Index of the estimate closest to target, with the tie rules of the module docstring."""
    distances = [abs(estimate - target) for estimate in estimates]
    best = min(distances)
    tied = [index for index, distance in enumerate(distances) if distance - best <= _TIE_TOLERANCE]
    if all(estimates[index] <= target for index in tied):
        return tied[-1]
    return tied[0]


def isotonic_estimates(ns: Sequence[int], dlts: Sequence[int], options: BoinOptions) -> dict[int, float]:
    """Isotonic DLT-rate estimates of the tried, non-eliminated levels, keyed by level (1-based)."""
    first_eliminated = first_eliminated_level(ns, dlts, options)
    top = options.n_levels if first_eliminated is None else first_eliminated - 1
    tried = [index for index in range(top) if ns[index] > 0]
    estimates, weights = [], []
    for index in tried:
        n, y = ns[index] + 0.1, dlts[index] + 0.05
        estimates.append(y / n)
        weights.append(n * n * (n + 1) / (y * (n - y)))  # 1 / variance of the estimate
    return {index + 1: value for index, value in zip(tried, isotonic_regression(estimates, weights), strict=True)}


def select_mtd(ns: Sequence[int], dlts: Sequence[int], options: BoinOptions) -> int | None:
    """The MTD level (1-based) at the end of a trial; None when level 1 is eliminated or nothing was tried."""
    estimates = isotonic_estimates(ns, dlts, options)
    if not estimates:
        return None
    return list(estimates)[closest_to_target(list(estimates.values()), options.target)]


def next_boin_decision(path: str | Sequence[DoseToken], options: BoinOptions) -> Decision:
    """The next BOIN decision for a dose path; raises DosePathError if malformed."""
    tokens = parse_dose_path(path, n_levels=options.n_levels) if isinstance(path, str) else path
    if not tokens:
        return dose(
            1, options.cohort_size, f"No subject dosed yet: start at level 1 with a cohort of {options.cohort_size}"
        )
    levels = count_by_level(tokens, n_levels=options.n_levels)
    ns, dlts = [counts.evaluable for counts in levels], [counts.dlts for counts in levels]
    first_eliminated = first_eliminated_level(ns, dlts, options)
    if first_eliminated == 1:
        return stop(_elimination_reason(levels[0], options) + ": no tolerable dose")
    current = levels[tokens[-1].level - 1]
    trial_complete = sum(counts.active for counts in levels) >= options.max_subjects
    if first_eliminated is not None and current.level >= first_eliminated:  # acts at once, pending or not
        return _end_of_trial(levels, options) if trial_complete else _next_cohort(current, first_eliminated, options)
    missing = _missing_in_cohort(tokens, options.cohort_size)
    if missing:
        return dose(current.level, missing, f"{_seen(current)}: complete the cohort of {options.cohort_size}")
    if current.pending:
        return hold(f"{_seen(current)}: hold until every subject dosed at level {current.level} is evaluable")
    if trial_complete:
        return _end_of_trial(levels, options)
    return _next_cohort(current, first_eliminated, options)


def _next_cohort(current: LevelCounts, first_eliminated: int | None, options: BoinOptions) -> Decision:
    bounds = boin_boundaries(options.target)
    move = boin_move(
        current.level,
        current.evaluable,
        current.dlts,
        first_eliminated=first_eliminated,
        options=options,
        bounds=bounds,
    )
    return dose(move.level, options.cohort_size, move.reason, escalate=move.level > current.level)


def _end_of_trial(levels: Sequence[LevelCounts], options: BoinOptions) -> Decision:
    ended = f"All {options.max_subjects} subjects dosed"
    if any(counts.pending for counts in levels):
        return hold(f"{ended}: hold until every subject is evaluable, then select the MTD")
    ns, dlts = [counts.evaluable for counts in levels], [counts.dlts for counts in levels]
    estimates = isotonic_estimates(ns, dlts, options)
    if not estimates:
        return stop(f"{ended}: no level tried and not eliminated, so no tolerable dose")
    mtd = select_mtd(ns, dlts, options)
    listed = ", ".join(f"level {level} {value:.3f}" for level, value in estimates.items())
    step = f"isotonic DLT-rate estimates {listed}; closest to the target {options.target}: level {mtd}"
    return declare(Action.DECLARE_MTD, mtd, f"{ended}: {step}")


def _missing_in_cohort(tokens: Sequence[DoseToken], cohort_size: int) -> int:
    """Subjects still to dose to complete the cohort at the last level dosed (X replaced, not counted)."""
    level, run = tokens[-1].level, 0
    for token in reversed(tokens):
        if token.level != level:
            break
        run += sum(1 for outcome in token.outcomes if outcome != "X")
    in_cohort = run % cohort_size
    return cohort_size - in_cohort if in_cohort or run == 0 else 0


def _seen(counts: LevelCounts) -> str:
    text = f"{counts.dlts} DLT in {plural(counts.evaluable, 'evaluable subject')} at level {counts.level}"
    return f"{text} ({counts.pending} still in the DLT window)" if counts.pending else text


def _elimination_reason(counts: LevelCounts, options: BoinOptions) -> str:
    probability = prob_above_target(counts.evaluable, counts.dlts, options.target)
    return (
        f"{_seen(counts)}: P(DLT rate > {options.target}) = {probability:.3f} > {options.elimination_cutoff}, "
        f"so level {counts.level} and above are eliminated"
    )
