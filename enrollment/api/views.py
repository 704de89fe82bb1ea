from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment import selectors, services
from enrollment.api.serializers import (
    MeSerializer,
    SiteSerializer,
    SiteUpdateSerializer,
    SubjectCreateSerializer,
    SubjectSerializer,
)


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
