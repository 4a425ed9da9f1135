from django.contrib import admin

from analytics.models import OrderDailyTotal
from crm.admin_services import ReadOnlyAdmin


@admin.register(OrderDailyTotal)
class OrderDailyTotalAdmin(ReadOnlyAdmin):
    """Recomputed from the orders by Celery; editing a total here would only be overwritten."""

    list_display = ["day", "owner", "team", "orders", "revenue", "refreshed_at"]
    list_select_related = ["owner", "team"]
    list_filter = ["team"]
    date_hierarchy = "day"
    show_full_result_count = False
