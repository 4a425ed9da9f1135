"""Browser pages of the collaboration app, gathered from one module per area."""

from collaboration.views import activity, calendar, chat, files, notifications, sharing, tasks

app_name = "collaboration"

urlpatterns = [
    *tasks.urlpatterns,
    *notifications.urlpatterns,
    *chat.urlpatterns,
    *files.urlpatterns,
    *calendar.urlpatterns,
    *sharing.urlpatterns,
    *activity.urlpatterns,
]
