"""Sharing a record with another team or one colleague, to view or to edit, and taking it back.

Only someone who may change a record may share it (a read-only share cannot be passed on, and
cannot be widened to edit). Each grant and revocation is logged in the record's team's activity
feed and told to whoever gains or loses the record: the user, or each active member of the team.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext as _

from collaboration.models import Notification
from collaboration.selectors.sharing import (
    SHAREABLE_TYPES,
    record_link,
    record_type_label,
)
from collaboration.services.notifications import notification_send
from crm.accounts.models import RecordShare, Team, User
from crm.accounts.selectors import record_is_editable_by, user_is_admin
from crm.accounts.services import record_share
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record

__all__ = ["SHAREABLE_TYPES", "record_share_grant", "record_share_revoke"]


def _require_can_share(actor: User, record: Model, permission: str) -> None:
    if not actor.has_perm(permission) or not record_is_editable_by(user=actor, record=record):
        raise PermissionDenied(_("You may not share this record."))


def _check_shareable(record: Model) -> None:
    if record_type_label(record) not in SHAREABLE_TYPES:
        raise ValidationError(_("Records of this kind cannot be shared."))


def _check_recipient(record: Model, *, team: Team | None, user: User | None) -> None:
    if (team is None) == (user is None):
        raise ValidationError(_("Share a record with exactly one team or one user."))
    if user is None:
        return
    if not user.is_active:
        raise ValidationError({"user": _("%(user)s is not active.") % {"user": user}})
    owner_field = getattr(type(record), "visibility_owner_field", "owner")
    if getattr(record, f"{owner_field}_id", None) == user.pk:
        raise ValidationError({"user": _("%(user)s already has this record.") % {"user": user}})


def _recipients(*, team: Team | None, user: User | None, actor: User) -> list[User]:
    people = [user] if user is not None else list(team.members.filter(is_active=True))
    return [person for person in people if person.pk != actor.pk]


def _with_data(*, team: Team | None, user: User | None) -> dict:
    if team is not None:
        return {"team": team.pk, "name": team.name}
    return {"user": user.pk, "name": str(user)}


def _access_label(access: str) -> str:
    return str(RecordShare.Access(access).label)


def _notify(
    *, recipients: list[User], record: Model, actor: User, access: str | None, url: str
) -> None:
    for recipient in recipients:
        # Written in the recipient's language, not the sharer's.
        with translation.override(recipient.language or translation.get_language()):
            values = {"actor": actor, "record": record}
            if access is None:
                title = _("%(actor)s stopped sharing “%(record)s” with you") % values
                body = ""
            else:
                title = _("%(actor)s shared “%(record)s” with you") % values
                body = _("Access: %(access)s") % {"access": _access_label(access).lower()}
            notification_send(
                recipient=recipient,
                kind=Notification.Kind.RECORD_SHARED,
                title=title,
                body=body,
                url=url,
                related=record,
            )


def record_share_grant(
    *,
    actor: User,
    record: Model,
    team: Team | None = None,
    user: User | None = None,
    access: str = RecordShare.Access.READ,
) -> RecordShare:
    """Share `record` with `team` or `user`, to view ("read") or to change ("edit"). Sharing it
    again with the same team or user sets the new access; the same access changes nothing."""
    _check_shareable(record)
    _require_can_share(actor, record, "accounts.add_recordshare")
    _check_recipient(record, team=team, user=user)
    if access not in RecordShare.Access.values:
        raise ValidationError({"access": _("Choose view or edit access.")})
    with transaction.atomic():
        before = (
            RecordShare.objects.filter(
                content_type=ContentType.objects.get_for_model(type(record)),
                object_id=record.pk,
                team=team,
                user=user,
            )
            .values_list("access", flat=True)
            .first()
        )
        share = record_share(record=record, shared_by=actor, team=team, user=user, access=access)
        if before == access:
            return share
        url = record_link(record)
        with_whom = team or user
        activity_record(
            verb=ActivityEvent.Verb.RECORD_SHARED,
            summary=_("%(actor)s shared “%(record)s” with %(with)s (%(access)s)")
            % {
                "actor": actor,
                "record": record,
                "with": with_whom,
                "access": _access_label(access).lower(),
            },
            actor=actor,
            team=getattr(record, "team", None),
            target=record,
            url=url,
            data={"with": _with_data(team=team, user=user), "access": access},
        )
        _notify(
            recipients=_recipients(team=team, user=user, actor=actor),
            record=record,
            actor=actor,
            access=access,
            url=url,
        )
    return share


def record_share_revoke(*, actor: User, share: RecordShare) -> None:
    """Stop sharing the record; the team or user loses what the share gave them."""
    record = share.record
    if record is None:
        # The record is gone; its stray share is for an admin to clear.
        if not user_is_admin(actor):
            raise PermissionDenied(_("You may not share this record."))
        share.delete()
        return
    _require_can_share(actor, record, "accounts.delete_recordshare")
    team, user = share.team, share.user
    with transaction.atomic():
        share.delete()
        activity_record(
            verb=ActivityEvent.Verb.RECORD_UNSHARED,
            summary=_("%(actor)s stopped sharing “%(record)s” with %(with)s")
            % {"actor": actor, "record": record, "with": team or user},
            actor=actor,
            team=getattr(record, "team", None),
            target=record,
            url=record_link(record),
            data={"with": _with_data(team=team, user=user), "access": share.access},
        )
        _notify(
            recipients=_recipients(team=team, user=user, actor=actor),
            record=record,
            actor=actor,
            access=None,
            url="",
        )
