from django.contrib import admin

from analytics.models import CustomerScore
from crm.admin_services import ReadOnlyAdmin


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    """Scores are written by the scoring runs; a new version rescoring replaces them."""

    list_display = ["customer", "model", "probability", "version", "scored_at"]
    list_select_related = ["customer", "model", "version__model"]
    list_filter = ["model"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer", "version"]
    ordering = ["model", "-probability"]
    show_full_result_count = False
