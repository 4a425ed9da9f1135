"""Reads of the files attached to records, each through the visibility of the record it is on.

A file is linked generically to its record ("sales.deal" 42), so this app needs none of the apps
whose records carry files; `ATTACHABLE_TYPES` names the kinds of record that may. A file on a chat
message is visible to whoever may read the message's room, while the message stands.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.urls import NoReverseMatch, reverse

from collaboration.models import Attachment, ChatMessage, Task
from collaboration.selectors.chat import chat_room_accessible
from collaboration.selectors.tasks import content_type_label, related_url
from crm.accounts.models import User
from crm.accounts.selectors import record_is_editable_by, record_is_visible_to, user_is_admin

ATTACHABLE_TYPES: tuple[str, ...] = (
    "customers.customer",
    "sales.deal",
    "service.ticket",
    "collaboration.task",
    "collaboration.chatmessage",
)
CHAT_MESSAGE_TYPE = "collaboration.chatmessage"
# The kinds whose files have a page (and a panel) of their own: a chat message's files are shown
# and added in the chat.
FILES_PAGE_TYPES: tuple[str, ...] = tuple(
    label for label in ATTACHABLE_TYPES if label != CHAT_MESSAGE_TYPE
)


def record_label(record: Model) -> str:
    """The "app_label.model" of a record, as the files pages and the API name it."""
    return f"{record._meta.app_label}.{record._meta.model_name}"


def record_from_label(
    *, type_label: str, record_id: int, allowed: tuple[str, ...] = ATTACHABLE_TYPES
) -> Model:
    """The record `record_id` of the kind `type_label` names ("sales.deal"), whoever may see it;
    ObjectDoesNotExist when the kind is not one of `allowed` or there is no such record."""
    label = (type_label or "").strip().lower()
    if label not in allowed:
        raise ObjectDoesNotExist(f"Records of type {label!r} cannot be named here.")
    app_label, _dot, model_name = label.partition(".")
    try:
        model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    except ContentType.DoesNotExist as exc:
        raise ObjectDoesNotExist(f"No record type {label!r}.") from exc
    if model is None:
        raise ObjectDoesNotExist(f"No record type {label!r}.")
    return model._default_manager.get(pk=record_id)


def attachment_record_visible(*, user: User, record: Model) -> bool:
    """Whether `user` may see `record` and so the files on it."""
    if isinstance(record, ChatMessage):
        return record.deleted_at is None and chat_room_accessible(user=user, room=record.room)
    return record_is_visible_to(user=user, record=record)


def attachable_record_get_visible(
    *, user: User, type_label: str, record_id: int, allowed: tuple[str, ...] = ATTACHABLE_TYPES
) -> Model:
    """The record `type_label` and `record_id` name, when `user` may see it and the files on it;
    ObjectDoesNotExist when it is missing or not visible, so both answer alike."""
    record = record_from_label(type_label=type_label, record_id=record_id, allowed=allowed)
    if not attachment_record_visible(user=user, record=record):
        raise ObjectDoesNotExist(f"No visible record {type_label} {record_id}.")
    return record


def attachment_record_editable(*, user: User, record: Model) -> bool:
    """Whether `user` may remove anyone's files from `record`: whoever may change it. A chat
    message is its author's alone, so only an admin may remove others' files from it."""
    if isinstance(record, ChatMessage):
        return user_is_admin(user)
    return record_is_editable_by(user=user, record=record)


def record_page_url(record: Model) -> str:
    """The page that shows `record` (a chat message: its room), or its files page when no page
    of ours shows it."""
    if hasattr(record, "get_absolute_url"):
        return record.get_absolute_url()
    if isinstance(record, Task):
        return reverse("collaboration:task_detail", args=[record.pk])
    if isinstance(record, ChatMessage):
        try:
            return reverse("collaboration:chat_room", args=[record.room_id])
        except NoReverseMatch:
            return ""
    url = related_url(ContentType.objects.get_for_model(record), record.pk)
    if url:
        return url
    try:
        return reverse("collaboration:record_files", args=[record_label(record), record.pk])
    except NoReverseMatch:
        return ""


def _attachments_on(record: Model) -> QuerySet[Attachment]:
    return Attachment.objects.filter(
        related_type=ContentType.objects.get_for_model(record), related_id=record.pk
    )


def attachments_for_record(*, user: User, record: Model) -> QuerySet[Attachment]:
    """The files on `record`, newest first; none when `user` may not see it."""
    if not attachment_record_visible(user=user, record=record):
        return Attachment.objects.none()
    return _attachments_on(record).select_related("uploaded_by").order_by("-created_at", "-id")


def attachments_mark_deletable(
    *, user: User, record: Model, attachments: list[Attachment]
) -> list[Attachment]:
    """Set `can_delete` on each of `attachments` (all on `record`): the uploader's own files,
    and every file for whoever may change the record. One check for the whole list."""
    may_delete = user.has_perm("collaboration.delete_attachment")
    editable = may_delete and attachment_record_editable(user=user, record=record)
    for attachment in attachments:
        attachment.can_delete = may_delete and (editable or attachment.uploaded_by_id == user.pk)
    return attachments


def attachment_record(attachment: Attachment) -> Model | None:
    """The record the file is on, None when it has been deleted since."""
    model = attachment.related_type.model_class()
    if model is None:
        return None
    records = model._default_manager.filter(pk=attachment.related_id)
    if model is ChatMessage:
        records = records.select_related("room")
    return records.first()


def attachment_get_visible(*, user: User, pk: int) -> Attachment:
    """The file if `user` may see the record it is on, with that record as `record`;
    Attachment.DoesNotExist when it is missing or not visible, so both answer alike."""
    attachment = Attachment.objects.select_related("related_type", "uploaded_by").get(pk=pk)
    if content_type_label(attachment.related_type) not in ATTACHABLE_TYPES:
        raise Attachment.DoesNotExist
    record = attachment_record(attachment)
    if record is None or not attachment_record_visible(user=user, record=record):
        raise Attachment.DoesNotExist
    attachment.record = record
    return attachment
