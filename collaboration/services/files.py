"""Attaching files to records and removing them: the one path the pages, the API, the chat and
the admin all use, so every stored file has passed the upload check (crm.uploads) and sits on a
record its uploader could see."""

import os

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from collaboration.models import Attachment, ChatMessage
from collaboration.selectors.files import (
    ATTACHABLE_TYPES,
    attachment_record,
    attachment_record_editable,
    attachment_record_visible,
    record_label,
    record_page_url,
)
from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.uploads import upload_check

MAX_NAME_LENGTH = 255


def _stored_name(upload: UploadedFile) -> str:
    """The name the file is offered under: no folders, and at most 255 characters with the
    extension kept, so it still opens as what it is."""
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip() or "file"
    if len(name) <= MAX_NAME_LENGTH:
        return name
    stem, extension = os.path.splitext(name)
    extension = extension[:16]
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension


def _check_may_attach(actor: User, record: Model) -> None:
    if record_label(record) not in ATTACHABLE_TYPES:
        raise ValidationError({"type": _("Files cannot be attached to this kind of record.")})
    if not actor.has_perm("collaboration.add_attachment"):
        raise PermissionDenied
    if isinstance(record, ChatMessage) and record.author_id != actor.pk:
        raise PermissionDenied
    if not attachment_record_visible(user=actor, record=record):
        raise PermissionDenied


def _delete_stored_file(storage, name: str) -> None:
    if name:
        storage.delete(name)


def attachment_add(*, actor: User, record: Model, upload: UploadedFile) -> Attachment:
    """Attach `upload` to `record` (a customer, deal, ticket, task, or the actor's own chat
    message). Refused with PermissionDenied when the actor may not see the record, and with
    ValidationError, naming the file and the reason, when the file fails the upload check.

    The file goes to the team's activity feed, except on a chat message: a private conversation
    must not show up in a feed its readers may not share."""
    _check_may_attach(actor, record)
    try:
        content_type = upload_check(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from exc
    attachment = Attachment(
        related_type=ContentType.objects.get_for_model(record),
        related_id=record.pk,
        name=_stored_name(upload),
        size=upload.size,
        content_type=content_type,
        uploaded_by=actor,
    )
    attachment.file = upload
    try:
        with transaction.atomic():
            attachment.save()
            if not isinstance(record, ChatMessage):
                activity_record(
                    verb=ActivityEvent.Verb.FILE_SHARED,
                    summary=_("%(user)s shared %(file)s on %(record)s")
                    % {"user": actor, "file": attachment.name, "record": record},
                    actor=actor,
                    team=getattr(record, "team", None),
                    target=record,
                    url=record_page_url(record),
                    data={"attachment": attachment.pk, "name": attachment.name},
                )
    except Exception:
        # A file that reached the storage before the row failed would be pointed at by nothing.
        if attachment.file._committed:
            _delete_stored_file(attachment.file.storage, attachment.file.name)
        raise
    return attachment


def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    """Remove a file: its uploader may, and so may whoever may change its record, and an admin.
    The stored file goes once the row's removal is committed, so a rollback loses nothing."""
    if not actor.has_perm("collaboration.delete_attachment"):
        raise PermissionDenied
    if not user_is_admin(actor):
        record = attachment_record(attachment)
        if record is None:
            allowed = attachment.uploaded_by_id == actor.pk
        else:
            allowed = attachment_record_visible(user=actor, record=record) and (
                attachment.uploaded_by_id == actor.pk
                or attachment_record_editable(user=actor, record=record)
            )
        if not allowed:
            raise PermissionDenied
    storage, name = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: _delete_stored_file(storage, name))
