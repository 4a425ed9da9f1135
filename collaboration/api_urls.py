"""The collaboration app's API, gathered from one module per area."""

from collaboration.api import activity, calendar, chat, files, notifications, sharing, tasks

API_MODULES = [tasks, notifications, chat, files, calendar, sharing, activity]

routes = [route for module in API_MODULES for route in module.routes]
urlpatterns = [pattern for module in API_MODULES for pattern in module.urlpatterns]
