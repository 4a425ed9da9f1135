"""Writes on users, teams and record shares."""

import zoneinfo

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from crm.accounts.models import RecordShare, Team, TeamMembership, User
from crm.accounts.roles import ROLE_PERMISSIONS

PREFERENCE_FIELDS = ("display_name", "phone", "time_zone", "language")


def user_preferences_update(*, user: User, **changes) -> User:
    unknown = set(changes) - set(PREFERENCE_FIELDS) - {"avatar"}
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed here.") for name in sorted(unknown)}
        )
    time_zone = changes.get("time_zone")
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise ValidationError(
            {"time_zone": _("“%(value)s” is not a known time zone.") % {"value": time_zone}}
        )
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=list(changes))
    return user


def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    display_name: str = "",
    roles: list[str] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    unknown = set(roles) - set(ROLE_PERMISSIONS)
    if unknown:
        raise ValidationError(
            {"roles": _("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}}
        )
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            display_name=display_name,
            is_staff=is_staff or is_superuser,
            is_superuser=is_superuser,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        if roles:
            user.groups.set(Group.objects.filter(name__in=roles))
    return user


def team_create(*, name: str, manager: User | None = None, description: str = "") -> Team:
    team = Team(name=name, manager=manager, description=description)
    team.full_clean()
    team.save()
    return team


def team_member_add(*, team: Team, user: User) -> TeamMembership:
    membership, _created = TeamMembership.objects.get_or_create(team=team, user=user)
    return membership


def team_member_remove(*, team: Team, user: User) -> None:
    TeamMembership.objects.filter(team=team, user=user).delete()


def record_share(
    *,
    record: Model,
    shared_by: User | None,
    team: Team | None = None,
    user: User | None = None,
    access: str = RecordShare.Access.READ,
) -> RecordShare:
    """Share `record` with one team or one user; sharing it again changes only the access."""
    if (team is None) == (user is None):
        raise ValidationError(_("Share a record with exactly one team or one user."))
    if access not in RecordShare.Access.values:
        raise ValidationError({"access": _("Choose view or edit access.")})
    share, created = RecordShare.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        team=team,
        user=user,
        defaults={"shared_by": shared_by, "access": access},
    )
    if not created and share.access != access:
        share.access = access
        share.save(update_fields=["access", "updated_at"])
    return share


def record_unshare(*, record: Model, team: Team | None = None, user: User | None = None) -> None:
    RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        team=team,
        user=user,
    ).delete()
