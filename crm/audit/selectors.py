"""Reads of the audit trail: a record's history as its page shows it, and the admins' audit log.

A record's history is one query for a page of historical rows (with who made each change) and one
for the row just before the page, which the oldest change on the page is compared with; the
names of the users a change names (an owner, an assignee) are read in one more query.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Model, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import registered_models

from crm.accounts.field_security import field_access
from crm.audit.models import AuditEvent

HISTORY_PAGE_SIZE = 20
# Bookkeeping a save touches without anyone meaning to change it.
UNSHOWN_FIELDS = frozenset({"version"})

CHANGE_KINDS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    history_id: int
    at: datetime
    kind: str
    user: str
    ip_address: str | None
    user_agent: str
    api_token: str
    # Empty on a change of fields the viewer may not see or of bookkeeping only: the page says
    # the record was saved with no visible change rather than hiding that it was saved.
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return CHANGE_KINDS[self.kind]


def history_tracked_models() -> list[type[Model]]:
    """Every model whose changes are kept, by verbose name."""
    return sorted(
        set(registered_models.values()), key=lambda model: str(model._meta.verbose_name).lower()
    )


def history_tracked_model(label: str) -> type[Model] | None:
    """The history-tracked model named "app_label.model", or None."""
    wanted = (label or "").strip().lower()
    return next((m for m in registered_models.values() if m._meta.label_lower == wanted), None)


def _shown_fields(*, model: type[Model], user) -> list[models.Field]:
    access = field_access(user=user, model=model)
    tracked = {f.name for f in model.history.model.tracked_fields if f.editable}
    return [
        f
        for f in model._meta.concrete_fields
        if f.name in tracked and f.name not in UNSHOWN_FIELDS and access.can_see(f.name)
    ]


def _is_user_field(model_field: models.Field) -> bool:
    return model_field.is_relation and model_field.related_model is get_user_model()


def _shown_value(model_field: models.Field, value, user_names: dict[int, str]) -> str:
    if value is None or value == "":
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if _is_user_field(model_field):
        return user_names.get(value, f"#{value}")
    if model_field.is_relation:
        return f"#{value}"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    # Times in the viewer's time zone and dates and numbers as their language writes them.
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal | float):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


RawChange = tuple[models.Field, object, object]


def _field_changes(row, previous, fields: list[models.Field]) -> list[RawChange]:
    if row.history_type == "-":
        return []
    if previous is None:
        values = [(f, None, getattr(row, f.attname)) for f in fields]
        return [(f, old, new) for f, old, new in values if new not in (None, "", [], {})]
    by_name = {f.name: f for f in fields}
    delta = row.diff_against(previous, included_fields=list(by_name))
    return [(by_name[change.field], change.old, change.new) for change in delta.changes]


def _user_names(raw_changes: list[list[RawChange]]) -> dict[int, str]:
    ids = {
        value
        for changes in raw_changes
        for model_field, old, new in changes
        if _is_user_field(model_field)
        for value in (old, new)
        if value is not None
    }
    if not ids:
        return {}
    return {user.pk: str(user) for user in get_user_model().objects.filter(pk__in=ids)}


def record_history_rows(*, record: Model) -> QuerySet:
    """Every historical row of `record`, newest first, with who made it."""
    return (
        record.history.select_related("history_user").order_by("-history_date", "-history_id").all()
    )


def record_history_list(
    *, record: Model, user, page: int | str = 1, per_page: int = HISTORY_PAGE_SIZE
) -> Page:
    """A page of `record`'s changes, newest first, as `HistoryEntry`s: who, when, from where,
    and each changed field the user may see with its old and new value."""
    rows_queryset = record_history_rows(record=record)
    history_page = Paginator(rows_queryset, per_page).get_page(page)
    rows = list(history_page.object_list)
    older = list(rows_queryset[history_page.end_index() : history_page.end_index() + 1])
    fields = _shown_fields(model=type(record), user=user)
    predecessors = [*rows[1:], *older, None][: len(rows)]
    raw = [
        _field_changes(row, previous, fields)
        for row, previous in zip(rows, predecessors, strict=True)
    ]
    user_names = _user_names(raw)
    history_page.object_list = [
        HistoryEntry(
            history_id=row.history_id,
            at=row.history_date,
            kind=row.history_type,
            user=str(row.history_user) if row.history_user else "",
            ip_address=row.history_ip_address,
            user_agent=row.history_user_agent,
            api_token=row.history_api_token,
            changes=[
                FieldChange(
                    label=str(model_field.verbose_name),
                    old=_shown_value(model_field, old, user_names),
                    new=_shown_value(model_field, new, user_names),
                )
                for model_field, old, new in changes
            ],
        )
        for row, changes in zip(rows, raw, strict=True)
    ]
    return history_page


def audit_event_list(
    *,
    kind: str = "",
    actor=None,
    since: datetime | None = None,
    until: datetime | None = None,
    ip_address: str = "",
) -> QuerySet[AuditEvent]:
    """The audit log's events, newest first, narrowed by the filters given. Kind, actor and
    time are indexed; an IP address is matched within what the others leave."""
    events = AuditEvent.objects.select_related("actor", "target_type")
    if kind:
        events = events.filter(kind=kind)
    if actor is not None:
        events = events.filter(actor=actor)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if ip_address:
        events = events.filter(ip_address=ip_address)
    return events.order_by("-occurred_at", "-id")


def record_change_list(
    *,
    model: type[Model],
    actor=None,
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    record_id: int | None = None,
) -> QuerySet:
    """The changes to records of `model`, newest first. Time, record id and who are indexed
    columns of every historical table; the action narrows what those leave."""
    changes = model.history.select_related("history_user")
    if actor is not None:
        changes = changes.filter(history_user=actor)
    if action:
        changes = changes.filter(history_type=action)
    if since is not None:
        changes = changes.filter(history_date__gte=since)
    if until is not None:
        changes = changes.filter(history_date__lt=until)
    if record_id is not None:
        changes = changes.filter(**{model._meta.pk.attname: record_id})
    return changes.order_by("-history_date", "-history_id")
