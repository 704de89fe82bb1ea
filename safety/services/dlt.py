"""DLT candidates: flagged on every AE save (and when D0 changes), adjudicated with an electronic signature."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, PermissionDenied, raise_if_any
from ctit_trial.signatures import authenticate_signer, printed_name, signature_display, signature_seal
from enrollment.models import Subject
from enrollment.selectors import subjects_visible_to
from safety import selectors
from safety.models import AdverseEvent, DltAdjudication, DltAssessment
from safety.rules.reminders import ae_ref
from safety.services.notifications import notifications_cancel_stale

ADJUDICATE_PERMISSION = "safety.adjudicate_dlt"
Decision = DltAdjudication.Decision
MEANINGS = {Decision.CONFIRM: "DLT confirmed", Decision.REJECT: "DLT rejected"}
REASON_MISSING = {
    Decision.CONFIRM: "Give a short rationale for confirming the DLT.",
    Decision.REJECT: "Give the reason for rejecting the DLT candidate.",
}
READJUDICATION_REASON_MISSING = "This AE was already adjudicated: give the reason for the new adjudication"


def dlt_flag_store(*, actor: AbstractBaseUser, ae: AdverseEvent, reason: str) -> DltAssessment:
    """Flag the AE with the seeded DLT rules and store the verdict (a row per AE; saved only when it changes)."""
    flag = selectors.dlt_flag(ae, window_days=selectors.safety_config().dlt_window_days)
    assessment = DltAssessment.objects.select_for_update().filter(adverse_event=ae).first()
    values = {"is_candidate": flag.is_candidate, "rule": flag.rule or "", "flag_reason": flag.reason}
    if assessment is None:
        assessment = DltAssessment(adverse_event=ae, flagged_at=timezone.now(), **values)
    elif all(getattr(assessment, field) == value for field, value in values.items()):
        return assessment
    else:
        for field, value in values.items():
            setattr(assessment, field, value)
        assessment.flagged_at = timezone.now()
    save_audited(assessment, actor=actor, reason=reason)
    ae.dlt_assessment = assessment
    return assessment


def dlt_flags_refresh(*, actor: AbstractBaseUser, subject: Subject, reason: str) -> int:
    """Flag every AE of the subject again (D0 changed); returns how many flags changed."""
    changed = 0
    events = AdverseEvent.objects.select_for_update(of=("self",)).select_related("subject__site", "ctcae_term")
    for ae in events.filter(subject=subject).order_by("pk"):
        before = selectors.dlt_assessment_of(ae)
        previous = (before.is_candidate, before.rule, before.flag_reason) if before else None
        after = dlt_flag_store(actor=actor, ae=ae, reason=reason)
        changed += previous != (after.is_candidate, after.rule, after.flag_reason)
    return changed


def _adjudication_errors(decision: str, reason: str) -> dict[str, str | None]:
    if decision not in MEANINGS:
        return {"decision": "Give the decision: 'confirm' or 'reject'."}
    return {"reason": None if reason else REASON_MISSING[decision]}


def _readjudication_error(current: DltAdjudication | None, reason_for_change: str) -> str | None:
    if current is None or reason_for_change:
        return None
    return f"{READJUDICATION_REASON_MISSING} (current: {signature_display(current)})."


def _locked_candidate(actor: AbstractBaseUser, ae: AdverseEvent) -> tuple[AdverseEvent, DltAssessment]:
    """The AE and its DLT assessment, locked; refused when not visible or not a candidate."""
    ae = AdverseEvent.objects.select_for_update(of=("self",)).select_related("subject__site").get(pk=ae.pk)
    if not subjects_visible_to(actor).filter(pk=ae.subject_id).exists():
        raise PermissionDenied(f"You cannot see the subjects of site {ae.subject.site.code}.")
    assessment = DltAssessment.objects.select_for_update().filter(adverse_event=ae).first()
    if assessment is None or not assessment.is_candidate:
        why = f" ({assessment.flag_reason})" if assessment else ""
        raise Conflict(f"{ae} is not a DLT candidate{why}: there is nothing to adjudicate.")
    return ae, assessment


@transaction.atomic
def dlt_adjudicate(
    *,
    actor: AbstractBaseUser,
    ae: AdverseEvent,
    decision: str,
    reason: str | None,
    password: str | None,
    otp_token: str | None = None,
    reason_for_change: str | None = None,
) -> DltAdjudication:
    """Confirm or reject a DLT candidate, signed; a re-adjudication supersedes the current one (reason required)."""
    authenticate_signer(user=actor, password=password, otp_token=otp_token)
    if not actor.has_perm(ADJUDICATE_PERMISSION):
        raise PermissionDenied("Only SRC members can adjudicate DLT candidates.")
    reason, reason_for_change = (reason or "").strip(), (reason_for_change or "").strip()
    raise_if_any(_adjudication_errors(decision, reason))
    ae, assessment = _locked_candidate(actor, ae)
    current = selectors.current_adjudication(assessment)
    raise_if_any({"reason_for_change": _readjudication_error(current, reason_for_change)})
    adjudication = DltAdjudication(
        assessment=assessment,
        decision=decision,
        decision_reason=reason,
        supersedes=current,
        reason_for_change=reason_for_change if current else "",
        signer=actor,
        printed_name=printed_name(actor),
        meaning=MEANINGS[decision],
        signed_at=timezone.now(),
    )
    signature_seal(adjudication, record=ae, content=selectors.dlt_content(ae, assessment, adjudication))
    save_audited(adjudication, actor=actor, reason=_history_reason(adjudication))
    notifications_cancel_stale(object_ref=ae_ref(ae.pk), reason=f"DLT candidate adjudicated: {MEANINGS[decision]}")
    return adjudication


def _history_reason(adjudication: DltAdjudication) -> str:
    if adjudication.supersedes is None:
        return f"{adjudication.meaning}: {adjudication.decision_reason}"
    return f"Re-adjudicated, superseding {signature_display(adjudication.supersedes)}: {adjudication.reason_for_change}"
