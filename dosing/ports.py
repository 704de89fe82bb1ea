"""What the dosing app reads from the layer above it, declared here and provided at start-up (ADR 0013).

The escalation engine needs each dosed subject's DLT facts, which safety follow-up owns. Dosing may not import
safety (safety reads dosing's infusions), so dosing declares the facts it needs and the reader's shape, and the
safety app provides the reader when Django starts (`safety.apps.SafetyConfig.ready`).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectDltFacts:
    """What the escalation engine needs to know about one subject's AEs."""

    dlt_confirmed: bool  # an adjudicated, confirmed DLT (valid adjudication)
    related_grade2: bool  # a related (definitely/probably/possibly) AE of grade ≥2 with onset in the DLT window
    unadjudicated_candidates: int  # DLT candidates without a valid adjudication
    stopped_infusion: bool = False  # an AE is recorded as having stopped the infusion (action taken)


DltFactsReader = Callable[[Iterable[int]], Mapping[int, SubjectDltFacts]]

_readers: dict[str, DltFactsReader] = {}


def provide_dlt_facts(reader: DltFactsReader) -> None:
    """Install the reader of DLT facts (called once by the safety app at start-up)."""
    _readers["dlt_facts"] = reader


def dlt_facts(subject_ids: Iterable[int]) -> Mapping[int, SubjectDltFacts]:
    """Each subject's DLT facts from current data; subjects without any AE are absent."""
    try:
        reader = _readers["dlt_facts"]
    except KeyError:
        raise RuntimeError("No DLT facts reader: the safety app must be in INSTALLED_APPS.") from None
    return reader(subject_ids)
