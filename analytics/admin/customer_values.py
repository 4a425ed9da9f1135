from django.contrib import admin

from analytics.models import CustomerValue
from crm.admin_services import ReadOnlyAdmin


@admin.register(CustomerValue)
class CustomerValueAdmin(ReadOnlyAdmin):
    """Recomputed from the orders every night; editing a value here would only be overwritten."""

    list_display = [
        "customer",
        "value_tier",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "frequency",
        "monetary",
        "lifetime_value",
        "computed_at",
    ]
    list_select_related = ["customer"]
    list_filter = ["value_tier"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    show_full_result_count = False
