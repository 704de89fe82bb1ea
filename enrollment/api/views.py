from django.contrib.auth import get_user_model
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial import journey
from ctit_trial.api.exceptions import NON_FIELD
from ctit_trial.api.permissions import allows
from ctit_trial.errors import InvalidInput, NotVisible
from enrollment import selectors, services
from enrollment.api.screening_serializers import (
    ConsentCreateSerializer,
    ConsentSerializer,
    DiscontinuationCreateSerializer,
    DiscontinuationSerializer,
    EnrollmentSerializer,
    IdentitySerializer,
    IdentityUpdateSerializer,
    ScreenFailRequestSerializer,
    ScreenFailureSerializer,
    SubjectDetailSerializer,
)
from enrollment.api.serializers import (
    EligibilityResultSerializer,
    MeSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
    SubjectCreateSerializer,
    SubjectSerializer,
)
from enrollment.models import Subject, SubjectIdentity
from enrollment.roles import Act
from enrollment.rules import ENGINE_VERSION, EligibilityLimits, evaluate_eligibility, parse_screening_document


class MeView(APIView):
    """The caller's identity, study roles and sites."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        payload = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "email": user.email,
            "roles": selectors.user_role_keys(user),
            "sites": list(selectors.site_memberships_of(user)),
            "sees_all_sites": selectors.user_sees_all_sites(user),
        }
        return Response(MeSerializer(payload).data)


class SiteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sites the caller can see; data managers may edit one with a reason for change."""

    serializer_class = SiteSerializer
    permission_classes = [allows(GET=Act.READ, PATCH=Act.EDIT_SITE)]
    lookup_field = "code"
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return selectors.sites_visible_to(self.request.user)

    @extend_schema(request=SiteUpdateSerializer, responses=SiteSerializer)
    def partial_update(self, request, code=None):
        site = self.get_object()
        if not selectors.sites_of_member(request.user).filter(pk=site.pk).exists():
            return self.permission_denied(request, message=f"You are not a member of site {site.code}.")
        serializer = SiteUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        site = services.site_update(actor=request.user, site=site, reason=changes.pop("reason"), **changes)
        return Response(SiteSerializer(site).data)


class SubjectFilter(filters.FilterSet):
    site = filters.CharFilter(field_name="site__code", help_text="Site code, e.g. BJ01.")
    dose_level = filters.NumberFilter(method="filter_dose_level", help_text="Dose level (1–3) of an active slot.")

    class Meta:
        model = Subject
        fields = {"status": ["exact"], "site__code": ["exact"]}

    def filter_dose_level(self, queryset, name, value):
        active = queryset.filter(dose_slots__dose_level__level=value).exclude(dose_slots__status="released")
        return active.distinct()


