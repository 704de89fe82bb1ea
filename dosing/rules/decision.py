"""The escalation engines' answer: what to do next, at which level, with how many subjects, and why."""

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """The next step the engine recommends (PROTOCOL.md §4.2)."""

    ENROLL = "enroll"
    HOLD = "hold"
    ESCALATE = "escalate"
    STOP = "stop"
    DECLARE_MTD = "declare_mtd"
    DECLARE_MAD = "declare_mad"


# The actions under which subjects are dosed: a slot is claimed, and each dosing-day step proceeds, only under them.
DOSING_ACTIONS = frozenset({Action.ENROLL, Action.ESCALATE})


@dataclass(frozen=True)
class Decision:
    """One recommendation; `subjects` is how many more to dose at `dose_level` (enroll and escalate only)."""

    action: Action
    dose_level: int | None
    subjects: int | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The JSON object of PROTOCOL.md §4.2."""
        return {
            "action": self.action.value,
            "dose_level": self.dose_level,
            "subjects": self.subjects,
            "reason": self.reason,
        }


def dose(level: int, subjects: int, reason: str, *, escalate: bool = False) -> Decision:
    """Dose `subjects` more subjects at `level`; `escalate` when that opens a level never dosed before."""
    return Decision(Action.ESCALATE if escalate else Action.ENROLL, level, subjects, reason)


def hold(reason: str) -> Decision:
    """Dose nobody until the pending subjects become evaluable."""
    return Decision(Action.HOLD, None, None, reason)


def stop(reason: str) -> Decision:
    """End the trial: no tolerable dose."""
    return Decision(Action.STOP, None, None, reason)


def declare(action: Action, level: int, reason: str) -> Decision:
    """End the trial declaring the MTD or the maximum administered dose at `level`."""
    return Decision(action, level, None, reason)


def plural(count: int, noun: str) -> str:
    """'1 subject', '3 subjects'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
