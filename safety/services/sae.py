"""SAE reports to the sponsor: signed by the investigator ("reported to sponsor"), stopping the 24-hour clock."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, PermissionDenied
from ctit_trial.signatures import authenticate_signer, printed_name, signature_seal
from ctit_trial.site_time import format_local
from safety import selectors
from safety.models import AdverseEvent, SaeReport
from safety.rules.reminders import ae_ref
from safety.services.adverse_events import ae_lock
from safety.services.common import raise_if_any, require_site_member
from safety.services.notifications import notifications_cancel_stale

REPORT_PERMISSION = "safety.report_sae"
REPORT_MEANING = "reported to sponsor"


def _reported_at_error(ae: AdverseEvent, reported_at: datetime, now: datetime) -> str | None:
    if reported_at > now:
        return "The report time cannot be in the future."
    if ae.awareness_at and reported_at < ae.awareness_at:
        return (
            f"The report cannot precede awareness of the SAE, at {format_local(ae.awareness_at, ae.subject.site.zone)}."
        )
    return None


def _signed_report(ae: AdverseEvent, *, actor: AbstractBaseUser, reported_at: datetime, now: datetime) -> SaeReport:
    """The report with the signer's printed name, sealed over the AE content as reported."""
    report = SaeReport(
        adverse_event=ae,
        reported_at=reported_at,
        signer=actor,
        printed_name=printed_name(actor),
        meaning=REPORT_MEANING,
        signed_at=now,
    )
    signature_seal(report, record=ae, content=selectors.sae_report_content(ae, reported_at=reported_at))
    return report


@transaction.atomic
def sae_report_record(
    *,
    actor: AbstractBaseUser,
    ae: AdverseEvent,
    reported_at: datetime,
    password: str | None,
    otp_token: str | None = None,
) -> SaeReport:
    """Record, under the investigator's signature, that the SAE was reported to the sponsor."""
    authenticate_signer(user=actor, password=password, otp_token=otp_token)
    if not actor.has_perm(REPORT_PERMISSION):
        raise PermissionDenied("Only investigators sign SAE reports to the sponsor.")
    ae = ae_lock(ae)
    require_site_member(actor, ae.subject)
    if not ae.serious:
        raise Conflict(f"{ae} is not serious: no SAE report is due.")
    existing = selectors.sae_report_of(ae)
    if existing is not None:
        reported = format_local(existing.reported_at, ae.subject.site.zone)
        raise Conflict(f"This SAE was already reported to the sponsor at {reported}.")
    now = timezone.now()
    raise_if_any({"reported_at": _reported_at_error(ae, reported_at, now)})
    report = _signed_report(ae, actor=actor, reported_at=reported_at, now=now)
    save_audited(report, actor=actor, reason=f"SAE {REPORT_MEANING} (signed)")
    if ae.sponsor_aware_on is None:
        ae.sponsor_aware_on = selectors.site_today(ae.subject.site, now=reported_at)
        save_audited(ae, actor=actor, reason="The sponsor knows of the SAE from its report (SUSAR day 0)")
    notifications_cancel_stale(object_ref=ae_ref(ae.pk), reason="SAE reported to the sponsor")
    return report
