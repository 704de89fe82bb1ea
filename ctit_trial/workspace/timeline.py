"""The casebook's timeline: the subject's milestones from consent to close-out, each on its site-local day."""

from dataclasses import dataclass
from datetime import date, datetime

from safety.models import Visit


@dataclass(frozen=True)
class Milestone:
    day: date
    study_day: int | None
    what: str
    at: datetime | None = None  # the instant, when the milestone has one (shown in the site's zone)


CLOSED_OUT = "Follow-up closed out"


def _consent_and_screening(book) -> list[tuple]:
    local = book.subject.site.local_date
    rows = [(local(c.signed_at), f"Consent signed (version {c.version})", c.signed_at) for c in book.consents]
    for entry in book.screenings:
        outcome = entry.evaluation.get_outcome_display().lower() if entry.evaluation else "not evaluated"
        rows.append((entry.record.screening_date, f"Screening #{entry.record.attempt}: {outcome}", None))
        rows += [
            (local(s.record.signed_at), f"Eligibility signed by {s.record.printed_name}", s.record.signed_at)
            for s in entry.signatures
        ]
    rows += [(local(f.recorded_at), f"Screen failure: {f.reason}", f.recorded_at) for f in book.screen_failures]
    return rows


def _enrollment_and_dosing(book) -> list[tuple]:
    local = book.subject.site.local_date
    rows = []
    for slot in book.slots:
        rows.append((local(slot.claimed_at), f"Enrolled: dose slot at {slot.dose_level.label}", slot.claimed_at))
        if slot.released_at:
            rows.append((local(slot.released_at), f"Dose slot released: {slot.release_reason}", slot.released_at))
    for plan in book.plans:
        for row in plan.reconfirmations:
            outcome = "cleared" if row.cleared else "not cleared"
            rows.append(
                (row.d_minus_1, f"D−1 reconfirmation: platelets {row.platelets} ×10⁹/L, {outcome}", row.drawn_at)
            )
    if book.infusion:
        infusion = book.infusion
        rows.append((local(infusion.started_at), f"Infusion at {infusion.dose_level.label}", infusion.started_at))
    return rows


def _follow_up(book) -> list[tuple]:
    local = book.subject.site.local_date
    rows = []
    for entry in book.visits:
        visit = entry.record
        if visit.status == Visit.Status.DONE:
            rows.append((visit.visit_date, f"{visit.definition.code} visit done", None))
        elif visit.status == Visit.Status.MISSED:
            rows.append((visit.target_date, f"{visit.definition.code} visit missed", None))
    for event in book.adverse_events:
        ae = event.record
        rows.append((ae.onset_date, f"Adverse event: {event.term}, grade {ae.grade} ({event.dlt_words})", None))
    leaving = book.discontinuation
    if leaving is not None:
        rows.append((leaving.left_on, f"Left the trial: {leaving.get_kind_display()}", leaving.left_at))
    if book.close_out:
        rows.append((local(book.close_out.at), CLOSED_OUT, book.close_out.at))
    return rows


def milestones(book) -> list[Milestone]:
    """Every milestone of the casebook in the order of the subject's days (study day once D0 is known)."""
    rows = _consent_and_screening(book) + _enrollment_and_dosing(book) + _follow_up(book)
    ordered = sorted(  # a day's timed events, then its dated ones (visits, onsets); the close-out ends its day
        rows,
        key=lambda row: (row[0], row[1] == CLOSED_OUT, row[2] is None, row[2].timestamp() if row[2] else 0, row[1]),
    )
    return [Milestone(day, (day - book.d0).days if book.d0 else None, what, at) for day, what, at in ordered]
