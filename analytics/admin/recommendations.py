"""Admin of the recommendations area: the stored recommendations and every analytics batch job
(recommendations and the social graph), both read-only since the builds write them."""

from django.contrib import admin

from analytics.models import AnalyticsJob, CustomerRecommendation
from crm.admin_services import ReadOnlyAdmin


@admin.register(CustomerRecommendation)
class CustomerRecommendationAdmin(ReadOnlyAdmin):
    list_display = ["customer", "computed_at"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    search_fields = ["customer__name"]
    date_hierarchy = "computed_at"
    show_full_result_count = False
    fields = ["customer", "similar", "products", "computed_at"]


@admin.register(AnalyticsJob)
class AnalyticsJobAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "kind",
        "model",
        "status",
        "progress",
        "trigger",
        "started_by",
        "created_at",
    ]
    list_filter = ["kind", "status", "trigger"]
    list_select_related = ["started_by", "model"]
    fields = [
        "kind",
        "model",
        "status",
        "progress",
        "stage",
        "trigger",
        "started_by",
        "stats",
        "error",
        "started_at",
        "finished_at",
        "created_at",
    ]
