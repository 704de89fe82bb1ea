"""Thin views of the safety API: validate, call a service or selector, render. Site scoping via selectors."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.permissions import allows
from ctit_trial.errors import Conflict, InvalidInput
from enrollment.roles import Act
from enrollment.selectors import protocol_current, subject_get_visible, subjects_visible_to
from safety import selectors, services
from safety.api.serializers import (
    AdjudicationSerializer,
    AdverseEventSerializer,
    AdverseEventWriteSerializer,
    BodySizeQuerySerializer,
    LabResultGradeSerializer,
    LabResultSerializer,
    LevelSummarySerializer,
    ReasonSerializer,
    SaeReportRequestSerializer,
    SubjectPlateletsSerializer,
    TemperatureSerializer,
    VisitRecordSerializer,
    VisitSerializer,
)
from safety.models import AdverseEvent


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up visits of your sites' subjects; recording one and marking one missed are POST actions."""

    serializer_class = VisitSerializer
    permission_classes = [allows(GET=Act.READ)]
    filterset_fields = ["status", "subject", "deviation"]
    ordering_fields = ["target_date", "window_latest"]

    def get_queryset(self):
        return selectors.visits_visible_to(self.request.user)

    @extend_schema(request=VisitRecordSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.RECORD_VISIT)])
    def record(self, request, pk=None):
        serializer = VisitRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = services.visit_record(actor=request.user, visit=self.get_object(), **serializer.validated_data)
        return Response(VisitSerializer(selectors.visit_get_visible(request.user, pk=visit.pk)).data)

    @extend_schema(request=ReasonSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.MARK_VISIT_MISSED)])
    def missed(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visit = services.visit_mark_missed(actor=request.user, visit=self.get_object(), **serializer.validated_data)
        return Response(VisitSerializer(selectors.visit_get_visible(request.user, pk=visit.pk)).data)

    @extend_schema(responses=VisitSerializer(many=True), summary="Visits whose window closed without a record.")
    @action(detail=False, methods=["get"], filter_backends=[])
    def overdue(self, request):
        page = self.paginate_queryset(selectors.visits_overdue_visible_to(request.user, now=timezone.now()))
        return self.get_paginated_response(VisitSerializer(page, many=True).data)


class SubjectVisitsView(APIView):
    """A subject's visit schedule (GET), created from the infusion's D0 (POST, idempotent)."""

    permission_classes = [allows(GET=Act.READ, POST=Act.CREATE_VISIT_SCHEDULE)]

    @extend_schema(responses=VisitSerializer(many=True))
    def get(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        return Response(VisitSerializer(selectors.visits_of(subject), many=True).data)

    @extend_schema(request=None, responses={201: VisitSerializer(many=True)}, summary="Create the visit schedule.")
    def post(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        infusion = selectors.infusion_of(subject)
        if infusion is None:
            raise Conflict(f"{subject} has no infusion: the visit schedule starts from D0.")
        services.visit_schedule_create(actor=request.user, infusion=infusion)
        return Response(VisitSerializer(selectors.visits_of(subject), many=True).data, status=status.HTTP_201_CREATED)


class AdverseEventFilter(filters.FilterSet):
    dlt_candidate = filters.BooleanFilter(field_name="dlt_assessment__is_candidate")

    class Meta:
        model = AdverseEvent
        fields = ["subject", "grade", "serious", "relatedness", "source", "ongoing", "susar", "dlt_candidate"]


class AdverseEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Adverse events of your sites' subjects: record (POST), correct with a reason (PATCH); never deleted."""

    serializer_class = AdverseEventSerializer
    permission_classes = [allows(GET=Act.READ, POST=Act.RECORD_AE, PATCH=Act.CORRECT_AE)]
    filterset_class = AdverseEventFilter
    ordering_fields = ["onset_date", "grade", "recorded_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.adverse_events_visible_to(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "config": selectors.safety_config(), "now": timezone.now()}

    def _render(self, ae: AdverseEvent, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.ae_get_visible(self.request.user, pk=ae.pk)
        return Response(AdverseEventSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=AdverseEventWriteSerializer, responses={201: AdverseEventSerializer})
    def create(self, request):
        serializer = AdverseEventWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        values.pop("reason", None)
        subject = subjects_visible_to(request.user).filter(pk=values.pop("subject")).first()
        if subject is None:
            raise InvalidInput.for_field("subject", "Unknown subject: give the id of a subject of your site.")
        ae = services.ae_record(actor=request.user, subject=subject, **values)
        return self._render(ae, code=status.HTTP_201_CREATED)

    @extend_schema(request=AdverseEventWriteSerializer, responses=AdverseEventSerializer)
    def partial_update(self, request, pk=None):
        ae = self.get_object()
        serializer = AdverseEventWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "subject" in changes and changes.pop("subject") != ae.subject_id:
            raise InvalidInput.for_field("subject", "An adverse event cannot move to another subject.")
        reason = changes.pop("reason", None)
        return self._render(services.ae_update(actor=request.user, ae=ae, reason=reason, **changes))

    @extend_schema(request=AdjudicationSerializer, responses=AdverseEventSerializer)
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.ADJUDICATE_DLT)])
    def adjudicate(self, request, pk=None):
        serializer = AdjudicationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ae = self.get_object()
        services.dlt_adjudicate(actor=request.user, ae=ae, **serializer.validated_data)
        return self._render(ae)

    @extend_schema(request=SaeReportRequestSerializer, responses=AdverseEventSerializer)
    @action(detail=True, methods=["post"], url_path="sae-report", permission_classes=[allows(Act.REPORT_SAE)])
    def sae_report(self, request, pk=None):
        serializer = SaeReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ae = self.get_object()
        services.sae_report_record(actor=request.user, ae=ae, **serializer.validated_data)
        return self._render(ae)


class SubjectLabResultsView(APIView):
    """Grade a lab result by CTCAE: it opens, worsens or closes the term's lab-graded AE episode."""

    permission_classes = [allows(Act.RECORD_AE)]

    @extend_schema(request=LabResultSerializer, responses=LabResultGradeSerializer)
    def post(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        serializer = LabResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.lab_result_grade(actor=request.user, subject=subject, **serializer.validated_data)
        ae = selectors.ae_get_visible(request.user, pk=result.adverse_event.pk) if result.adverse_event else None
        context = {"config": selectors.safety_config(), "now": timezone.now()}
        body = {**vars(result), "adverse_event": ae}
        return Response(LabResultGradeSerializer(body, context=context).data)


class SubjectTemperaturesView(APIView):
    """Record a body temperature: fever is graded by CTCAE and opens, worsens or closes the fever episode."""

    permission_classes = [allows(Act.RECORD_AE)]

    @extend_schema(request=TemperatureSerializer, responses=LabResultGradeSerializer)
    def post(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        serializer = TemperatureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.temperature_record(actor=request.user, subject=subject, **serializer.validated_data)
        ae = selectors.ae_get_visible(request.user, pk=result.adverse_event.pk) if result.adverse_event else None
        context = {"config": selectors.safety_config(), "now": timezone.now()}
        body = {**vars(result), "adverse_event": ae}
        return Response(LabResultGradeSerializer(body, context=context).data)


class SubjectPlateletsView(APIView):
    """Platelet endpoints of one subject: baseline, ΔPLT per time point, CCI and PPR when computable."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(parameters=[BodySizeQuerySerializer], responses=SubjectPlateletsSerializer)
    def get(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        query = BodySizeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = selectors.body_size_of(subject, given=query.validated_data)
        result = selectors.subject_platelets(subject, body=body, config=selectors.safety_config().endpoints)
        return Response(SubjectPlateletsSerializer(result).data)


class PlateletSummaryView(APIView):
    """ΔPLT per dose level and time point (n, mean, median, min, max) over the subjects you may see."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(responses=LevelSummarySerializer(many=True))
    def get(self, request):
        subjects = subjects_visible_to(request.user)
        summary = selectors.platelet_summary(subjects, levels=protocol_current().dose_levels.all())
        return Response(LevelSummarySerializer(summary, many=True).data)


class SubjectCloseOutView(APIView):
    """Close out a dosed subject's follow-up once the D30 visit is recorded (status: completed)."""

    permission_classes = [allows(Act.CLOSE_OUT)]

    @extend_schema(request=None, responses={200: None}, summary="Close out the follow-up after D30.")
    def post(self, request, subject_pk: int):
        subject = subject_get_visible(request.user, pk=subject_pk)
        services.subject_close_out(actor=request.user, subject=subject)
        subject.refresh_from_db()
        return Response({"subject": subject.study_number, "status": subject.status})
