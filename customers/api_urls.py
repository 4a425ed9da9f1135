"""The customers app's API, gathered from one module per area."""

from customers.api import customers

API_MODULES = [customers]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
