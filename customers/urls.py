"""Browser pages of the customers app, gathered from one module per area."""

from customers.views import lists, profile

app_name = "customers"

urlpatterns = [
    *lists.urlpatterns,
    *profile.urlpatterns,
]
