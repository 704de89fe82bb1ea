from rest_framework import serializers

from dosing.rules.config import DESIGNS, TITRATION_TRIGGERS


class EscalationOptionsSerializer(serializers.Serializer):
    """Design options; each one left out keeps the protocol's configured value."""

    design = serializers.ChoiceField(choices=DESIGNS, required=False)
    titration_trigger = serializers.ChoiceField(choices=TITRATION_TRIGGERS, required=False)
    mtd_requires = serializers.IntegerField(min_value=3, max_value=12, required=False)
    confirm_top_dose = serializers.BooleanField(required=False)


class EscalationNextSerializer(serializers.Serializer):
    path = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=2000,
        help_text='Dosed subjects in dosing order, e.g. "1G 1NN 2NNN" (letters N G T X P).',
    )
    options = EscalationOptionsSerializer(required=False, default=dict)


class DecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["enroll", "hold", "escalate", "stop", "declare_mtd", "declare_mad"])
    dose_level = serializers.IntegerField(allow_null=True)
    subjects = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
