from django.contrib import admin

from ctit_trial.admin_base import ReadOnlyAdmin
from dosing.models import DoseLevel


@admin.register(DoseLevel)
class DoseLevelAdmin(ReadOnlyAdmin):
    list_display = ["label", "level", "viable_cells", "design_role", "status", "protocol"]
    list_filter = ["status", "protocol"]
