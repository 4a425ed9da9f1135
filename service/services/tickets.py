"""Tickets: creating, editing, the status workflow, the thread (replies, notes, the customer's
messages) and assignment. The one path the pages, the API, the public form and the admin use.

Every change names the `version` it was made from and is refused when the ticket has moved on
(crm.concurrency). Status moves follow WORKFLOW and are recorded in TicketStatusChange; SLA
clocks (service.services.sla) start, pause and stop with them. Every public reply and every
message from the customer is also an interaction on the customer's timeline. A new ticket and a
resolved one are announced to integrators once committed (ticket.created, ticket.resolved).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration.models import Notification
from collaboration.services.notifications import notification_send
from crm.accounts.models import Team, User
from crm.accounts.selectors import (
    record_is_editable_by,
    record_is_visible_to,
    user_default_team_id,
)
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.concurrency import version_check
from crm.uploads import upload_check, upload_max_bytes
from crm.webhooks.events import event_publish
from customers.models import Customer, Interaction
from customers.services.customers import tag_list_get_or_create, tags_replace
from customers.services.records import interaction_log
from service.locks import tickets_lock
from service.models import Ticket, TicketAttachment, TicketMessage, TicketStatusChange
from service.registry import ticket_created_notify
from service.services import sla
from service.services.surveys import survey_send_on_resolve

Status = Ticket.Status

# Where a ticket may go from each status; reopening is resolved/closed → open.
WORKFLOW: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.OPEN: (Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.PENDING: (Status.OPEN, Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.OPEN, Status.CLOSED),
    Status.CLOSED: (Status.OPEN,),
}

STOPPED_CLOCK_STATUSES = (Status.PENDING, Status.RESOLVED, Status.CLOSED)

TICKET_EDITABLE_FIELDS = (
    "subject",
    "description",
    "type",
    "channel",
    "priority",
    "category",
    "assignee",
    "team",
    "tags",
)

INTERACTION_CHANNELS = {
    Ticket.Channel.PHONE: Interaction.Channel.CALL,
    Ticket.Channel.EMAIL: Interaction.Channel.EMAIL,
    Ticket.Channel.CHAT: Interaction.Channel.CHAT,
    Ticket.Channel.WEB_FORM: Interaction.Channel.WEB_FORM,
    Ticket.Channel.SOCIAL: Interaction.Channel.SOCIAL,
}

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
PRIORITY_ORDER = (
    Ticket.Priority.LOW,
    Ticket.Priority.NORMAL,
    Ticket.Priority.HIGH,
    Ticket.Priority.URGENT,
)


def _require(
    actor: User | None, permission: str, ticket: Ticket | None = None, *, to_change: bool = True
) -> None:
    """Changing a ticket takes edit access to it; replying on one only needs to see it (the
    service desk answers any customer)."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise PermissionDenied
    if ticket is None:
        return
    allowed = record_is_editable_by if to_change else record_is_visible_to
    if not allowed(user=actor, record=ticket):
        raise PermissionDenied


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(TICKET_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def support_team_id() -> int | None:
    """The team whose queue takes unassigned tickets (CRM_SUPPORT_TEAM), if it exists."""
    return Team.objects.filter(name=settings.CRM_SUPPORT_TEAM).values_list("pk", flat=True).first()


def _status_record(ticket: Ticket, *, from_status: str, actor: User | None, at: datetime) -> None:
    TicketStatusChange.objects.create(
        ticket=ticket,
        from_status=from_status,
        to_status=ticket.status,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
        changed_at=at,
    )


def ticket_url(ticket: Ticket) -> str:
    return reverse("service:ticket_detail", args=[ticket.pk])


def _notify_assignee(ticket: Ticket, actor: User | None) -> None:
    if ticket.assignee is None or ticket.assignee == actor:
        return
    notification_send(
        recipient=ticket.assignee,
        kind=Notification.Kind.RECORD_ASSIGNED,
        title=_("Ticket assigned to you: %(number)s %(subject)s")
        % {"number": ticket.number, "subject": ticket.subject},
        url=ticket_url(ticket),
        related=ticket,
    )


def _interaction_for(
    ticket: Ticket, *, direction: str, subject: str, summary: str, actor: User | None, at
) -> Interaction:
    return interaction_log(
        actor=None,
        customer=ticket.customer,
        channel=INTERACTION_CHANNELS[ticket.channel],
        direction=direction,
        occurred_at=at,
        subject=subject,
        summary=summary,
        handled_by=actor,
        related_type=ContentType.objects.get_for_model(Ticket),
        related_id=ticket.pk,
    )


def _attachments_add(message: TicketMessage, files: Iterable[UploadedFile]) -> None:
    for upload in files:
        TicketAttachment.objects.create(
            message=message,
            file=upload,
            name=upload.name[:255],
            size=upload.size,
            content_type=(getattr(upload, "content_type", "") or "")[:100],
        )


def _check_attachments(files: list[UploadedFile]) -> None:
    """Every file passes the upload check all attachments pass (crm.uploads). The type read from
    its bytes replaces the browser's claim, so that is what is stored and served."""
    refused = []
    for upload in files:
        try:
            upload.content_type = upload_check(
                upload, max_bytes=min(MAX_ATTACHMENT_BYTES, upload_max_bytes())
            )
        except ValidationError as exc:
            refused.extend(exc.messages)
    if refused:
        raise ValidationError({"attachments": refused})


def ticket_create(
    *,
    actor: User | None,
    customer: Customer,
    subject: str,
    description: str = "",
    attachments: Iterable[UploadedFile] = (),
    **values,
) -> Ticket:
    """Open a ticket for `customer`. It is assigned to `actor` unless told otherwise (a ticket
    from the public form, with no actor, waits unassigned in the customer's team's queue); its
    SLA clock starts now, and the description is the thread's first message."""
    _refuse_unknown(values)
    _require(actor, "service.add_ticket")
    if actor is not None and not record_is_visible_to(user=actor, record=customer):
        raise ValidationError({"customer": _("No such customer.")})
    tags = values.pop("tags", None)
    files = list(attachments)
    _check_attachments(files)
    ticket = Ticket(customer=customer, subject=subject.strip(), description=description, **values)
    if "assignee" not in values:
        ticket.assignee = actor
    if "team" not in values:
        ticket.team_id = (
            user_default_team_id(ticket.assignee)
            or (None if ticket.assignee else support_team_id())
            or user_default_team_id(actor)
            or customer.team_id
        )
    ticket.created_by = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    ticket.created_at = now
    # A placeholder until the id is known; the number is derived from it in the same
    # transaction.
    ticket.number = f"new-{uuid.uuid4().hex[:16]}"
    ticket.full_clean(exclude=["number"])
    with transaction.atomic():
        sla.ticket_sla_apply(ticket)
        ticket.save()
        ticket.number = f"T-{ticket.pk:07d}"
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number, created_at=now)
        if tags is not None:
            ticket.tags.set(tag_list_get_or_create(names=tags))
        _status_record(ticket, from_status="", actor=actor, at=now)
        message = TicketMessage.objects.create(
            ticket=ticket,
            kind=TicketMessage.Kind.CUSTOMER,
            body=description or subject,
            interaction=_interaction_for(
                ticket,
                direction=Interaction.Direction.INBOUND,
                subject=_("Ticket %(number)s: %(subject)s")
                % {"number": ticket.number, "subject": ticket.subject},
                summary=description,
                actor=None,
                at=now,
            ),
        )
        _attachments_add(message, files)
        transaction.on_commit(lambda: _notify_assignee(ticket, actor))
        transaction.on_commit(lambda: ticket_created_notify(ticket))
        event_publish(event="ticket.created", record=ticket)
    return ticket


