"""The safety acts on a record's admin page, each through the API's own service: DLT adjudication and the SAE
report to the sponsor (both electronic signatures), close-out of a subject's follow-up, resending a reminder."""

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone

from ctit_trial.admin_base import ActForm, ActSpec, SignedActForm, object_act_register
from ctit_trial.signatures import signature_display
from ctit_trial.site_time import format_local
from enrollment.models import Subject
from enrollment.roles import Act
from safety import selectors, services
from safety.models import AdverseEvent, DltAdjudication, Visit
from safety.services.dlt import MEANINGS
from safety.services.notifications import RESENDABLE
from safety.services.sae import REPORT_MEANING


def _text_area(**kwargs) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, **kwargs)


def ae_facts(ae: AdverseEvent) -> list[tuple[str, str]]:
    """What a signer reads before signing about an AE: the facts the signature covers."""
    assessment = selectors.dlt_assessment_of(ae)
    current = selectors.current_adjudication(assessment) if assessment else None
    day = selectors.onset_study_day(ae)
    term = f"CTCAE v{ae.ctcae_version}: {ae.ctcae_term.term if ae.ctcae_term else ae.other_term}, grade {ae.grade}"
    return [
        ("Subject", f"{ae.subject.study_number} ({ae.subject.site.code})"),
        ("Event", f"{ae.verbatim_term} — {term}"),
        ("Onset", f"{ae.onset_date}" + ("" if day is None else f" (D{day})")),
        ("Relatedness", ae.get_relatedness_display() or "not assessed"),
        ("Serious", "yes" if ae.serious else "no"),
        ("Aware of the SAE", format_local(ae.awareness_at) if ae.awareness_at else "—"),
        ("DLT flag", assessment.flag_reason if assessment else "—"),
        ("Current adjudication", f"{current.meaning} ({signature_display(current)})" if current else "none"),
    ]


def sae_facts(ae: AdverseEvent) -> list[tuple[str, str]]:
    """The AE's facts, and where its 24-hour reporting clock stands now."""
    clock = selectors.sae_clock(ae, clocks=selectors.safety_config().clocks, now=timezone.now())
    if clock is None:
        return ae_facts(ae)
    return [
        *ae_facts(ae),
        ("Report due by", f"{format_local(clock.deadline)} ({clock.status.value.replace('_', ' ')})"),
    ]


# --- DLT adjudication (SRC members of the subject's site) -------------------------------------------------
class AdjudicateForm(SignedActForm):
    decision = forms.ChoiceField(choices=DltAdjudication.Decision.choices, widget=forms.RadioSelect)
    reason = _text_area(label="Rationale", help_text="Why the candidate is, or is not, a dose-limiting toxicity.")
    reason_for_change = _text_area(
        required=False, label="Reason for the new adjudication", help_text="It supersedes the current one."
    )
    field_order = ["decision", "reason", "reason_for_change", "password", "otp_token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assessment = selectors.dlt_assessment_of(self.target)
        if assessment is None or selectors.current_adjudication(assessment) is None:
            del self.fields["reason_for_change"]

    def run_service(self, actor, cleaned):
        return services.dlt_adjudicate(
            actor=actor,
            ae=self.target,
            decision=cleaned["decision"],
            reason=cleaned["reason"],
            reason_for_change=cleaned.get("reason_for_change"),
            **self.credentials(cleaned),
        )


def _is_candidate(ae: AdverseEvent) -> bool:
    assessment = selectors.dlt_assessment_of(ae)
    return assessment is not None and assessment.is_candidate


# --- the SAE report to the sponsor (the site's investigator) ----------------------------------------------------
class SaeReportForm(SignedActForm):
    reported_at = forms.SplitDateTimeField(widget=AdminSplitDateTime(), label="Reported to the sponsor at")
    field_order = ["reported_at", "password", "otp_token"]

    def run_service(self, actor, cleaned):
        return services.sae_report_record(
            actor=actor, ae=self.target, reported_at=cleaned["reported_at"], **self.credentials(cleaned)
        )


def _sae_unreported(ae: AdverseEvent) -> bool:
    return ae.serious and selectors.sae_report_of(ae) is None


AE_ACTS = {
    "adjudicate": ActSpec(
        label="Adjudicate DLT",
        act=Act.ADJUDICATE_DLT,
        form=AdjudicateForm,
        available=_is_candidate,
        done=lambda ae, adjudication: f"{ae}: {adjudication.meaning} ({adjudication.printed_name}).",
        help=f"SRC member's electronic signature. Meaning of this signature: “{MEANINGS['confirm']}” or "
        f"“{MEANINGS['reject']}” on the facts shown. Re-enter your password (and your one-time code if a second "
        "factor is configured).",
        facts=ae_facts,
    ),
    "sae_report": ActSpec(
        label="Report SAE to sponsor",
        act=Act.REPORT_SAE,
        form=SaeReportForm,
        available=_sae_unreported,
        done=lambda ae, report: f"{ae}: {report.meaning} at {format_local(report.reported_at)}; the clock stops.",
        help=f"Investigator's electronic signature. Meaning of this signature: “{REPORT_MEANING}” — the SAE as shown "
        "was reported to the sponsor at the time given. Re-enter your password (and your one-time code if a second "
        "factor is configured).",
        facts=sae_facts,
    ),
}


# --- close-out of a dosed subject's follow-up (on the subject's page) ------------------------------------------
class CloseOutForm(ActForm):
    confirm = forms.BooleanField(label="The follow-up is complete", help_text="The last visit is recorded.")

    def run_service(self, actor, cleaned):
        services.subject_close_out(actor=actor, subject=self.target)
        return self.target


def _last_visit_recorded(subject: Subject) -> bool:
    last = Visit.objects.filter(subject=subject).order_by("-definition__target_day").first()
    return subject.status == Subject.Status.DOSED and last is not None and last.status == Visit.Status.DONE


object_act_register(
    Subject,
    "close_out",
    ActSpec(
        label="Close out follow-up",
        act=Act.CLOSE_OUT,
        form=CloseOutForm,
        available=_last_visit_recorded,
        done=lambda subject, _: f"{subject}: follow-up closed out; the subject has completed the trial.",
        help="Complete the subject's follow-up once the last scheduled visit is recorded; visits can then no longer "
        "be changed.",
    ),
)


# --- resending a reminder (on the message's page) --------------------------------------------------------------
class ResendForm(ActForm):
    reason = _text_area(help_text="Why the message is sent again; kept with the new message.")

    def run_service(self, actor, cleaned):
        return services.notification_resend(actor=actor, notification=self.target, reason=cleaned["reason"])


NOTIFICATION_ACTS = {
    "resend": ActSpec(
        label="Resend",
        act=Act.RESEND_NOTIFICATION,
        form=ResendForm,
        available=lambda row: row.status in RESENDABLE,
        done=lambda row, new: f"{row}: queued again as message {new.pk}.",
        help="Send this message again as a new message (its own Message-ID), to the recipient's current address.",
        facts=lambda row: [
            ("To", row.recipient_email),
            ("Kind", row.get_kind_display()),
            ("Status", row.get_status_display()),
            ("Due", format_local(row.due_at, row.site.zone) if row.site_id else format_local(row.due_at)),
        ],
    )
}
