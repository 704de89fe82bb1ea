"""Safety Review Committee decisions: recorded beside the engine's recommendation, effective once signed."""

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, PermissionDenied, raise_if_any
from ctit_trial.signatures import authenticate_signer, printed_name, signature_is_valid, signature_seal
from dosing import selectors
from dosing.models import SrcDecision, SrcSignature
from dosing.rules.decision import Action, Decision
from dosing.services.levels import dose_levels_apply_src
from enrollment.selectors import protocol_current

SIGN_PERMISSION = "dosing.sign_srcdecision"
SIGN_MEANING = "approved"
Kind = SrcDecision.Kind
DECLARATIONS = {Action.DECLARE_MTD: Kind.DECLARE_MTD, Action.DECLARE_MAD: Kind.DECLARE_MAD, Action.STOP: Kind.STOP}


def recommended_kind(decision: Decision, *, open_level: int | None) -> tuple[str | None, int | None]:
    """The SRC decision that follows the engine's recommendation (None while the engine holds)."""
    if decision.action in DECLARATIONS:
        return DECLARATIONS[decision.action], decision.dose_level
    if decision.action == Action.HOLD:
        return None, None
    if open_level is None or decision.dose_level > open_level:
        return Kind.ESCALATE, decision.dose_level
    if decision.dose_level < open_level:
        return Kind.DE_ESCALATE, decision.dose_level
    return Kind.EXPAND, decision.dose_level


def _target_error(kind: str, target: int | None, open_level: int | None, n_levels: int) -> str | None:
    if kind == Kind.STOP:
        return None if target is None else "A stop decision names no dose level."
    if target is None or not 1 <= target <= n_levels:
        return f"Give a dose level from 1 to {n_levels}."
    current = open_level or 0
    wrong_side = {
        Kind.ESCALATE: target <= current,
        Kind.DE_ESCALATE: target >= current,
        Kind.EXPAND: target != current,
    }.get(kind, False)
    return f"Level {target} does not fit '{kind}' while level {open_level} is open." if wrong_side else None


def _rationale_error(chosen: tuple, expected: tuple, engine: Decision, rationale: str) -> str | None:
    if chosen == expected or rationale.strip():
        return None
    level = "" if engine.dose_level is None else f" level {engine.dose_level}"
    return f"The decision differs from the engine's recommendation ({engine.action}{level}): give the reason."


def _members_error(members: list[AbstractBaseUser], required: int) -> str | None:
    outsiders = [member.get_username() for member in members if not member.has_perm(SIGN_PERMISSION)]
    if outsiders:
        return f"Not SRC members: {', '.join(sorted(outsiders))}."
    if len(members) < required:
        return f"At least {required} SRC members must be present; {len(members)} listed."
    return None


@transaction.atomic
def src_decision_record(
    *,
    actor: AbstractBaseUser,
    meeting_date: date,
    data_cutoff: datetime,
    members: list[AbstractBaseUser],
    decision: str,
    dose_level: int | None,
    rationale: str = "",
) -> SrcDecision:
    """Record a committee decision with the engine's current recommendation beside it."""
    protocol, now = protocol_current(), timezone.now()
    if SrcDecision.objects.filter(protocol=protocol, status=SrcDecision.Status.AWAITING_SIGNATURES).exists():
        raise Conflict("Another SRC decision is awaiting signatures: complete it first.")
    open_level = selectors.open_level(protocol)
    current = open_level.level if open_level else None
    live = selectors.recommendation(protocol, now=now)
    expected = recommended_kind(live.decision, open_level=current)
    errors = {
        "data_cutoff": "The data cut-off cannot be in the future." if data_cutoff > now else None,
        "meeting_date": "The meeting date cannot be in the future." if meeting_date > now.date() else None,
        "members_present": _members_error(members, protocol.config.escalation.src_signatures_required),
        "dose_level": _target_error(decision, dose_level, current, protocol.dose_levels.count()),
        "rationale": _rationale_error((decision, dose_level), expected, live.decision, rationale),
    }
    raise_if_any(errors)
    record = SrcDecision(
        protocol=protocol,
        meeting_date=meeting_date,
        data_cutoff=data_cutoff,
        dose_path=live.path,
        recommended_action=live.decision.action,
        recommended_dose_level=live.decision.dose_level,
        recommended_subjects=live.decision.subjects,
        recommendation_reason=live.decision.reason,
        decision=decision,
        dose_level=dose_level,
        rationale=rationale.strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    save_audited(record, actor=actor, reason="SRC decision recorded")
    record._change_reason = f"SRC members present: {', '.join(sorted(m.get_username() for m in members))}"
    record.members_present.set(members)  # the m2m history row carries the same user and this reason
    return record


def decision_content(record: SrcDecision) -> dict:
    """What a committee member signs: the decision, the recommendation beside it, who was present."""
    return {
        "meeting_date": record.meeting_date,
        "data_cutoff": record.data_cutoff,
        "members_present": sorted(record.members_present.values_list("pk", flat=True)),
        "dose_path": record.dose_path,
        "recommendation": [record.recommended_action, record.recommended_dose_level, record.recommended_subjects],
        "decision": [record.decision, record.dose_level, record.rationale],
    }


def valid_signatures(record: SrcDecision) -> list[SrcSignature]:
    """Signatures whose signed content is still the decision's current content."""
    content = decision_content(record)
    return [s for s in record.signatures.all() if signature_is_valid(s, record=record, content=content)]


@transaction.atomic
def src_decision_sign(
    *, actor: AbstractBaseUser, decision: SrcDecision, password: str | None, otp_token: str | None = None
) -> SrcDecision:
    """Sign as a member present; the last required signature makes the decision effective and applies it."""
    authenticate_signer(user=actor, password=password, otp_token=otp_token)
    record = SrcDecision.objects.select_for_update().get(pk=decision.pk)
    if record.status != SrcDecision.Status.AWAITING_SIGNATURES:
        raise Conflict("This SRC decision is already effective.")
    if not actor.has_perm(SIGN_PERMISSION) or not record.members_present.filter(pk=actor.pk).exists():
        raise PermissionDenied("Only SRC members present at the meeting can sign its decision.")
    if record.signatures.filter(signer=actor).exists():
        raise Conflict("You have already signed this decision.")
    signature = SrcSignature(
        decision=record,
        signer=actor,
        printed_name=printed_name(actor),
        meaning=SIGN_MEANING,
        signed_at=timezone.now(),
    )
    signature_seal(signature, record=record, content=decision_content(record))
    save_audited(signature, actor=actor, reason=f"SRC decision signed: {SIGN_MEANING}")
    if len(valid_signatures(record)) >= record.protocol.config.escalation.src_signatures_required:
        _make_effective(record, actor=actor)
    return record


def _make_effective(record: SrcDecision, *, actor: AbstractBaseUser) -> None:
    record.status, record.effective_at = SrcDecision.Status.EFFECTIVE, timezone.now()
    save_audited(record, actor=actor, reason="Required SRC signatures complete")
    target = record.dose_level if record.decision in (Kind.ESCALATE, Kind.EXPAND, Kind.DE_ESCALATE) else None
    reason = f"SRC decision of {record.meeting_date}: {record.get_decision_display()}"
    dose_levels_apply_src(actor=actor, protocol=record.protocol, target=target, reason=reason)
