"""Screenings (saved from the Appendix A document), eligibility evaluations and the investigator's sign-off."""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.exceptions import NON_FIELD
from ctit_trial.api.permissions import allows
from ctit_trial.api.serializers import ReasonForChangeSerializer
from ctit_trial.errors import InvalidInput
from enrollment import selectors, services
from enrollment.api.screening_serializers import (
    EvaluationSerializer,
    ScreeningDetailSerializer,
    ScreeningSerializer,
    SignRequestSerializer,
)
from enrollment.models import EligibilityEvaluation, Screening
from enrollment.roles import Act

DOCUMENT_HELP = (
    "Body: the screening document of docs/protocol.md Appendix A. `consent_signed_on` may be left out (it is taken "
    "from the recorded consent) but must match it when given. A bad unit, a negative count or an impossible "
    "date is a 400 naming the dotted field; nothing is saved."
)


def _document(data) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput.for_field(NON_FIELD, "Expected the screening document as a JSON object.")
    return dict(data)


def _reason(value) -> str | None:
    """The correction's `reason`, validated like every reason field (text of at most 1000 characters)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # the service refuses a missing reason with its own message
    serializer = ReasonForChangeSerializer(data={"reason": value})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["reason"]


class SubjectScreeningsView(APIView):
    """A subject's screenings; POST saves a new one (first screening, or a re-screen after a screen failure)."""

    permission_classes = [allows(GET=Act.READ, POST=Act.RECORD_SCREENING)]

    @extend_schema(responses=ScreeningSerializer(many=True), summary="The subject's screenings, oldest first.")
    def get(self, request, subject_pk: int):
        subject = selectors.subject_get_visible(request.user, pk=subject_pk)
        screenings = selectors.screenings_visible_to(request.user).filter(subject=subject)
        return Response(ScreeningSerializer(screenings, many=True).data)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: ScreeningDetailSerializer}, description=DOCUMENT_HELP)
    def post(self, request, subject_pk: int):
        subject = selectors.subject_get_visible(request.user, pk=subject_pk)
        screening = services.screening_record(actor=request.user, subject=subject, document=_document(request.data))
        screening = selectors.screening_get_visible(request.user, pk=screening.pk)
        return Response(ScreeningDetailSerializer(screening).data, status=status.HTTP_201_CREATED)


class SubjectScreeningView(APIView):
    """One screening of a subject; PUT corrects the current one (the document plus a `reason`)."""

    permission_classes = [allows(GET=Act.READ, PUT=Act.CORRECT_SCREENING)]

    @extend_schema(responses=ScreeningDetailSerializer)
    def get(self, request, subject_pk: int, pk: int):
        subject = selectors.subject_get_visible(request.user, pk=subject_pk)
        return Response(
            ScreeningDetailSerializer(selectors.screening_get_visible(request.user, pk=pk, subject=subject)).data
        )

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=ScreeningDetailSerializer,
        description=f"{DOCUMENT_HELP} Put the reason for change beside the document's fields as `reason`.",
        examples=[OpenApiExample("Correction", value={"reason": "Lab transcription error", "ecog": 1, "labs": {}})],
    )
    def put(self, request, subject_pk: int, pk: int):
        subject = selectors.subject_get_visible(request.user, pk=subject_pk)
        screening = selectors.screening_get_visible(request.user, pk=pk, subject=subject)
        document = _document(request.data)
        reason = _reason(document.pop("reason", None))
        services.screening_update(actor=request.user, screening=screening, document=document, reason=reason)
        return Response(ScreeningDetailSerializer(selectors.screening_get_visible(request.user, pk=pk)).data)


class ScreeningFilter(filters.FilterSet):
    site = filters.CharFilter(field_name="subject__site__code", help_text="Site code, e.g. BJ01.")
    subject = filters.NumberFilter(field_name="subject_id")
    is_current = filters.BooleanFilter(help_text="Only subjects' latest screenings.")

    class Meta:
        model = Screening
        fields = ["site", "subject", "is_current"]


class ScreeningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Screenings of the caller's sites with their current evaluation and signature status."""

    filterset_class = ScreeningFilter
    ordering_fields = ["screening_date", "recorded_at"]

    def get_queryset(self):
        return selectors.screenings_visible_to(self.request.user)

    def get_serializer_class(self):
        return ScreeningSerializer if self.action == "list" else ScreeningDetailSerializer

    @extend_schema(
        request=SignRequestSerializer,
        responses=ScreeningDetailSerializer,
        summary="The investigator signs an eligible screening (re-entering their password).",
    )
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.SIGN_ELIGIBILITY)])
    def sign(self, request, pk=None):
        serializer = SignRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.eligibility_sign(
            actor=request.user, screening=self.get_object(), password=data["password"], otp_token=data["otp_token"]
        )
        return Response(ScreeningDetailSerializer(self.get_queryset().get(pk=pk)).data)


class EvaluationFilter(filters.FilterSet):
    screening = filters.NumberFilter(field_name="screening_id")
    subject = filters.NumberFilter(field_name="screening__subject_id")

    class Meta:
        model = EligibilityEvaluation
        fields = ["screening", "subject", "outcome"]


class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stored eligibility evaluations with every criterion's verdict (newest first)."""

    serializer_class = EvaluationSerializer
    permission_classes = [allows(Act.READ)]
    filterset_class = EvaluationFilter

    def get_queryset(self):
        return selectors.evaluations_visible_to(self.request.user)
