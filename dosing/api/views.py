from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.permissions import requires
from ctit_trial.errors import InvalidInput
from dosing.api.serializers import DecisionSerializer, EscalationNextSerializer
from dosing.rules.config import ConfigError
from dosing.rules.path import DosePathError
from dosing.selectors import engine_configuration, engine_decision
from enrollment.selectors import protocol_current


class EscalationNextView(APIView):
    """What the escalation engine decides for a dose path: "what if the next subject has a DLT?"."""

    permission_classes = [requires("dosing.view_doselevel")]

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
