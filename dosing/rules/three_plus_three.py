"""Accelerated titration at level 1, then 3+3 (PROTOCOL.md §4.1): the next decision for a dose path.

The state is derived from the whole path on every call, never replayed from events, so a DLT re-adjudicated at
a lower level after escalation changes the answer at once. Readings chosen where the protocol is silent:

- The lowest level with ≥2 DLT exceeds the MTD whatever else is known (pending subjects anywhere, data above
  it); levels above it are ignored and the level below it is the MTD candidate.
- Levels are checked from level 1 upwards; the first one that has not met its rule gets the next subjects, so
  a re-adjudicated DLT at a lower level sends dosing back there (dosing above pauses).
- A cohort already decided is completed even while some of its subjects are pending: the first 3 at a level,
  6 once 1 DLT is seen among ≥3 evaluable, the fill of the candidate to `mtd_requires` (decided at once by the
  failure above), the top-dose confirmation. A new decision (expand, escalate, confirm, declare) waits until no
  subject at the level is pending (hold).
- X subjects never count; the subjects to dose replace them.
- "escalate" is dosing a level above the level of the last subject dosed (the path is in dosing order), which
  opens a higher level; dosing the same or a lower level is "enroll".
- Titration trigger at level 1: a triggering subject anywhere at level 1 switches it to 3+3, not only the first
  (only what-if paths put more subjects there while titrating). `add_one`: one G adds one subject (2 in all);
  a second G or any T switches to 3+3, the subjects already dosed counting.
- The fill below a failed level and the top-dose confirmation both need `mtd_requires` evaluable subjects.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from dosing.rules.config import EscalationOptions
from dosing.rules.decision import Action, Decision, declare, dose, hold, plural, stop
from dosing.rules.path import DoseToken, LevelCounts, count_by_level, parse_dose_path

COHORT = 3  # the 3 of 3+3
EXPANDED_COHORT = 6  # the level after 1 DLT in 3


@dataclass(frozen=True)
class _Rule:
    """What a level needs before its next decision: `target` active subjects; `summary` of its data; why."""

    target: int
    summary: str
    next_step: str


def next_decision(path: str | Sequence[DoseToken], options: EscalationOptions) -> Decision:
    """The next decision for a dose path (text, or tokens already parsed); raises DosePathError if malformed."""
    tokens = parse_dose_path(path, n_levels=options.n_levels) if isinstance(path, str) else path
    last_dosed_level = tokens[-1].level if tokens else None
    return decide(count_by_level(tokens, n_levels=options.n_levels), options, last_dosed_level=last_dosed_level)


def decide(levels: Sequence[LevelCounts], options: EscalationOptions, *, last_dosed_level: int | None) -> Decision:
    """The next decision from the counts of every level (index 0 is level 1) and the level dosed last."""
    failed = next((counts for counts in levels if counts.dlts >= 2), None)
    last = options.n_levels if failed is None else failed.level - 1
    if last == 0:
        return stop(_reason(_summary(failed), "level 1 exceeds the MTD and there is no lower level: no tolerable dose"))
    cleared_summary = ""
    for counts in levels[:last]:
        at_last = counts.level == last
        rule = _level_rule(counts, options, failed=failed if at_last else None, top=at_last and failed is None)
        decision = _dose_or_hold(counts, rule, cleared_summary, last_dosed_level or 1)
        if decision is not None:
            return decision
        cleared_summary = rule.summary
    return _declare(levels[last - 1], failed, cleared_summary)


def _level_rule(counts: LevelCounts, options: EscalationOptions, *, failed: LevelCounts | None, top: bool) -> _Rule:
    """The level's own rule, raised to `mtd_requires` below a failed level and for the top-dose confirmation."""
    own = _level_one_rule(counts, options) if counts.level == 1 else _three_plus_three_rule(counts)
    if failed is not None:
        target = max(own.target, options.mtd_requires)
        return _Rule(
            target, own.summary, f"{_exceeds(failed)}, so fill level {counts.level} to {target} evaluable subjects"
        )
    cleared = counts.evaluable >= own.target  # on evaluable subjects alone: decided, whatever is still pending
    if top and cleared and options.confirm_top_dose and own.target < options.mtd_requires:
        return _Rule(options.mtd_requires, own.summary, f"top level cleared, confirm in {options.mtd_requires}")
    return own


