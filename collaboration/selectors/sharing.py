"""Reads of record shares: who a record is shared with, and what is shared with me.

A share names its record generically (content type and id), so this app needs none of the apps
whose records are shared; `SHAREABLE_TYPES` lists the kinds of record that may be shared, and
customers.registry.record_url gives each one's page.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet, prefetch_related_objects

from collaboration.selectors.files import record_from_label
from crm.accounts.models import RecordShare, Team, User
from crm.accounts.selectors import (
    record_is_editable_by,
    record_is_visible_to,
    user_list_active,
    user_team_ids,
)
from customers.registry import record_url

SHAREABLE_TYPES = (
    "customers.customer",
    "sales.deal",
    "service.ticket",
    "collaboration.task",
    "collaboration.event",
)


def record_type_label(record: Model) -> str:
    """`record`'s kind as "app_label.model" ("sales.deal")."""
    opts = record._meta
    return f"{opts.app_label}.{opts.model_name}"


def shareable_content_type(*, type_label: str) -> ContentType | None:
    """The content type of a shareable kind of record, when that app is installed."""
    label = (type_label or "").strip().lower()
    if label not in SHAREABLE_TYPES:
        return None
    app_label, _dot, model = label.partition(".")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None
    return content_type if content_type.model_class() is not None else None


def shareable_content_types() -> list[ContentType]:
    return [
        content_type
        for label in SHAREABLE_TYPES
        if (content_type := shareable_content_type(type_label=label)) is not None
    ]


def shareable_record_visible(*, user: User, type_label: str, record_id: int) -> Model | None:
    """The record of a shareable kind ("sales.deal", 42) when it exists and `user` may see it."""
    try:
        record = record_from_label(
            type_label=type_label, record_id=record_id, allowed=SHAREABLE_TYPES
        )
    except ObjectDoesNotExist:
        return None
    return record if record_is_visible_to(user=user, record=record) else None


def record_link(record: Model) -> str:
    return record_url(model_label=record_type_label(record), pk=record.pk)


def record_can_share(*, user: User, record: Model) -> bool:
    """Whether `user` may share `record` and stop sharing it: those who may change it."""
    return user.has_perm("accounts.add_recordshare") and record_is_editable_by(
        user=user, record=record
    )


def _shares_of(record: Model) -> QuerySet[RecordShare]:
    return RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    )


def record_shares_for(*, user: User, record: Model) -> QuerySet[RecordShare]:
    """Who `record` is shared with, newest first, when `user` may see the record; else none."""
    if not record_is_visible_to(user=user, record=record):
        return RecordShare.objects.none()
    return (
        _shares_of(record)
        .select_related("content_type", "team", "user", "shared_by")
        .order_by("-created_at", "-id")
    )


def record_share_get_visible(*, user: User, pk: int) -> RecordShare:
    """The share when `user` may see its record; RecordShare.DoesNotExist otherwise."""
    share = RecordShare.objects.select_related("content_type", "team", "user", "shared_by").get(
        pk=pk, content_type__in=shareable_content_types()
    )
    record = share.record
    if record is None or not record_is_visible_to(user=user, record=record):
        raise RecordShare.DoesNotExist
    return share


def shares_with_me(*, user: User) -> QuerySet[RecordShare]:
    """The shares of records with `user` or one of their teams, newest first."""
    with_me = Q(user=user)
    team_ids = user_team_ids(user)
    if team_ids:
        with_me |= Q(team_id__in=team_ids)
    return (
        RecordShare.objects.filter(with_me, content_type__in=shareable_content_types())
        .select_related("content_type", "team", "shared_by")
        .order_by("-created_at", "-id")
    )


def shares_with_records(shares: list[RecordShare]) -> list[RecordShare]:
    """Attach each share's record, the address of its page (`record_link`) and the name of its
    kind (`record_kind`), one query per kind of record; shares whose record is gone are left
    out."""
    prefetch_related_objects(shares, "record")
    kept = []
    for share in shares:
        if share.record is not None:
            share.record_link = record_link(share.record)
            share.record_kind = share.record._meta.verbose_name
            kept.append(share)
    return kept


def share_team_choices() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def share_user_choices() -> QuerySet[User]:
    return user_list_active()
