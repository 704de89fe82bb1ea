"""Operating characteristics (PROTOCOL.md §4.3): simulate many trials of a design under true DLT probabilities.

Simulation model:
- Every dosed subject has a DLT with the level's true probability and is otherwise N: related grade ≥2 AEs are
  drawn with probability 0 (so only a DLT triggers titration), and nobody is pending or not evaluable.
- AT+3+3 runs through the engine itself (`three_plus_three.decide`): all the subjects a decision asks for are
  dosed before the next decision, like a cohort dosed within one DLT window. A declared MAD (MTD not reached at
  the top level) counts as selecting the top level, and is also reported on its own.
- BOIN doses `cohort_size` subjects per cohort for `n_cohorts` cohorts, eliminating and stopping as the R
  package's get.oc does, then selects the MTD by isotonic regression.
One random.Random(seed) stream drives all trials: the same inputs and seed give the same numbers.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dosing.rules.boin import boin_boundaries, boin_move, is_eliminated, select_mtd
from dosing.rules.config import BoinOptions, EscalationOptions
from dosing.rules.decision import Action
from dosing.rules.path import LevelCounts
from dosing.rules.three_plus_three import decide

MAX_DECISIONS_PER_TRIAL = 200  # a trial of at most a few dozen subjects ends long before; more means a bug


class SimulationError(RuntimeError):
    """A simulated trial did not end as the design promises (an engine bug, never a chance event)."""


@dataclass(frozen=True)
class TrialResult:
    """One simulated trial: the selected level (None when stopped), and subjects and DLTs per level."""

    selected: int | None
    mtd_not_reached: bool
    subjects: tuple[int, ...]
    dlts: tuple[int, ...]


@dataclass(frozen=True)
class LevelCharacteristics:
    """Per-level operating characteristics."""

    level: int
    true_dlt: float
    p_selected: float
    mean_subjects: float
    mean_dlts: float


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What many simulated trials of one design did, on average."""

    design: str
    trials: int
    seed: int
    levels: tuple[LevelCharacteristics, ...]
    p_stop_no_tolerable_dose: float
    p_mtd_not_reached: float
    mean_sample_size: float

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "design": self.design,
            "trials": self.trials,
            "seed": self.seed,
            "levels": [vars(level) for level in self.levels],
            "p_stop_no_tolerable_dose": self.p_stop_no_tolerable_dose,
            "p_mtd_not_reached": self.p_mtd_not_reached,
            "mean_sample_size": self.mean_sample_size,
        }


def simulate(
    design: str,
    *,
    true_dlt: Sequence[float],
    trials: int,
    seed: int,
    options: EscalationOptions | BoinOptions,
    progress: Callable[[int], None] | None = None,
) -> OperatingCharacteristics:
    """Simulate `trials` trials of `design` ("at3+3" or "boin"); `progress(1)` is called after each trial."""
    run_trial = _trial_runner(design, options)
    _check_inputs(true_dlt, trials, options)
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    results = []
    for _ in range(trials):
        results.append(run_trial(true_dlt, options, rng))
        if progress is not None:
            progress(1)
    return _summarise(design, seed, true_dlt, results)


def _trial_runner(design: str, options: EscalationOptions | BoinOptions) -> Callable:
    runners = {"at3+3": (EscalationOptions, simulate_at3plus3_trial), "boin": (BoinOptions, simulate_boin_trial)}
    if design not in runners:
        raise ValueError(f"Unknown design {design!r}: expected one of {', '.join(runners)}")
    options_class, runner = runners[design]
    if not isinstance(options, options_class):
        raise TypeError(f"The {design} design needs {options_class.__name__}, not {type(options).__name__}")
    return runner


def _check_inputs(true_dlt: Sequence[float], trials: int, options: EscalationOptions | BoinOptions) -> None:
    if len(true_dlt) != options.n_levels:
        raise ValueError(f"Expected {options.n_levels} true DLT probabilities (one per level), got {len(true_dlt)}")
    if not all(0 <= probability <= 1 for probability in true_dlt):
        raise ValueError("True DLT probabilities must lie between 0 and 1")
    if trials < 1:
        raise ValueError("The number of trials must be at least 1")


