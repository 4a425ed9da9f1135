"""Browser pages of the service app, gathered from one module per area."""

from service.views import dashboard, public, slas, surveys, tickets

app_name = "service"

VIEW_MODULES = [tickets, slas, surveys, public, dashboard]

urlpatterns = [pattern for module in VIEW_MODULES for pattern in module.urlpatterns]
