"""The dosing acts on a record's admin page, each through the API's own service: the SRC decision (recorded, then
signed by its members), rescheduling a planned infusion and the screen failure at the dosing gate."""

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from ctit_trial import journey
from ctit_trial.admin_base import ActForm, ActSpec, ServiceAddForm, SignedActForm
from ctit_trial.site_time import format_local
from dosing import selectors, services
from dosing.models import InfusionPlan, SrcDecision
from dosing.services.src import SIGN_MEANING, valid_signatures
from enrollment.roles import Act
from enrollment.selectors import protocol_current

SIGNER = Q(groups__permissions__codename="sign_srcdecision") | Q(user_permissions__codename="sign_srcdecision")


def _text_area(**kwargs) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, **kwargs)


def recommendation_text(now=None) -> str:
    """The engine's live recommendation, as the committee sees it beside its decision."""
    live = selectors.recommendation(protocol_current(), now=now or timezone.now())
    level = "" if live.decision.dose_level is None else f" at level {live.decision.dose_level}"
    return f"{live.decision.action}{level} — {live.decision.reason} (dose path: {live.path or 'none yet'})"


# --- the SRC decision: recorded by a member, signed by each member present ------------------------------------
class SrcDecisionForm(ServiceAddForm):
    members_present = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SrcDecision
        fields = ["meeting_date", "data_cutoff", "members_present", "decision", "dose_level", "rationale"]
        widgets = {"meeting_date": AdminDateWidget(), "data_cutoff": AdminSplitDateTime()}
        field_classes = {"data_cutoff": forms.SplitDateTimeField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = get_user_model().objects.filter(SIGNER, is_active=True).distinct().order_by("last_name", "username")
        self.fields["members_present"].queryset = members
        self.fields["decision"].help_text = f"The engine recommends: {recommendation_text()}."

    def run_service(self, actor, cleaned):
        values = {name: cleaned[name] for name in ("meeting_date", "data_cutoff", "decision", "dose_level")}
        return services.src_decision_record(
            actor=actor, members=list(cleaned["members_present"]), rationale=cleaned.get("rationale") or "", **values
        )


class SrcSignForm(SignedActForm):
    def run_service(self, actor, cleaned):
        return services.src_decision_sign(actor=actor, decision=self.target, **self.credentials(cleaned))


def src_facts(record: SrcDecision) -> list[tuple[str, str]]:
    """What a member signs: the decision beside the engine's recommendation, who was present, who signed."""
    recommended = record.recommended_action + (
        "" if record.recommended_dose_level is None else f" at level {record.recommended_dose_level}"
    )
    signed = [f"{s.printed_name} ({format_local(s.signed_at)})" for s in valid_signatures(record)]
    level = "" if record.dose_level is None else f", level {record.dose_level}"
    members = sorted(member.get_full_name() or member.get_username() for member in record.members_present.all())
    return [
        ("Meeting", f"{record.meeting_date}; data up to {format_local(record.data_cutoff)}"),
        ("Dose path", record.dose_path or "—"),
        ("Engine's recommendation", f"{recommended} — {record.recommendation_reason}"),
        ("Decision", record.get_decision_display() + level),
        ("Rationale", record.rationale or "—"),
        ("Members present", ", ".join(members)),
        ("Signed so far", "; ".join(signed) or "none"),
    ]


SRC_ACTS = {
    "sign": ActSpec(
        label="Sign decision",
        act=Act.SIGN_SRC_DECISION,
        form=SrcSignForm,
        available=lambda record: record.status == SrcDecision.Status.AWAITING_SIGNATURES,
        offered_to=lambda record, user: (
            record.members_present.filter(pk=user.pk).exists() and not record.signatures.filter(signer=user).exists()
        ),
        done=lambda record, signed: (
            f"SRC decision of {signed.meeting_date}: signed; {signed.get_status_display().lower()}."
        ),
        help=f"SRC member's electronic signature. Meaning of this signature: “{SIGN_MEANING}” — I approve the "
        "decision as shown. The last required signature makes it effective. Re-enter your password (and your "
        "one-time code if a second factor is configured).",
        facts=src_facts,
    )
}


# --- the planned infusion: reschedule, screen failure at the gate ---------------------------------------------
class RescheduleForm(ActForm):
    planned_at = forms.SplitDateTimeField(widget=AdminSplitDateTime(), label="New planned infusion time")
    reason = _text_area(help_text="Why the infusion moves; kept in the audit trail.")

    def run_service(self, actor, cleaned):
        return journey.infusion_reschedule(
            actor=actor, subject=self.target.subject, planned_at=cleaned["planned_at"], reason=cleaned["reason"]
        )


class GateFailForm(ActForm):
    reason = _text_area(help_text="Which dosing-day criterion the subject no longer meets.")

    def run_service(self, actor, cleaned):
        return journey.infusion_gate_fail(actor=actor, subject=self.target.subject, reason=cleaned["reason"])


def _live(plan: InfusionPlan) -> bool:
    return plan.status != InfusionPlan.Status.CANCELLED and not hasattr(plan.subject, "infusion")


PLAN_ACTS = {
    "reschedule": ActSpec(
        label="Reschedule infusion",
        act=Act.SCHEDULE_INFUSION,
        form=RescheduleForm,
        available=_live,
        done=lambda plan, moved: (
            f"{moved.subject}: infusion moved to {format_local(moved.planned_at)}; D−1 is {moved.d_minus_1}."
        ),
        help="Move the planned infusion (a new D−1 when the day changes); the old plan's reminders are cancelled.",
        facts=lambda plan: [("Planned", format_local(plan.planned_at)), ("D−1", str(plan.d_minus_1))],
    ),
    "gate_fail": ActSpec(
        label="Screen failure at the dosing gate",
        act=Act.ENROLL,
        form=GateFailForm,
        available=_live,
        done=lambda plan, failure: f"{plan.subject}: screen failure at the dosing gate; the dose slot is released.",
        help="The subject no longer qualifies on the dosing day: the plan is cancelled and the slot released.",
        facts=lambda plan: [("Planned", format_local(plan.planned_at)), ("Status", plan.get_status_display())],
    ),
}