def ticket_update(*, actor: User | None, ticket: Ticket, version, **values) -> Ticket:
    """Edit a ticket made from `version`; a new priority re-times its SLA, a new assignee is
    told."""
    _refuse_unknown(values)
    _require(actor, "service.change_ticket", ticket)
    tags = values.pop("tags", None)
    with transaction.atomic():
        locked = tickets_lock(ticket_ids=[ticket.pk])[ticket.pk]
        version_check(record=locked, given_version=version)
        previous_assignee_id = locked.assignee_id
        previous_team_id = locked.team_id
        changed = {name for name, value in values.items() if getattr(locked, name) != value}
        for name in changed:
            setattr(locked, name, values[name])
        if "assignee" in changed and "team" not in values and locked.assignee is not None:
            locked.team_id = user_default_team_id(locked.assignee) or locked.team_id
        if "priority" in changed:
            sla.ticket_sla_apply(locked)
        locked.full_clean()
        locked.version += 1
        locked.save()
        if tags is not None and tags_replace(record=locked, names=tags):
            changed.add("tags")
        if locked.team_id != previous_team_id:
            changed.add("team")
        if locked.assignee_id != previous_assignee_id:
            transaction.on_commit(lambda: _notify_assignee(locked, actor))
        if changed:
            event_publish(
                event="ticket.updated", record=locked, extra={"changed_fields": sorted(changed)}
            )
    return locked


