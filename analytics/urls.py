"""Browser pages of analytics, gathered from one module per area."""

from analytics.views import (
    builder,
    customer_analytics,
    dashboards,
    models,
    network,
    predictions,
    recommendations,
    text,
)

app_name = "analytics"

VIEW_MODULES = [
    dashboards,
    customer_analytics,
    predictions,
    models,
    builder,
    text,
    network,
    recommendations,
]

urlpatterns = [pattern for module in VIEW_MODULES for pattern in module.urlpatterns]
