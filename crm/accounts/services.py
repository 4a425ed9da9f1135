"""Writes on users, teams, record shares and API tokens."""

import hashlib
import ipaddress
import secrets
import string
import warnings
import zoneinfo
from datetime import datetime, timedelta
from importlib import import_module

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from crm.accounts.field_security import securable_fields
from crm.accounts.models import (
    ApiToken,
    FieldRule,
    RecordShare,
    Team,
    TeamMembership,
    User,
    UserSession,
)
from crm.accounts.roles import ADMIN, ROLE_PERMISSIONS
from crm.accounts.selectors import SESSION_LAST_SEEN_KEY, user_is_admin
from crm.audit.context import request_origin
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from crm.uploads import upload_check

PREFERENCE_FIELDS = ("display_name", "phone", "time_zone", "language")
# Far more than any screen shows for a face, far less than what decoding would hurt the server.
AVATAR_MAX_SIDE = 4096


def _avatar_check(avatar: UploadedFile) -> None:
    """An avatar passes the check every upload passes, is a picture, and has at most
    AVATAR_MAX_SIDE² pixels. Only the picture's header is read: a decompression bomb (a small
    file that decodes to gigabytes) is refused before any of it is decoded."""
    try:
        content_type = upload_check(avatar)
    except ValidationError as exc:
        raise ValidationError({"avatar": exc.messages}) from exc
    if not content_type.startswith("image/"):
        raise ValidationError(
            {"avatar": _("An avatar must be a picture (PNG, JPEG, GIF or WebP).")}
        )
    too_many_pixels = ValidationError(
        {
            "avatar": _(
                "This picture has too many pixels: an avatar may be at most %(side)s × %(side)s."
            )
            % {"side": AVATAR_MAX_SIDE}
        }
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; ours is far lower and checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(avatar) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise too_many_pixels from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError({"avatar": _("This picture cannot be read.")}) from exc
    finally:
        avatar.seek(0)
    if width * height > AVATAR_MAX_SIDE * AVATAR_MAX_SIDE:
        raise too_many_pixels


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
    if isinstance(changes.get("avatar"), UploadedFile):
        _avatar_check(changes["avatar"])
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
    audit_event_record(
        kind=AuditEvent.Kind.TOKEN_CREATED,
        actor=user,
        target=api_token,
        details={"prefix": prefix, "read_only": read_only},
    )
    return api_token, token


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Its owner or an admin revokes a token; revoking it again changes nothing."""
    if token.user_id != actor.pk and not user_is_admin(actor):
        raise PermissionDenied(_("Only its owner or an admin can revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_event_record(
            kind=AuditEvent.Kind.TOKEN_REVOKED,
            actor=actor,
            target=token,
            details={"prefix": token.prefix, "owner": token.user.get_username()},
        )
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


SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def _session_store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def user_session_start(*, request: HttpRequest, user: User) -> UserSession:
    """Note the signed-in session `request` now carries, so it shows among the user's sessions."""
    now = timezone.now()
    origin = request_origin(request)
    request.session[SESSION_LAST_SEEN_KEY] = now.timestamp()
    if request.session.session_key is None:
        request.session.save()
    user_session, _created = UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": origin.ip_address,
            "user_agent": origin.user_agent,
            "last_seen_at": now,
        },
    )
    return user_session


def user_session_touch(*, request: HttpRequest) -> None:
    """Note that the signed-in session was used: at most once a minute, in the session and in its
    row (which is made again if it went missing)."""
    now = timezone.now()
    seen = request.session.get(SESSION_LAST_SEEN_KEY)
    if seen is not None and now.timestamp() - seen < SESSION_TOUCH_INTERVAL.total_seconds():
        return
    request.session[SESSION_LAST_SEEN_KEY] = now.timestamp()
    origin = request_origin(request)
    changed = UserSession.objects.filter(session_key=request.session.session_key).update(
        ip_address=origin.ip_address, user_agent=origin.user_agent, last_seen_at=now
    )
    if not changed and request.session.session_key:
        UserSession.objects.get_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": request.user,
                "ip_address": origin.ip_address,
                "user_agent": origin.user_agent,
                "last_seen_at": now,
            },
        )