def _move(ticket: Ticket, *, status: str, actor: User | None, at: datetime) -> None:
    """Move a locked ticket to `status` by the workflow, with its SLA and history effects."""
    if status == ticket.status:
        return
    if status not in WORKFLOW[ticket.status]:
        raise ValidationError(
            {
                "status": _("A ticket that is %(current)s cannot become %(new)s.")
                % {
                    "current": Status(ticket.status).label,
                    "new": Status(status).label,
                }
            }
        )
    previous = ticket.status
    # The clocks stop while the ticket waits on the customer and while it is resolved or
    # closed, so a reopened ticket is not charged for the time it was thought done.
    if previous in STOPPED_CLOCK_STATUSES:
        sla.ticket_sla_resume(ticket, at=at)
    if status in STOPPED_CLOCK_STATUSES:
        sla.ticket_sla_pause(ticket, at=at)
    if previous in (Status.RESOLVED, Status.CLOSED) and status == Status.OPEN:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.resolution_seconds = None
    resolved = False
    if status == Status.RESOLVED:
        ticket.resolved_at = at
        sla.ticket_sla_resolved(ticket, at=at)
        resolved = True
    if status == Status.CLOSED:
        ticket.closed_at = at
        if ticket.resolved_at is None:
            ticket.resolved_at = at
            sla.ticket_sla_resolved(ticket, at=at)
            resolved = True
    ticket.status = status
    _status_record(ticket, from_status=previous, actor=actor, at=at)
    if status == Status.RESOLVED:
        activity_record(
            verb=ActivityEvent.Verb.TICKET_RESOLVED,
            summary=_("%(actor)s resolved %(number)s %(subject)s")
            % {"actor": actor or _("Someone"), "number": ticket.number, "subject": ticket.subject},
            actor=actor if actor is not None and actor.is_authenticated else None,
            team=ticket.team,
            target=ticket,
            url=ticket_url(ticket),
        )
        transaction.on_commit(lambda: survey_send_on_resolve(ticket=ticket))
    if resolved:
        # Closing a ticket never resolved resolves it too; closing a resolved one does not.
        event_publish(event="ticket.resolved", record=ticket)


def ticket_change_status(*, actor: User | None, ticket: Ticket, status: str, version) -> Ticket:
    """Move the ticket along the workflow (resolve, close, reopen, set pending…)."""
    _require(actor, "service.change_ticket", ticket)
    if status not in Status.values:
        raise ValidationError({"status": _("Choose one of the statuses offered.")})
    with transaction.atomic():
        locked = tickets_lock(ticket_ids=[ticket.pk])[ticket.pk]
        version_check(record=locked, given_version=version)
        previous = locked.status
        _move(locked, status=status, actor=actor, at=timezone.now())
        locked.version += 1
        locked.save()
        if locked.status != previous:
            event_publish(
                event="ticket.updated", record=locked, extra={"changed_fields": ["status"]}
            )
    return locked


