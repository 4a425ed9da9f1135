from crm.audit.api import AuditEventViewSet, RecordChangeViewSet

routes = [
    ("audit-events", AuditEventViewSet, "audit-event"),
    ("record-changes", RecordChangeViewSet, "record-change"),
]
urlpatterns: list = []
