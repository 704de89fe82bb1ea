from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.permissions import allows
from ctit_trial.errors import InvalidInput
from dosing import services
from dosing.api.serializers import (
    DecisionSerializer,
    EscalationNextSerializer,
    EscalationStatusSerializer,
    SignatureSerializer,
    SimulationRequestSerializer,
    SimulationResultSerializer,
    SrcDecisionCreateSerializer,
    SrcDecisionSerializer,
)
from dosing.models import SrcDecision
from dosing.rules.config import ConfigError
from dosing.rules.path import DosePathError
from dosing.rules.simulate import simulate
from dosing.selectors import design_options, engine_configuration, engine_decision, escalation_status
from enrollment.roles import Act
from enrollment.selectors import protocol_current


class EscalationNextView(APIView):
    """What the escalation engine decides for a dose path: "what if the next subject has a DLT?"."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(request=EscalationNextSerializer, responses=DecisionSerializer)
    def post(self, request):
        serializer = EscalationNextSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = dict(serializer.validated_data["options"])
        config = engine_configuration(protocol_current())
        try:
            decision = engine_decision(config, serializer.validated_data["path"], **options)
        except DosePathError as error:
            raise InvalidInput.for_field("path", error.message) from error
        except ConfigError as error:
            raise InvalidInput.for_field("options", str(error)) from error
        return Response(DecisionSerializer(decision.to_dict()).data)


class EscalationStatusView(APIView):
    """The live trial: dose path, recommendation, blockers, earliest next infusion, and what-ifs."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(responses=EscalationStatusSerializer)
    def get(self, request):
        status = escalation_status(protocol_current(), now=timezone.now(), viewer=request.user)
        return Response(EscalationStatusSerializer(status).data)


class SrcDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """SRC decisions; SRC members record them and sign them (re-entering their password)."""

    serializer_class = SrcDecisionSerializer
    permission_classes = [allows(GET=Act.READ, POST=Act.RECORD_SRC_DECISION)]
    queryset = SrcDecision.objects.select_related("recorded_by").prefetch_related(
        "members_present", "signatures__signer"
    )

    @extend_schema(request=SrcDecisionCreateSerializer, responses={201: SrcDecisionSerializer})
    def create(self, request):
        serializer = SrcDecisionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["members"] = _users_named(data.pop("members_present"))
        record = services.src_decision_record(actor=request.user, **data)
        return Response(SrcDecisionSerializer(record).data, status=201)

    @extend_schema(request=SignatureSerializer, responses=SrcDecisionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[allows(Act.SIGN_SRC_DECISION)])
    def sign(self, request, pk=None):
        serializer = SignatureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = services.src_decision_sign(
            actor=request.user, decision=self.get_object(), password=data["password"], otp_token=data["otp_token"]
        )
        return Response(SrcDecisionSerializer(self.get_queryset().get(pk=record.pk)).data)


def _users_named(usernames: list[str]) -> list:
    users = {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}
    unknown = sorted(set(usernames) - set(users))
    if unknown:
        raise InvalidInput.for_field("members_present", f"Unknown users: {', '.join(unknown)}.")
    return list(users.values())


class EscalationSimulateView(APIView):
    """Operating characteristics of a design over simulated trials (seeded, reproducible)."""

    permission_classes = [allows(Act.READ)]

    @extend_schema(request=SimulationRequestSerializer, responses=SimulationResultSerializer)
    def post(self, request):
        serializer = SimulationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        overrides = dict(data.pop("options"))
        config = engine_configuration(protocol_current())
        if len(data["true_dlt"]) != len(config["dose_levels"]):
            raise InvalidInput.for_field(
                "true_dlt", f"Give one probability per dose level ({len(config['dose_levels'])})."
            )
        try:
            chosen = overrides.pop("design", None) or data.get("design")
            design, options = design_options(config, design=chosen, **overrides)
        except ConfigError as error:
            raise InvalidInput.for_field("options", str(error)) from error
        result = simulate(design, true_dlt=data["true_dlt"], trials=data["trials"], seed=data["seed"], options=options)
        return Response(SimulationResultSerializer(result.to_dict()).data)
