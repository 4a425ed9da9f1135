"""Writes on users, teams, record shares and API tokens."""

import hashlib
import ipaddress
import secrets
import string
import zoneinfo
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import ApiToken, RecordShare, Team, TeamMembership, User
from crm.accounts.roles import ROLE_PERMISSIONS
from crm.accounts.selectors import user_is_admin

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


API_TOKEN_PREFIX_LENGTH = 10
# Letters and digits only, so the underscores of `crm_<prefix>_<secret>` split it unambiguously.
_API_TOKEN_PREFIX_ALPHABET = string.ascii_letters + string.digits
API_TOKEN_SECRET_BYTES = 32
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def api_token_create(
    *, user: User, name: str, read_only: bool = False, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `user`; the plain token is returned here and never again (only its
    SHA-256 is stored)."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the token a name, so you know later what uses it.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    while True:
        prefix = "".join(
            secrets.choice(_API_TOKEN_PREFIX_ALPHABET) for _i in range(API_TOKEN_PREFIX_LENGTH)
        )
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = f"crm_{prefix}_{secrets.token_urlsafe(API_TOKEN_SECRET_BYTES)}"
    api_token = ApiToken(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=hashlib.sha256(token.encode()).hexdigest(),
        read_only=read_only,
        expires_at=expires_at,
    )
    api_token.full_clean()
    api_token.save()
    return api_token, token


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Its owner or an admin revokes a token; revoking it again changes nothing."""
    if token.user_id != actor.pk and not user_is_admin(actor):
        raise PermissionDenied(_("Only its owner or an admin can revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken, ip_address: str | None) -> None:
    """Note when and from where a token was last used, at most once a minute per token: a busy
    integration would otherwise write to the row on every request."""
    try:
        ip_address = str(ipaddress.ip_address(ip_address or ""))
    except ValueError:
        ip_address = None
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < API_TOKEN_TOUCH_INTERVAL:
        return
    # The condition in the UPDATE keeps concurrent requests from all writing.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - API_TOKEN_TOUCH_INTERVAL),
        pk=token.pk,
    ).update(last_used_at=now, last_used_ip=ip_address)
    token.last_used_at = now
    token.last_used_ip = ip_address
