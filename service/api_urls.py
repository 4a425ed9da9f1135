"""The service app's API, gathered from one module per area."""

from service.api import metrics, slas, surveys, tickets

API_MODULES = [tickets, slas, surveys, metrics]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
