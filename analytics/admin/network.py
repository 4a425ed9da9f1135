"""Admin of the network area: the latest graph's edges, measures and communities, read only (a
build replaces them all)."""

from django.contrib import admin

from analytics.models import Community, CustomerInfluence, GraphEdge
from crm.admin_services import ReadOnlyAdmin


@admin.register(CustomerInfluence)
class CustomerInfluenceAdmin(ReadOnlyAdmin):
    list_display = ["customer", "pagerank", "degree", "connections", "community", "computed_at"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    search_fields = ["customer__name"]
    show_full_result_count = False


@admin.register(Community)
class CommunityAdmin(ReadOnlyAdmin):
    list_display = ["number", "label", "size", "segment", "computed_at"]
    list_select_related = ["segment"]
    search_fields = ["label"]


@admin.register(GraphEdge)
class GraphEdgeAdmin(ReadOnlyAdmin):
    """Nodes read c<id> for a customer, o<id> for a company and u<id> for a member of staff."""

    list_display = ["source", "target", "weight", "kinds"]
    search_fields = ["=source", "=target"]
    show_full_result_count = False
