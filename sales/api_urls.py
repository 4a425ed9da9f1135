"""The sales app's API, gathered from one module per area."""

from sales.api import campaign_mail, campaigns, deals, targets, webforms

API_MODULES = [deals, targets, campaigns, campaign_mail, webforms]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
