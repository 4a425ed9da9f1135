from automation.api import RuleRunViewSet, RuleViewSet

routes = [
    ("automation-rules", RuleViewSet, "automation-rule"),
    ("automation-runs", RuleRunViewSet, "automation-run"),
]
urlpatterns = []
