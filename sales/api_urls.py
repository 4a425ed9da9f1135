"""The sales app's API, gathered from one module per area."""

from sales.api import campaigns, deals, targets, webforms

API_MODULES = [deals, targets, campaigns, webforms]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
