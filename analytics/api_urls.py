"""The analytics API, gathered from one module per area."""

from analytics.api import (
    builder,
    customer_analytics,
    dashboards,
    models,
    network,
    predictions,
    recommendations,
    text,
)

API_MODULES = [
    dashboards,
    customer_analytics,
    predictions,
    models,
    builder,
    text,
    network,
    recommendations,
]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
