"""DLT candidates: flagged on every AE save (and when D0 changes), adjudicated with an electronic signature."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from ctit_trial.signatures import authenticate_signer, content_digest, printed_name
from enrollment.models import Subject
from enrollment.selectors import subjects_visible_to
from safety import selectors
from safety.models import AdverseEvent, DltAssessment
from safety.rules.reminders import ae_ref
from safety.services.notifications import notifications_cancel_stale

ADJUDICATE_PERMISSION = "safety.adjudicate_dlt"
Decision = DltAssessment.Decision
MEANINGS = {Decision.CONFIRM: "DLT confirmed", Decision.REJECT: "DLT rejected"}
REASON_MISSING = {
    Decision.CONFIRM: "Give a short rationale for confirming the DLT.",
    Decision.REJECT: "Give the reason for rejecting the DLT candidate.",
}


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


def _adjudication_errors(decision: str, reason: str) -> dict[str, list[str]]:
    if decision not in MEANINGS:
        return {"decision": ["Give the decision: 'confirm' or 'reject'."]}
    return {} if reason else {"reason": [REASON_MISSING[decision]]}


@transaction.atomic
def dlt_adjudicate(
    *,
    actor: AbstractBaseUser,
    ae: AdverseEvent,
    decision: str,
    reason: str | None,
    password: str | None,
    otp_token: str | None = None,
) -> DltAssessment:
    """Confirm or reject a DLT candidate (reason required), signed by an SRC member or investigator."""
    authenticate_signer(user=actor, password=password, otp_token=otp_token)
    if not actor.has_perm(ADJUDICATE_PERMISSION):
        raise PermissionDenied("Only SRC members can adjudicate DLT candidates.")
    reason = (reason or "").strip()
    errors = _adjudication_errors(decision, reason)
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], errors=errors)
    ae = AdverseEvent.objects.select_for_update(of=("self",)).select_related("subject__site").get(pk=ae.pk)
    if not subjects_visible_to(actor).filter(pk=ae.subject_id).exists():
        raise PermissionDenied(f"You cannot see the subjects of site {ae.subject.site.code}.")
    assessment = DltAssessment.objects.select_for_update().filter(adverse_event=ae).first()
    if assessment is None or not assessment.is_candidate:
        why = f" ({assessment.flag_reason})" if assessment else ""
        raise Conflict(f"{ae} is not a DLT candidate{why}: there is nothing to adjudicate.")
    assessment.decision, assessment.decision_reason = decision, reason
    assessment.adjudicator, assessment.printed_name = actor, printed_name(actor)
    assessment.meaning, assessment.signed_at = MEANINGS[decision], timezone.now()
    assessment.content_digest = content_digest(selectors.dlt_content(ae, assessment))
    save_audited(assessment, actor=actor, reason=f"{MEANINGS[decision]}: {reason}")
    notifications_cancel_stale(object_ref=ae_ref(ae.pk), reason=f"DLT candidate adjudicated: {MEANINGS[decision]}")
    return assessment