def _three_plus_three_rule(counts: LevelCounts, summary: str = "") -> _Rule:
    summary = summary or _summary(counts)
    if counts.dlts == 1 and counts.evaluable >= COHORT:
        return _Rule(EXPANDED_COHORT, summary, f"expand to {EXPANDED_COHORT}")
    step = f"complete the cohort of {COHORT}" if counts.dosed else f"dose a cohort of {COHORT}"
    return _Rule(COHORT, summary, step)


def _level_one_rule(counts: LevelCounts, options: EscalationOptions) -> _Rule:
    """Accelerated titration at level 1 until the titration trigger switches it to 3+3."""
    summary = _summary(counts, with_grade2=True)
    if _titration_switched(counts, options.titration_trigger):
        rule = _three_plus_three_rule(counts, summary)
        if rule.target == COHORT:
            return _Rule(COHORT, summary, f"titration trigger: level 1 becomes a 3+3 cohort, {rule.next_step}")
        return rule
    if options.titration_trigger == "add_one" and counts.related_grade2 == 1:
        return _Rule(2, summary, "a related grade ≥2 AE in the titration subject adds one subject")
    step = (
        "dose the first subject (accelerated titration)"
        if counts.dosed == 0
        else "accelerated titration needs 1 evaluable subject"
    )
    return _Rule(1, summary, step)


def _titration_switched(counts: LevelCounts, trigger: str) -> bool:
    if trigger == "dlt_only":
        return counts.dlts > 0
    if trigger == "add_one":
        return counts.dlts > 0 or counts.related_grade2 >= 2
    return counts.dlts + counts.related_grade2 > 0


def _dose_or_hold(counts: LevelCounts, rule: _Rule, cleared_summary: str, last_dosed_level: int) -> Decision | None:
    """Dose the subjects the rule still lacks, or hold while some are pending; None once the level is done."""
    missing = rule.target - counts.active
    if missing > 0:
        if counts.level > last_dosed_level:
            reason = _reason(cleared_summary, f"escalate to level {counts.level}")
            if counts.dosed or rule.target != COHORT:  # not a fresh cohort of 3: say what this level needs
                reason = f"{reason}; {rule.summary}: {rule.next_step}"
            return dose(counts.level, missing, reason, escalate=True)
        return dose(counts.level, missing, _reason(rule.summary, rule.next_step))
    if counts.pending:
        return hold(_reason(rule.summary, f"hold until every subject dosed at level {counts.level} is evaluable"))
    return None


def _declare(counts: LevelCounts, failed: LevelCounts | None, summary: str) -> Decision:
    if failed is None:
        step = f"MTD not reached; maximum administered dose is level {counts.level}"
        return declare(Action.DECLARE_MAD, counts.level, _reason(summary, step))
    step = f"{_exceeds(failed)}, so the MTD is level {counts.level}"
    return declare(Action.DECLARE_MTD, counts.level, _reason(summary, step))


def _summary(counts: LevelCounts, *, with_grade2: bool = False) -> str:
    """The level's counts in words, e.g. '1 DLT in 3 evaluable subjects at level 2 (1 still in the DLT window)'."""
    if counts.dosed == 0:
        return f"no subject dosed at level {counts.level}"
    notes = []
    if counts.pending:
        notes.append(f"{counts.pending} still in the DLT window")
    if counts.not_evaluable:
        notes.append(f"{counts.not_evaluable} not evaluable, not counted")
    text = f"{_tally(counts, with_grade2=with_grade2)} at level {counts.level}"
    return f"{text} ({'; '.join(notes)})" if notes else text


def _tally(counts: LevelCounts, *, with_grade2: bool = False) -> str:
    """'2 DLT in 3 evaluable subjects'; with_grade2 adds the related grade ≥2 AEs (the titration trigger)."""
    grade2 = ""
    if with_grade2:
        grade2 = f" and {plural(counts.related_grade2, 'related grade ≥2 AE')}" if counts.related_grade2 else ""
        grade2 = grade2 or " and no related grade ≥2 AE"
    return f"{counts.dlts} DLT{grade2} in {plural(counts.evaluable, 'evaluable subject')}"


def _exceeds(failed: LevelCounts) -> str:
    return f"level {failed.level} exceeds the MTD ({_tally(failed)})"


def _reason(summary: str, step: str) -> str:
    text = f"{summary}: {step}"
    return text[0].upper() + text[1:]