def simulate_at3plus3_trial(true_dlt: Sequence[float], options: EscalationOptions, rng: random.Random) -> TrialResult:
    """One AT+3+3 trial, driven by the engine until it stops or declares an MTD or MAD."""
    no_dlt, dlts = [0] * options.n_levels, [0] * options.n_levels
    last_dosed_level = None
    for _ in range(MAX_DECISIONS_PER_TRIAL):
        levels = tuple(LevelCounts(index + 1, no_dlt=no_dlt[index], dlts=dlts[index]) for index in range(len(dlts)))
        decision = decide(levels, options, last_dosed_level=last_dosed_level)
        if decision.action in (Action.ENROLL, Action.ESCALATE):
            index = decision.dose_level - 1
            new_dlts = _draw_dlts(rng, true_dlt[index], decision.subjects)
            dlts[index] += new_dlts
            no_dlt[index] += decision.subjects - new_dlts
            last_dosed_level = decision.dose_level
            continue
        subjects = tuple(map(sum, zip(no_dlt, dlts, strict=True)))
        if decision.action == Action.STOP:
            return TrialResult(None, False, subjects, tuple(dlts))
        if decision.action in (Action.DECLARE_MTD, Action.DECLARE_MAD):
            return TrialResult(decision.dose_level, decision.action == Action.DECLARE_MAD, subjects, tuple(dlts))
        raise SimulationError(f"Unexpected {decision.action} with nobody pending: {decision.reason}")
    raise SimulationError(f"No final decision after {MAX_DECISIONS_PER_TRIAL} decisions")


def simulate_boin_trial(true_dlt: Sequence[float], options: BoinOptions, rng: random.Random) -> TrialResult:
    """One BOIN trial: cohorts until the cohorts run out or level 1 is eliminated."""
    bounds = boin_boundaries(options.target)
    ns, dlts = [0] * options.n_levels, [0] * options.n_levels
    level, first_eliminated = 1, None
    for _ in range(options.n_cohorts):
        index = level - 1
        ns[index] += options.cohort_size
        dlts[index] += _draw_dlts(rng, true_dlt[index], options.cohort_size)
        if is_eliminated(ns[index], dlts[index], options):
            first_eliminated = level if first_eliminated is None else min(first_eliminated, level)
            if level == 1:
                return TrialResult(None, False, tuple(ns), tuple(dlts))
        move = boin_move(
            level, ns[index], dlts[index], first_eliminated=first_eliminated, options=options, bounds=bounds
        )
        level = move.level
    return TrialResult(select_mtd(ns, dlts, options), False, tuple(ns), tuple(dlts))


def _draw_dlts(rng: random.Random, probability: float, subjects: int) -> int:
    return sum(rng.random() < probability for _ in range(subjects))


def _summarise(
    design: str, seed: int, true_dlt: Sequence[float], results: Sequence[TrialResult]
) -> OperatingCharacteristics:
    trials = len(results)
    levels = tuple(
        LevelCharacteristics(
            level=index + 1,
            true_dlt=probability,
            p_selected=sum(result.selected == index + 1 for result in results) / trials,
            mean_subjects=sum(result.subjects[index] for result in results) / trials,
            mean_dlts=sum(result.dlts[index] for result in results) / trials,
        )
        for index, probability in enumerate(true_dlt)
    )
    return OperatingCharacteristics(
        design=design,
        trials=trials,
        seed=seed,
        levels=levels,
        p_stop_no_tolerable_dose=sum(result.selected is None for result in results) / trials,
        p_mtd_not_reached=sum(result.mtd_not_reached for result in results) / trials,
        mean_sample_size=sum(sum(result.subjects) for result in results) / trials,
    )
