"""Browser pages of workflow rules, gathered from one module per area."""

from automation.views import actions, conditions, rules, runs

app_name = "automation"

VIEW_MODULES = [rules, conditions, actions, runs]

urlpatterns = [pattern for module in VIEW_MODULES for pattern in module.urlpatterns]
