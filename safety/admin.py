from django.contrib import admin

from ctit_trial.admin_base import ReadOnlyAdmin
from safety.models import CtcaeTerm, VisitDefinition


@admin.register(VisitDefinition)
class VisitDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["code", "label", "target_day", "window_before", "window_after", "protocol"]
    list_filter = ["protocol"]


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(ReadOnlyAdmin):
    list_display = ["term", "meddra_code", "soc", "category", "ctcae_version"]
    list_filter = ["category", "ctcae_version", "soc"]
    search_fields = ["term", "meddra_code", "code"]
