"""The customers app's API, gathered from one module per area."""

from customers.api import bulk, customers, exports, imports, privacy, records, segments

API_MODULES = [customers, records, imports, exports, segments, privacy, bulk]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