class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Subjects of the caller's sites, by study number only; each status transition is its own POST action."""

    serializer_class = SubjectSerializer
    permission_classes = [allows(GET=Act.READ, POST=Act.REGISTER_SUBJECT)]
    filterset_class = SubjectFilter
    ordering_fields = ["study_number", "created_at"]

    def get_queryset(self):
        subjects = selectors.subjects_visible_to(self.request.user)
        if self.action == "retrieve":
            subjects = subjects.prefetch_related("screen_failures__criteria", "screen_failures__recorded_by")
        return subjects

    def get_serializer_class(self):
        return SubjectDetailSerializer if self.action == "retrieve" else SubjectSerializer

    @extend_schema(request=SubjectCreateSerializer, responses={201: SubjectSerializer})
    def create(self, request):
        serializer = SubjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = selectors.site_for_request(request.user, code=serializer.validated_data["site"])
        subject = services.subject_register(actor=request.user, site=site)
        return Response(SubjectSerializer(subject).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        responses=IdentitySerializer,
        summary="The subject's direct identifiers.",
        description="Only for roles holding enrollment.view_subjectidentity (study coordinator, investigator).",
    )
    @extend_schema(
        methods=["PUT"],
        request=IdentityUpdateSerializer,
        responses=IdentitySerializer,
        summary="Record the subject's identifiers, or correct them with a reason.",
        description="A correction of recorded identifiers needs `reason` (kept in the audit trail).",
    )
    @action(
        detail=True,
        methods=["get", "put"],
        permission_classes=[allows(GET=Act.READ_IDENTITY, PUT=Act.RECORD_IDENTITY)],
    )
    def identity(self, request, pk=None):
        subject = self.get_object()
        if request.method == "GET":
            identity = SubjectIdentity.objects.filter(subject=subject).select_related("subject").first()
            if identity is None:
                raise NotVisible(f"No identifiers are recorded for {subject}.")
            return Response(IdentitySerializer(identity).data)
        serializer = IdentityUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        identity = services.identity_save(
            actor=request.user, subject=subject, reason=values.pop("reason", ""), **values
        )
        return Response(IdentitySerializer(identity).data)

    @extend_schema(methods=["GET"], responses=ConsentSerializer(many=True), summary="The subject's consents.")
    @extend_schema(
        methods=["POST"],
        request=ConsentCreateSerializer,
        responses={201: ConsentSerializer},
        summary="Record a signed informed consent.",
        description="Its calendar day at the site is the IN1 reference; screening data need a consent first.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        permission_classes=[allows(GET=Act.READ, POST=Act.RECORD_CONSENT)],
    )
    def consent(self, request, pk=None):
        subject = self.get_object()
        if request.method == "GET":
            return Response(ConsentSerializer(selectors.consents_of(subject), many=True).data)
        serializer = ConsentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        values["obtained_by"] = _staff_user(values.get("obtained_by"))
        consent = services.consent_record(actor=request.user, subject=subject, **values)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=EnrollmentSerializer,
        summary="Enroll the subject and claim a dose slot.",
        description="Only a subject whose current screening is eligible, validly signed by an investigator and "
        "inside the screening window, on the planned enrollment date. The dose slot is claimed in the same "
        "transaction; a 409 says why enrollment is refused.",
    )
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.ENROLL)])
    def enroll(self, request, pk=None):
        slot = journey.subject_enroll(actor=request.user, subject=self.get_object())
        subject = selectors.subject_get_visible(request.user, pk=slot.subject.pk)
        return Response(EnrollmentSerializer({"subject": subject, "slot": slot}).data)

    @extend_schema(
        request=ScreenFailRequestSerializer,
        responses={201: ScreenFailureSerializer},
        summary="Record a screen failure.",
        description="Records the failing criteria of the current evaluation; the subject may be re-screened "
        "afterwards by saving a new screening.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="screen-fail",
        permission_classes=[allows(Act.ENROLL)],
    )
    def screen_fail(self, request, pk=None):
        serializer = ScreenFailRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        failure = services.subject_screen_fail(actor=request.user, subject=self.get_object(), reason=reason)
        return Response(ScreenFailureSerializer(failure).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DiscontinuationCreateSerializer,
        responses={201: DiscontinuationSerializer},
        summary="Record that the subject left the trial (withdrawal, lost to follow-up, death, investigator decision).",
        description="Only an enrolled or dosed subject, once. The subject becomes withdrawn; if not yet dosed, its "
        "infusion plan is cancelled and its dose slot released; its planned visits are marked missed and its "
        "pending reminders cancelled. A death needs its fatal (grade 5) AE recorded first. A dosed subject who "
        "left on or before the last day of the DLT window without a DLT is not evaluable (X) and is replaced.",
    )
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.DISCONTINUE_SUBJECT)])
    def discontinuation(self, request, pk=None):
        subject = self.get_object()
        serializer = DiscontinuationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = journey.subject_discontinue(actor=request.user, subject=subject, **serializer.validated_data)
        return Response(DiscontinuationSerializer(record).data, status=status.HTTP_201_CREATED)


def _staff_user(username: str | None):
    """The active user named, or None when no name is given (400 naming `obtained_by` when unknown)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise InvalidInput.for_field("obtained_by", f"Unknown user '{username}'.")
    return user


class EligibilityCheckView(APIView):
    """Stateless eligibility check of a screening document (PROTOCOL.md Appendix A); nothing is saved."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=EligibilityResultSerializer,
        parameters=[OpenApiParameter("site", str, description="Site code; defaults to your only site.")],
        description="Body: the screening document of docs/protocol.md Appendix A. Absent or null fields make the "
        "criteria that need them `missing`; a bad unit, a negative count or an impossible date is a 400.",
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput.for_field(NON_FIELD, "Expected the screening document as a JSON object.")
        site = selectors.site_for_request(request.user, code=request.query_params.get("site"))
        limits = EligibilityLimits.from_settings(selectors.protocol_current().config)
        document = parse_screening_document(request.data)
        evaluation = evaluate_eligibility(document, limits, site_tz=site.time_zone)
        payload = {**evaluation.to_dict(), "engine_version": ENGINE_VERSION, "site": site.code}
        return Response(EligibilityResultSerializer(payload).data)
