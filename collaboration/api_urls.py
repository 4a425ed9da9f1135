"""The collaboration app's API, gathered from one module per area."""

from collaboration.api import tasks

API_MODULES = [tasks]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
