from simple_history.models import HistoricalRecords

from crm.audit.models import AuditedChange


def audited_history(*, excluded_fields: list[str] | None = None) -> HistoricalRecords:
    """The history a business model keeps: every create, update and delete with who, when, from
    where, and the record as it was after the change."""
    return HistoricalRecords(bases=[AuditedChange], excluded_fields=excluded_fields or [])
