from django.urls import path

from crm.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_event_list, name="event_list"),
    path("changes/", views.record_change_list, name="change_list"),
    path("history/<str:type_label>/<int:pk>/", views.record_history, name="record_history"),
]
