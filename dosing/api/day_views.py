"""Thin views of the dosing day: each transition is its own POST under /subjects/{id}/dosing/; reads are GETs."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial import journey
from ctit_trial.api.permissions import allows
from ctit_trial.api.serializers import AwareDateTimeField
from ctit_trial.errors import Conflict
from dosing import selectors, services
from dosing.api import day_serializers as s
from enrollment.roles import Act
from enrollment.selectors import sites_visible_to, subject_get_visible


def _state(request, subject) -> Response:
    return Response(s.DosingDaySerializer(selectors.dosing_day_state(subject, now=timezone.now())).data)


class SubjectDosingView(APIView):
    """A subject's dosing day: plan, D−1 result, D0 assessment and checklist, infusion, draws, what is missing."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(responses=s.DosingDaySerializer)
    def get(self, request, subject_pk: int):
        return _state(request, subject_get_visible(request.user, pk=subject_pk))


class _DosingAction(APIView):
    """POST: validate the body, call one service for the subject, answer with the subject's dosing-day state."""

    serializer_class: type[drf_serializers.Serializer]
    service = None
    success_status = 201

    def post(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        body = self.serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        type(self).service(actor=request.user, subject=subject, **body.validated_data)
        response = _state(request, subject)
        response.status_code = self.success_status
        return response


def _action(name: str, serializer, service, act: Act, summary: str, status: int = 201) -> type[APIView]:
    schema = extend_schema(request=serializer, responses={status: s.DosingDaySerializer}, summary=summary)
    attributes = {
        "serializer_class": serializer,
        "service": service,
        "permission_classes": [allows(act)],
        "success_status": status,
        "__doc__": summary,
    }
    return extend_schema_view(post=schema)(type(name, (_DosingAction,), attributes))


ScheduleView = _action(
    "ScheduleView",
    s.ScheduleSerializer,
    services.infusion_schedule,
    Act.SCHEDULE_INFUSION,
    "Plan the infusion (D−1 is derived in the site's time zone).",
)
RescheduleView = _action(
    "RescheduleView",
    s.RescheduleSerializer,
    journey.infusion_reschedule,
    Act.SCHEDULE_INFUSION,
    "Move the planned infusion, with a reason; a blocked plan is scheduled again.",
    status=200,
)
ReconfirmationView = _action(
    "ReconfirmationView",
    s.ReconfirmationWriteSerializer,
    services.reconfirmation_record,
    Act.RECORD_RECONFIRMATION,
    "Record the D−1 platelet reconfirmation; out of range or bleeding blocks the infusion.",
)
AssessmentView = _action(
    "AssessmentView",
    s.AssessmentWriteSerializer,
    services.assessment_record,
    Act.RECORD_ASSESSMENT,
    "Record the D0 pre-infusion assessment (baseline count, events since screening).",
)
InfusionView = _action(
    "InfusionView",
    s.InfusionWriteSerializer,
    journey.infusion_record,
    Act.RECORD_INFUSION,
    "Record the infusion (refused with the reasons while a pre-infusion check fails).",
)
DrawView = _action(
    "DrawView",
    s.DrawWriteSerializer,
    services.draw_record,
    Act.RECORD_DRAW,
    "Record a post-infusion platelet draw (1h, 2h, 4h after the end).",
)
GateFailureView = _action(
    "GateFailureView",
    s.GateFailureSerializer,
    journey.infusion_gate_fail,
    Act.ENROLL,
    "Screen failure at the dosing gate: the slot is released for the next subject.",
)

SlotMoveView = _action(
    "SlotMoveView",
    s.SlotMoveSerializer,
    services.slot_move,
    Act.ENROLL,
    "Move the claimed dose slot of an undosed subject from a level no longer open to the open level, with a reason; "
    "the plan is cancelled and the infusion scheduled again at the new level.",
    status=200,
)

CORRECTIONS = {
    "reconfirmation": (
        s.ReconfirmationCorrectionSerializer,
        services.reconfirmation_correct,
        "Correct the D−1 reconfirmation (with a reason): the plan is blocked or cleared again from the result.",
    ),
    "assessment": (
        s.AssessmentCorrectionSerializer,
        services.assessment_correct,
        "Correct the D0 pre-infusion assessment (with a reason); after the infusion, the checklist is evaluated "
        "again at its start.",
    ),
    "infusion": (
        s.InfusionTimesCorrectionSerializer,
        journey.infusion_times_correct,
        "Correct the infusion's start and end (with a reason): gap, sentinel and checklist checked again, draws' "
        "deviations recomputed, the visit schedule moved with D0.",
    ),
    "vital-signs": (
        s.VitalSignsCorrectionSerializer,
        journey.vital_signs_correct,
        "Correct the vital signs before or after the infusion (with a reason); they must fit the infusion day.",
    ),
}
CorrectionViews = {
    record: _action(
        f"{record.title().replace('-', '')}CorrectionView",
        serializer,
        service,
        Act.CORRECT_DOSING_DAY,
        summary,
        status=200,
    )
    for record, (serializer, service, summary) in CORRECTIONS.items()
}


class ChecklistQuerySerializer(drf_serializers.Serializer):
    start = AwareDateTimeField(required=False, help_text="Intended start (default: the planned time).")


class ChecklistView(APIView):
    """The D0 pre-infusion checklist, evaluated now from recorded data for an intended start."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(
        parameters=[OpenApiParameter("start", str, description="Intended start, ISO 8601 with offset.")],
        responses=s.ChecklistItemSerializer(many=True),
    )
    def get(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        query = ChecklistQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plan = selectors.plan_live(subject)
        if plan is None:
            raise Conflict(f"{subject} has no planned infusion: schedule it first.")
        items = selectors.pre_infusion_checklist(plan, start=query.validated_data.get("start"))
        return Response(s.ChecklistItemSerializer(items, many=True).data)


class TodayView(APIView):
    """For site staff: who has D−1 today, who is dosed today (site-local), and what is still missing."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(responses=s.TodaySerializer)
    def get(self, request):
        now = timezone.now()
        rows = selectors.dosing_today(sites_visible_to(request.user), now=now)
        return Response(s.TodaySerializer({"now": now, "rows": rows}).data)
