"""Reads of users, teams and API tokens, and the visibility rule every other selector applies.

The rule (one place, used by every page, endpoint, export, chart and chat room):
- an admin (superuser or the Admin role) sees every record, and so does a user holding a
  model's "see all" permission (`see_all_customer`, given to the service desk) for its records;
- anyone else sees the records they own, the records owned by or assigned to a team they belong
  to or manage (a manager's reach is the teams they manage), and the records shared with them or
  with one of those teams.

Editing follows the same rule, except that a share granting only "read" lets one see a record,
not change it, and "see all" is a permission to read.

A model whose records also belong to the people taking part (an event's attendees) names the
path to those users in `visibility_participants`; they see the record as well.

A model that has no owner of its own (an order, say) names the path to the record that does in
`visibility_path` (`"customer"`), and is visible exactly when that record is. A model whose
owner field has another name (a task's assignee) names it in `visibility_owner_field`.
"""

import contextlib
import hashlib
import hmac
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, Model, Q, QuerySet, Value, When
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

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

_TEAM_IDS_CACHE = "_crm_visible_team_ids"
_IS_ADMIN_CACHE = "_crm_is_admin"


def user_is_admin(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if not hasattr(user, _IS_ADMIN_CACHE):
        is_admin = user.is_superuser or user.groups.filter(name=ADMIN).exists()
        setattr(user, _IS_ADMIN_CACHE, is_admin)
    return getattr(user, _IS_ADMIN_CACHE)


def user_team_ids(user: User) -> frozenset[int]:
    """Teams whose records the user sees: those they belong to and those they manage."""
    if not hasattr(user, _TEAM_IDS_CACHE):
        member_of = (
            TeamMembership.objects.filter(user=user).order_by().values_list("team_id", flat=True)
        )
        managed = Team.objects.filter(manager=user).values_list("pk", flat=True)
        setattr(user, _TEAM_IDS_CACHE, frozenset(member_of) | frozenset(managed))
    return getattr(user, _TEAM_IDS_CACHE)


def user_default_team_id(user: User | None) -> int | None:
    """The team a record owned by `user` is filed under when none is given: their first team."""
    if user is None:
        return None
    return min(user_team_ids(user), default=None)


def _owner_model(model: type[Model], path: str) -> type[Model]:
    for name in filter(None, path.split("__")):
        model = model._meta.get_field(name).related_model
    return model


def _owner_path(model: type[Model]) -> tuple[str, str, type[Model]]:
    """(prefix to the record that decides, its owner field path, that record's model)."""
    path = getattr(model, "visibility_path", "")
    prefix = f"{path}__" if path else ""
    owner_model = _owner_model(model, path)
    owner = f"{prefix}{getattr(owner_model, 'visibility_owner_field', 'owner')}"
    return prefix, owner, owner_model


def ownership_condition(*, user: User, model: type[Model]) -> Q:
    """The records `user` sees by ownership: their own, their teams' and their teammates'."""
    prefix, owner, _ = _owner_path(model)
    condition = Q(**{f"{owner}_id": user.pk})
    team_ids = user_team_ids(user)
    if team_ids:
        teammates = TeamMembership.objects.filter(team_id__in=team_ids).values("user_id")
        condition |= Q(**{f"{prefix}team_id__in": team_ids}) | Q(**{f"{owner}_id__in": teammates})
    return condition


def shared_record_ids(*, user: User, model: type[Model], for_edit: bool = False) -> QuerySet:
    """Ids of the deciding records shared with `user` or their teams (to edit, if `for_edit`)."""
    _prefix, _owner, owner_model = _owner_path(model)
    shares = RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(owner_model)
    ).filter(Q(user=user) | Q(team_id__in=user_team_ids(user)))
    if for_edit:
        shares = shares.filter(access=RecordShare.Access.EDIT)
    return shares.values("object_id")


def visibility_condition(*, user: User, model: type[Model], for_edit: bool = False) -> Q:
    prefix, _owner, owner_model = _owner_path(model)
    shares = shared_record_ids(user=user, model=model, for_edit=for_edit)
    condition = ownership_condition(user=user, model=model) | Q(**{f"{prefix}pk__in": shares})
    participants = getattr(owner_model, "visibility_participants", "")
    if participants and not for_edit:
        taking_part = owner_model._default_manager.filter(**{participants: user}).values("pk")
        condition |= Q(**{f"{prefix}pk__in": taking_part})
    return condition


def user_sees_all(*, user: User, model: type[Model]) -> bool:
    """Whether `user` holds the "see all" permission of the model whose owner decides (the
    service desk sees every customer, and so every customer's orders and interactions)."""
    owner_model = _owner_model(model, getattr(model, "visibility_path", ""))
    opts = owner_model._meta
    return user.has_perm(f"{opts.app_label}.see_all_{opts.model_name}")