def user_session_forget(*, session_key: str | None) -> None:
    """Drop the row of a session that is ending anyway (a logout)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def user_sessions_end(
    *, user: User, actor: User | None, sessions: QuerySet[UserSession] | None = None
) -> int:
    """Sign `user` out of `sessions` (all of theirs by default): each session is deleted from the
    session store, whichever backend holds it, and its row goes with it."""
    ended = list(
        (sessions if sessions is not None else UserSession.objects.all()).filter(user=user)
    )
    for user_session in ended:
        _session_store(user_session.session_key).delete()
    UserSession.objects.filter(pk__in=[user_session.pk for user_session in ended]).delete()
    if ended:
        audit_event_record(
            kind=AuditEvent.Kind.SESSIONS_REVOKED,
            actor=actor,
            target=user,
            details={"count": len(ended)},
        )
    return len(ended)


def user_sessions_purge_expired() -> int:
    """Remove the sessions idle for longer than the limit, store entry and row: their owners
    would be signed out on their next request anyway."""
    idle_minutes = settings.CRM_SESSION_IDLE_MINUTES
    idle = (
        timedelta(minutes=idle_minutes) + SESSION_TOUCH_INTERVAL
        if idle_minutes > 0
        else timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    expired = list(
        UserSession.objects.filter(last_seen_at__lt=timezone.now() - idle).values_list(
            "pk", "session_key"
        )
    )
    for _pk, session_key in expired:
        _session_store(session_key).delete()
    UserSession.objects.filter(pk__in=[pk for pk, _key in expired]).delete()
    return len(expired)


def user_login_record(*, request: HttpRequest, user: User) -> None:
    audit_event_record(kind=AuditEvent.Kind.LOGIN, actor=user, request=request)
    user_session_start(request=request, user=user)


def user_logout_record(*, request: HttpRequest, user: User | None) -> None:
    if user is not None:
        audit_event_record(kind=AuditEvent.Kind.LOGOUT, actor=user, request=request)
    user_session_forget(session_key=request.session.session_key)


def user_login_failed_record(
    *, request: HttpRequest | None, username: str, two_factor: bool = False
) -> None:
    kind = AuditEvent.Kind.TWO_FACTOR_FAILED if two_factor else AuditEvent.Kind.LOGIN_FAILED
    audit_event_record(kind=kind, username=username, request=request)


def user_locked_out_record(*, request: HttpRequest | None, username: str) -> None:
    audit_event_record(kind=AuditEvent.Kind.LOCKED_OUT, username=username, request=request)


def user_password_changed(*, request: HttpRequest, user: User, previous_session_key: str) -> None:
    """After a password change only the session that made it stays signed in. That session got
    a new key with the change (Django cycles it); its row follows."""
    audit_event_record(kind=AuditEvent.Kind.PASSWORD_CHANGED, actor=user, request=request)
    user_sessions_end(
        user=user,
        actor=user,
        sessions=UserSession.objects.exclude(session_key=previous_session_key),
    )
    UserSession.objects.filter(session_key=previous_session_key).update(
        session_key=request.session.session_key
    )


# Two-factor authentication with a TOTP app. A user has at most one device: unconfirmed while
# being set up, confirmed once they entered a code from it.
TWO_FACTOR_DEVICE_NAME = "Authenticator app"


def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device being set up, made with a fresh secret when there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TWO_FACTOR_DEVICE_NAME, confirmed=False)
    return device


def two_factor_enable(*, request: HttpRequest, user: User, code: str) -> TOTPDevice:
    """Confirm the device being set up with a code from it; the session counts as verified."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError(_("Start the set-up again: there is no device waiting."))
    if not device.verify_token(code):
        raise ValidationError({"code": _("That code is not right. Try the current one.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_event_record(kind=AuditEvent.Kind.TWO_FACTOR_ENABLED, actor=user, request=request)
    otp_login(request, device)
    return device


def two_factor_disable(*, request: HttpRequest, user: User, code: str) -> None:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return
    if not device.verify_token(code):
        raise ValidationError({"code": _("That code is not right. Try the current one.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_event_record(kind=AuditEvent.Kind.TWO_FACTOR_DISABLED, actor=user, request=request)


def two_factor_verify(*, request: HttpRequest, user: User, code: str) -> TOTPDevice:
    """Check the code of a user signing in. A wrong code is a failed login: it is recorded, and
    django-axes counts it towards the lockout; django-otp makes each further try wait longer."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationError(_("Two-factor authentication is not set up for this account."))
    allowed, _details = device.verify_is_allowed()
    if allowed and device.verify_token(code):
        return device
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username(), "two_factor": True},
        request=request,
    )
    if not allowed:
        raise ValidationError(
            {"code": _("Too many wrong codes. Wait a moment, then try the current one.")}
        )
    raise ValidationError({"code": _("That code is not right. Try the current one.")})


FIELD_RULE_PERMISSION = "accounts.change_fieldrule"
VISIBLE = "visible"


def _field_rule_target(*, model_label: str, field_name: str, role: Group) -> ContentType:
    """The record type of a rule, once the field is known to be one rules may restrict."""
    try:
        model = django_apps.get_model(model_label)
    except (LookupError, ValueError):
        model = None
    if model is None or not securable_fields(model):
        raise ValidationError(
            {
                "model": _("“%(model)s” has no fields that rules can restrict.")
                % {"model": model_label}
            }
        )
    if field_name not in securable_fields(model):
        raise ValidationError(
            {
                "field_name": _("“%(field)s” is not a field of %(model)s that rules can restrict.")
                % {"field": field_name, "model": model._meta.verbose_name_plural}
            }
        )
    if role.name == ADMIN:
        raise ValidationError({"role": _("Admins always see and change every field.")})
    return ContentType.objects.get_for_model(model)


def _field_rule_change_record(
    *,
    actor: User,
    rule: FieldRule | None,
    model_label: str,
    field_name: str,
    role: Group,
    previous: str,
    access: str,
) -> None:
    audit_event_record(
        kind=AuditEvent.Kind.FIELD_RULE_CHANGED,
        actor=actor,
        target=rule,
        details={
            "record_type": model_label,
            "field": field_name,
            "role": role.name,
            "previous": previous,
            "access": access,
        },
    )


def field_rule_set(
    *, actor: User, model_label: str, field_name: str, role: Group, access: str
) -> FieldRule:
    """Hide a field of customers, deals or tickets (`model_label`, "customers.customer") from
    `role`, or make it read-only for it. A change is recorded in the audit log."""
    if not actor.has_perm(FIELD_RULE_PERMISSION):
        raise PermissionDenied(_("Only an admin can change field rules."))
    content_type = _field_rule_target(model_label=model_label, field_name=field_name, role=role)
    if access not in FieldRule.Access.values:
        raise ValidationError({"access": _("Choose hidden or read-only.")})
    with transaction.atomic():
        rule = (
            FieldRule.objects.select_for_update()
            .filter(content_type=content_type, field_name=field_name, role=role)
            .first()
        )
        previous = rule.access if rule is not None else VISIBLE
        if rule is None:
            rule = FieldRule.objects.create(
                content_type=content_type, field_name=field_name, role=role, access=access
            )
        elif rule.access != access:
            rule.access = access
            rule.save(update_fields=["access", "updated_at"])
        else:
            return rule
        _field_rule_change_record(
            actor=actor,
            rule=rule,
            model_label=model_label,
            field_name=field_name,
            role=role,
            previous=previous,
            access=access,
        )
    return rule


def field_rule_delete(*, actor: User, model_label: str, field_name: str, role: Group) -> None:
    """Make the field visible and writable for `role` again; recorded in the audit log when there
    was a rule."""
    if not actor.has_perm(FIELD_RULE_PERMISSION):
        raise PermissionDenied(_("Only an admin can change field rules."))
    content_type = _field_rule_target(model_label=model_label, field_name=field_name, role=role)
    with transaction.atomic():
        rule = (
            FieldRule.objects.select_for_update()
            .filter(content_type=content_type, field_name=field_name, role=role)
            .first()
        )
        if rule is None:
            return
        previous = rule.access
        rule.delete()
        _field_rule_change_record(
            actor=actor,
            rule=None,
            model_label=model_label,
            field_name=field_name,
            role=role,
            previous=previous,
            access=VISIBLE,
        )


def field_rules_save(
    *, actor: User, changes_by_model: dict[str, dict[tuple[str, Group], str]]
) -> None:
    """Set many rules at once (the rules page's matrices): for each record type's label, each
    (field name, role) gets hidden, read-only or visible (no rule). All or nothing."""
    with transaction.atomic():
        for model_label, changes in changes_by_model.items():
            for (field_name, role), access in changes.items():
                if access == VISIBLE:
                    field_rule_delete(
                        actor=actor, model_label=model_label, field_name=field_name, role=role
                    )
                else:
                    field_rule_set(
                        actor=actor,
                        model_label=model_label,
                        field_name=field_name,
                        role=role,
                        access=access,
                    )
