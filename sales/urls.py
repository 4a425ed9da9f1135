"""Browser pages of the sales app, gathered from one module per area."""

from sales.views import (
    board,
    campaign_mail,
    campaigns,
    deals,
    forecasts,
    myday,
    pipelines,
    reports,
    rules,
    targets,
    webforms,
)

app_name = "sales"

VIEW_MODULES = [
    board,
    deals,
    pipelines,
    myday,
    targets,
    forecasts,
    reports,
    campaigns,
    campaign_mail,
    webforms,
    rules,
]

urlpatterns = [pattern for module in VIEW_MODULES for pattern in module.urlpatterns]
