from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.exceptions import NON_FIELD
from ctit_trial.api.permissions import requires
from ctit_trial.errors import InvalidInput
from enrollment import selectors, services
from enrollment.api.serializers import (
    EligibilityResultSerializer,
    MeSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
    SubjectCreateSerializer,
    SubjectSerializer,
)
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


class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Subjects of the caller's sites, by study number only."""

    serializer_class = SubjectSerializer
    filterset_fields = {"status": ["exact"], "site__code": ["exact"]}
    ordering_fields = ["study_number", "created_at"]

    def get_queryset(self):
        return selectors.subjects_visible_to(self.request.user)

    @extend_schema(request=SubjectCreateSerializer, responses={201: SubjectSerializer})
    def create(self, request):
        serializer = SubjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = selectors.site_for_request(request.user, code=serializer.validated_data["site"])
        subject = services.subject_register(actor=request.user, site=site)
        return Response(SubjectSerializer(subject).data, status=status.HTTP_201_CREATED)


class EligibilityCheckView(APIView):
    """Stateless eligibility check of a screening document (PROTOCOL.md Appendix A); nothing is saved."""

    permission_classes = [requires("enrollment.view_subject")]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=EligibilityResultSerializer,
        parameters=[OpenApiParameter("site", str, description="Site code; defaults to your only site.")],
        description="Body: the screening document of PROTOCOL.md Appendix A. Absent or null fields make the "
        "criteria that need them `missing`; a bad unit, a negative count or an impossible date is a 400.",
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput.for_field(NON_FIELD, "Expected the screening document as a JSON object.")
        site = selectors.site_for_request(request.user, code=request.query_params.get("site"))
        limits = EligibilityLimits.from_protocol(selectors.protocol_current().configuration)
        document = parse_screening_document(request.data)
        evaluation = evaluate_eligibility(document, limits, site_tz=site.time_zone)
        payload = {**evaluation.to_dict(), "engine_version": ENGINE_VERSION, "site": site.code}
        return Response(EligibilityResultSerializer(payload).data)
