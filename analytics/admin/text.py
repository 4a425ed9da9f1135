from django.contrib import admin

from analytics.models import TicketPrediction
from crm.admin_services import ReadOnlyAdmin


@admin.register(TicketPrediction)
class TicketPredictionAdmin(ReadOnlyAdmin):
    """What the text and satisfaction models read in each ticket, written by their scoring runs
    and by the reading of each new ticket."""

    list_display = [
        "ticket",
        "category",
        "category_confidence",
        "positive_probability",
        "satisfaction_probability",
        "predicted_at",
    ]
    list_select_related = ["ticket", "category"]
    list_filter = ["category"]
    search_fields = ["ticket__number", "ticket__subject"]
    raw_id_fields = ["ticket", "category_version", "sentiment_version", "satisfaction_version"]
    ordering = ["-predicted_at"]
    show_full_result_count = False
