"""Browser pages of the customers app, gathered from one module per area."""

from customers.views import duplicates, exports, imports, lists, privacy, profile, records, segments

app_name = "customers"

urlpatterns = [
    *lists.urlpatterns,
    *profile.urlpatterns,
    *records.urlpatterns,
    *imports.urlpatterns,
    *exports.urlpatterns,
    *segments.urlpatterns,
    *duplicates.urlpatterns,
    *privacy.urlpatterns,
]
