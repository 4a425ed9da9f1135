"""What each area of analytics registers with the rest of the CRM when the app starts."""

from analytics.hooks import (
    builder,
    customer_analytics,
    dashboards,
    models,
    network,
    predictions,
    recommendations,
    text,
)

HOOK_MODULES = [
    dashboards,
    customer_analytics,
    predictions,
    models,
    builder,
    text,
    network,
    recommendations,
]
