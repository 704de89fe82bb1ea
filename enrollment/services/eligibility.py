"""Eligibility: each evaluation stored with a verdict per criterion, and the investigator's signature."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, PermissionDenied
from ctit_trial.signatures import authenticate_signer, content_digest, printed_name, signature_display, signature_seal
from enrollment.documents import screening_document
from enrollment.models import Criterion, CriterionVerdict, EligibilityEvaluation, EligibilitySignature, Screening
from enrollment.rules import (
    CRITERION_CODES,
    ENGINE_VERSION,
    EligibilityLimits,
    evaluate_eligibility,
    parse_screening_document,
)
from enrollment.selectors import (
    evaluation_current,
    protocol_current,
    screening_current,
    signature_content,
    signature_status,
)
from enrollment.services.common import subject_lock

SIGN_PERMISSION = "enrollment.sign_eligibility"
SIGN_MEANING = "eligibility confirmed"
Outcome = EligibilityEvaluation.Outcome


def evaluate_and_store(*, actor: AbstractBaseUser, screening: Screening, reason: str) -> EligibilityEvaluation:
    """Evaluate the screening's current document with the protocol's limits; store the outcome and verdicts."""
    protocol = protocol_current()
    criteria = {criterion.code: criterion for criterion in Criterion.objects.filter(protocol=protocol)}
    if set(CRITERION_CODES) - criteria.keys():
        raise Conflict("The eligibility criteria catalogue is not loaded: run `python manage.py seed`.")
    content = screening_document(screening)
    limits = EligibilityLimits.from_settings(protocol.config)
    result = evaluate_eligibility(parse_screening_document(content), limits, site_tz=screening.subject.site.time_zone)
    evaluation = EligibilityEvaluation(
        screening=screening,
        outcome=result.outcome,
        engine_version=ENGINE_VERSION,
        protocol_version=protocol.version,
        content_digest=content_digest(content),
        evaluated_at=timezone.now(),
        evaluated_by=actor,
    )
    save_audited(evaluation, actor=actor, reason=reason)
    verdicts = [
        CriterionVerdict(evaluation=evaluation, criterion=criteria[code], status=verdict.status, reason=verdict.reason)
        for code, verdict in result.criteria.items()
    ]
    bulk_create_with_history(verdicts, CriterionVerdict, default_user=actor, default_change_reason=reason)
    return evaluation


@transaction.atomic
def eligibility_evaluate(*, actor: AbstractBaseUser, screening: Screening) -> EligibilityEvaluation:
    """Evaluate a screening again (e.g. after an engine or protocol update); its data stay as they are."""
    subject = subject_lock(actor=actor, subject=screening.subject)
    if subject.status != subject.Status.SCREENING:  # the signed evaluation stays the one enrollment rested on
        raise Conflict(
            f"{subject} has status '{subject.status}': eligibility is evaluated again only during screening "
            "(a correction of the screening data is evaluated with it)."
        )
    screening = Screening.objects.select_related("consent").get(pk=screening.pk)
    screening.subject = subject
    return evaluate_and_store(actor=actor, screening=screening, reason="Eligibility evaluated again")


@transaction.atomic
def eligibility_sign(
    *, actor: AbstractBaseUser, screening: Screening, password: str | None, otp_token: str | None = None
) -> EligibilitySignature:
    """The investigator's electronic signature of an eligible screening: re-authenticated, bound to its data."""
    authenticate_signer(user=actor, password=password, otp_token=otp_token)
    if not actor.has_perm(SIGN_PERMISSION):
        raise PermissionDenied("Only investigators can sign eligibility.")
    subject = subject_lock(actor=actor, subject=screening.subject)
    if subject.status != subject.Status.SCREENING:
        raise Conflict(f"{subject} has status '{subject.status}': eligibility is signed only during screening.")
    current = screening_current(subject)
    if current.pk != screening.pk:
        raise Conflict(
            f"Screening #{screening.attempt} is not the current screening of {subject} (#{current.attempt} is)."
        )
    screening = current
    document, evaluation = screening_document(screening), evaluation_current(screening)
    _check_signable(screening, evaluation, content_digest(document))
    signature = EligibilitySignature(
        screening=screening,
        evaluation=evaluation,
        signer=actor,
        printed_name=printed_name(actor),
        meaning=SIGN_MEANING,
        signed_at=timezone.now(),
    )
    signature_seal(signature, record=screening, content=signature_content(document, evaluation_id=evaluation.pk))
    save_audited(signature, actor=actor, reason=f"Eligibility signed: {SIGN_MEANING}")
    return signature


def _check_signable(screening: Screening, evaluation: EligibilityEvaluation | None, content_hash: str) -> None:
    """Only an eligible evaluation of the current data, not already validly signed, can be signed."""
    if evaluation is None or evaluation.outcome != Outcome.ELIGIBLE:
        outcome = evaluation.outcome if evaluation else "not evaluated"
        raise Conflict(
            f"Only an eligible screening can be signed: screening #{screening.attempt} of {screening.subject} is "
            f"{outcome}{_open_criteria(evaluation)}."
        )
    if evaluation.content_digest != content_hash:
        raise Conflict("The stored evaluation does not match the screening's current data: evaluate it again.")
    current = signature_status(screening)
    if current.is_valid:
        raise Conflict(
            f"Screening #{screening.attempt} of {screening.subject} already carries a valid signature "
            f"({signature_display(current.signature)})."
        )


def _open_criteria(evaluation: EligibilityEvaluation | None) -> str:
    """' (fail: IN2; review: EX21)' — the criteria standing in the way, by status."""
    if evaluation is None:
        return ""
    groups: dict[str, list[str]] = {}
    for verdict in evaluation.verdicts.select_related("criterion").order_by("pk"):
        if verdict.status != CriterionVerdict.Status.PASS:
            groups.setdefault(verdict.status, []).append(verdict.criterion.code)
    listed = "; ".join(f"{status}: {', '.join(codes)}" for status, codes in groups.items())
    return f" ({listed})" if listed else ""