def ticket_resolve(*, actor: User | None, ticket: Ticket, version) -> Ticket:
    return ticket_change_status(actor=actor, ticket=ticket, status=Status.RESOLVED, version=version)


def ticket_reopen(*, actor: User | None, ticket: Ticket, version) -> Ticket:
    return ticket_change_status(actor=actor, ticket=ticket, status=Status.OPEN, version=version)


def ticket_reply(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    kind: str = TicketMessage.Kind.REPLY,
    attachments: Iterable[UploadedFile] = (),
    status: str | None = None,
) -> TicketMessage:
    """Add to the thread. A public reply is the first response if none came before, and moves a
    new ticket to open (or to `status`, say pending on the customer); a message from the
    customer takes a pending ticket back to open. Replies and customer messages are also
    interactions on the customer's timeline; internal notes are not."""
    if kind not in TicketMessage.Kind.values:
        raise ValidationError({"kind": _("Choose one of the kinds offered.")})
    _require(actor, "service.change_ticket", ticket, to_change=False)
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    files = list(attachments)
    _check_attachments(files)
    with transaction.atomic():
        locked = tickets_lock(ticket_ids=[ticket.pk])[ticket.pk]
        now = timezone.now()
        interaction = None
        if kind == TicketMessage.Kind.REPLY:
            sla.ticket_sla_first_response(locked, at=now)
            interaction = _interaction_for(
                locked,
                direction=Interaction.Direction.OUTBOUND,
                subject=_("Reply on %(number)s") % {"number": locked.number},
                summary=body,
                actor=actor,
                at=now,
            )
            target = status or (Status.OPEN if locked.status == Status.NEW else None)
            if target:
                _move(locked, status=target, actor=actor, at=now)
        elif kind == TicketMessage.Kind.CUSTOMER:
            interaction = _interaction_for(
                locked,
                direction=Interaction.Direction.INBOUND,
                subject=_("Message on %(number)s") % {"number": locked.number},
                summary=body,
                actor=None,
                at=now,
            )
            if locked.status in (Status.PENDING, Status.RESOLVED):
                _move(locked, status=Status.OPEN, actor=actor, at=now)
        elif status:
            _move(locked, status=status, actor=actor, at=now)
        message = TicketMessage.objects.create(
            ticket=locked,
            kind=kind,
            body=body,
            author=actor if kind != TicketMessage.Kind.CUSTOMER else None,
            interaction=interaction,
        )
        _attachments_add(message, files)
        locked.version += 1
        locked.save()
    return message


def ticket_assign(
    *, actor: User | None, ticket: Ticket, assignee: User | None, version, team=None
) -> Ticket:
    values: dict[str, Any] = {"assignee": assignee}
    if team is not None:
        values["team"] = team
    return ticket_update(actor=actor, ticket=ticket, version=version, **values)


def tickets_bulk_assign(
    *, actor: User, tickets: Iterable[Ticket], assignee: User | None
) -> list[Ticket]:
    """Assign each ticket (at its current version); all or none."""
    with transaction.atomic():
        return [
            ticket_assign(actor=actor, ticket=ticket, assignee=assignee, version=ticket.version)
            for ticket in tickets
        ]


def tickets_bulk_close(*, actor: User, tickets: Iterable[Ticket]) -> list[Ticket]:
    """Close each ticket (at its current version); all or none."""
    with transaction.atomic():
        return [
            ticket_change_status(
                actor=actor, ticket=ticket, status=Status.CLOSED, version=ticket.version
            )
            for ticket in tickets
        ]


def ticket_delete(*, actor: User | None, ticket: Ticket) -> None:
    _require(actor, "service.delete_ticket", ticket)
    ticket.delete()
