from automation.api.rules import RuleViewSet
from automation.api.runs import RuleRunViewSet

routes = [
    ("automation-rules", RuleViewSet, "automation-rule"),
    ("automation-runs", RuleRunViewSet, "automation-run"),
]
urlpatterns = []
