from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from crm.audit.context import current_request, request_origin
from crm.audit.models import AuditEvent


def audit_event_record(
    *,
    kind: AuditEvent.Kind,
    actor=None,
    username: str = "",
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit log. `request` defaults to the one being served, if any;
    `username` defaults to the actor's, and is what names who tried a failed login."""
    origin = request_origin(request if request is not None else current_request())
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        username=(username or (actor.get_username() if actor is not None else ""))[:150],
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        api_token=origin.api_token,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=target.pk if target is not None else None,
        target_label=str(target)[:200] if target is not None else "",
        details=details or {},
    )
