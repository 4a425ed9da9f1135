from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from crm.audit.context import current_request, on_behalf, request_origin
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record


@receiver(pre_create_historical_record)
def historical_record_origin_fill(sender, history_instance, **kwargs) -> None:
    origin = request_origin(current_request())
    behalf = on_behalf()
    if behalf is not None:
        history_instance.history_user = history_instance.history_user or behalf.user
        history_instance.history_change_reason = behalf.reason[:100]
    history_instance.history_ip_address = origin.ip_address
    history_instance.history_user_agent = origin.user_agent
    history_instance.history_api_token = origin.api_token


# Who holds which permission is audited wherever it changes (the admin, a service, a shell):
# the roles a user has, the permissions given to them directly, and each role's permissions.
PERMISSION_FLAGS = ("is_active", "is_staff", "is_superuser")
NAMES_KEPT = 50


def _actor():
    request = current_request()
    return getattr(request, "user", None)


def _permission_names(model, pks) -> list[str]:
    if model is Permission:
        rows = Permission.objects.filter(pk__in=pks).values_list(
            "content_type__app_label", "codename"
        )
        return sorted(f"{app_label}.{codename}" for app_label, codename in rows)
    names = model.objects.filter(pk__in=pks).values_list("name", flat=True)
    return sorted(str(name) for name in names)


def _permission_change_record(*, target, change: str, action: str, model, pks) -> None:
    names = _permission_names(model, pks)
    audit_event_record(
        kind=AuditEvent.Kind.PERMISSION_CHANGED,
        actor=_actor(),
        target=target,
        details={
            "change": change,
            "action": action,
            "count": len(names),
            "names": names[:NAMES_KEPT],
        },
    )


def _m2m_permission_change(change: str, attribute: str):
    """A receiver of m2m_changed on the relation `attribute` (a user's `groups`, say), which
    records one event per record whose permissions changed."""

    def receiver_(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
        if action == "pre_clear":
            # Nothing says afterwards what a clear removed: note it before.
            related = (
                model.objects.filter(**{attribute: instance})
                if reverse
                else getattr(instance, attribute).all()
            )
            instance._audit_cleared_pks = set(related.values_list("pk", flat=True))
            return
        if action == "post_clear":
            pk_set = instance.__dict__.pop("_audit_cleared_pks", set())
        elif action not in ("post_add", "post_remove"):
            return
        if not pk_set:
            return
        verb = "removed" if action != "post_add" else "added"
        if reverse:
            # Seen from the other side (role.user_set.add(user)): one event per changed record.
            for target in model.objects.filter(pk__in=pk_set):
                _permission_change_record(
                    target=target,
                    change=change,
                    action=verb,
                    model=type(instance),
                    pks=[instance.pk],
                )
            return
        _permission_change_record(
            target=instance, change=change, action=verb, model=model, pks=pk_set
        )

    return receiver_


role_membership_changed = _m2m_permission_change("roles", "groups")
user_permissions_changed = _m2m_permission_change("user permissions", "user_permissions")
role_permissions_changed = _m2m_permission_change("role permissions", "permissions")


def permission_receivers_connect() -> None:
    User = get_user_model()
    m2m_changed.connect(
        role_membership_changed, sender=User.groups.through, dispatch_uid="audit.roles"
    )
    m2m_changed.connect(
        user_permissions_changed,
        sender=User.user_permissions.through,
        dispatch_uid="audit.user_permissions",
    )
    m2m_changed.connect(
        role_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="audit.role_permissions",
    )
    pre_save.connect(user_flags_change_record, sender=User, dispatch_uid="audit.user_flags")


def user_flags_change_record(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Activating a user or making them staff or superuser is a permission change too."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(PERMISSION_FLAGS):
        return
    before = sender.objects.filter(pk=instance.pk).values(*PERMISSION_FLAGS).first()
    if before is None:
        return
    changed = {
        flag: {"old": before[flag], "new": getattr(instance, flag)}
        for flag in PERMISSION_FLAGS
        if before[flag] != getattr(instance, flag)
    }
    if changed:
        audit_event_record(
            kind=AuditEvent.Kind.PERMISSION_CHANGED,
            actor=_actor(),
            target=instance,
            details={"change": "flags", **changed},
        )