def records_visible_to(*, user: User, queryset: QuerySet) -> QuerySet:
    """The records of `queryset` that `user` may see under the visibility rule."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user_is_admin(user) or user_sees_all(user=user, model=queryset.model):
        return queryset
    return queryset.filter(visibility_condition(user=user, model=queryset.model))


def record_is_visible_to(*, user: User, record: Model) -> bool:
    queryset = type(record)._default_manager.filter(pk=record.pk)
    return records_visible_to(user=user, queryset=queryset).exists()


def records_editable_by(*, user: User, queryset: QuerySet) -> QuerySet:
    """The records of `queryset` that `user` may change: those they see, less the ones they see
    only through a read-only share or a "see all" permission."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user_is_admin(user):
        return queryset
    return queryset.filter(visibility_condition(user=user, model=queryset.model, for_edit=True))


def record_is_editable_by(*, user: User, record: Model) -> bool:
    queryset = type(record)._default_manager.filter(pk=record.pk)
    return records_editable_by(user=user, queryset=queryset).exists()


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").prefetch_related("members")


def team_members(*, team: Team) -> QuerySet[User]:
    return team.members.filter(is_active=True).order_by("username")


def user_list_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def user_role_names(*, user: User) -> list[str]:
    return list(user.groups.order_by("name").values_list("name", flat=True))


API_TOKEN_ACTIVE = "active"
API_TOKEN_EXPIRED = "expired"
API_TOKEN_REVOKED = "revoked"
API_TOKEN_STATUSES = [API_TOKEN_ACTIVE, API_TOKEN_EXPIRED, API_TOKEN_REVOKED]


def api_token_list_for(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, each with its `status`: active, expired or revoked."""
    return (
        ApiToken.objects.filter(user=user)
        .select_related("user")
        .annotate(
            status=Case(
                When(revoked_at__isnull=False, then=Value(API_TOKEN_REVOKED)),
                When(expires_at__lte=timezone.now(), then=Value(API_TOKEN_EXPIRED)),
                default=Value(API_TOKEN_ACTIVE),
                output_field=CharField(),
            )
        )
    )


def api_token_status(*, token: ApiToken) -> str:
    if token.revoked_at is not None:
        return API_TOKEN_REVOKED
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return API_TOKEN_EXPIRED
    return API_TOKEN_ACTIVE


def api_token_find(*, token: str) -> ApiToken | None:
    """The token a caller presented (`crm_<prefix>_<secret>`), whatever its status, or None when
    no token matches. The prefix finds the row; the hashes are compared in constant time."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "crm" or not parts[1] or not parts[2]:
        return None
    found = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if found is None:
        return None
    presented = hashlib.sha256(token.encode()).hexdigest()
    if not hmac.compare_digest(presented, found.key_hash):
        return None
    return found


# The session's own data carries when it was last seen, rounded to the minute, so the idle check
# costs no query and the session is saved at most once a minute.
SESSION_LAST_SEEN_KEY = "crm_last_seen"


def user_session_list_for(*, user: User) -> QuerySet[UserSession]:
    """The user's signed-in browser sessions, the most recently used first."""
    return UserSession.objects.filter(user=user)


def user_session_is_idle(*, session) -> bool:
    """Whether a signed-in session went unused for longer than CRM_SESSION_IDLE_MINUTES (0 keeps
    sessions until they expire)."""
    idle_minutes = settings.CRM_SESSION_IDLE_MINUTES
    seen = session.get(SESSION_LAST_SEEN_KEY)
    if idle_minutes <= 0 or seen is None:
        return False
    return timezone.now().timestamp() - seen > idle_minutes * 60


def two_factor_device_for(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def user_must_use_two_factor(*, user: User) -> bool:
    """Staff, superusers and the Admin role must sign in with a second factor when
    CRM_REQUIRE_2FA_FOR_ADMINS is on."""
    if not settings.CRM_REQUIRE_2FA_FOR_ADMINS or not user.is_authenticated:
        return False
    return user.is_staff or user_is_admin(user)


def field_rule_roles() -> QuerySet[Group]:
    """The roles field rules apply to: every role but Admin, which is never restricted."""
    return Group.objects.filter(name__in=ROLE_PERMISSIONS).exclude(name=ADMIN).order_by("name")


def field_rule_list() -> QuerySet[FieldRule]:
    return FieldRule.objects.select_related("content_type", "role")


def field_rule_matrix(*, model: type[Model]) -> dict[tuple[str, int], str]:
    """The access of each (field name, role id) of `model` that has a rule."""
    rules = FieldRule.objects.filter(content_type=ContentType.objects.get_for_model(model))
    return {
        (field_name, role_id): access
        for field_name, role_id, access in rules.values_list("field_name", "role_id", "access")
    }


def user_time_zone(user: User) -> zoneinfo.ZoneInfo:
    """The time zone the user chose, or the site's when they chose none (or a name since
    dropped from the zone database): for pages, and for work done for them outside a request."""
    with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
        if user.time_zone:
            return zoneinfo.ZoneInfo(user.time_zone)
    return timezone.get_default_timezone()
