"""Admin of the network area: the latest graph's measures and communities, read only (a build
replaces them all), and the graph builds."""

from django.contrib import admin

from analytics.models import Community, CustomerInfluence


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomerInfluence)
class CustomerInfluenceAdmin(ReadOnlyAdmin):
    list_display = ["customer", "pagerank", "degree", "connections", "community", "computed_at"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    search_fields = ["customer__name"]


@admin.register(Community)
class CommunityAdmin(ReadOnlyAdmin):
    list_display = ["number", "label", "size", "segment", "computed_at"]
    list_select_related = ["segment"]
    search_fields = ["label"]
