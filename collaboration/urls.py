"""Browser pages of the collaboration app, gathered from one module per area."""

from collaboration.views import tasks

app_name = "collaboration"

urlpatterns = [*tasks.urlpatterns]
