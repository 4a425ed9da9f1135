"""Setting up SLAs: policies, business calendars and their holidays. The one path the SLA pages,
the API and the admin use, so each rule answers with the same message everywhere.

The rules:
- a policy's targets are positive minutes, and resolution comes no sooner than first response;
- one active policy per service tier × priority (blank matches any);
- a calendar works at least one weekday, its day ends after it starts, and its time zone is an
  IANA name (Asia/Shanghai, Europe/Berlin);
- one calendar is the default: making another the default moves the flag in the same
  transaction; the flag cannot be taken off (or the default deleted) without giving it to
  another calendar;
- a calendar that policies use is not deleted; the refusal says how many use it;
- a calendar has each date as a holiday at most once.

Changed targets and calendars apply to tickets created (or re-prioritised) afterwards; due times
already set are left as they were promised.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.accounts.models import User
from service.models import BusinessCalendar, Holiday, SlaPolicy

SLA_POLICY_EDITABLE_FIELDS = (
    "name",
    "is_active",
    "tier",
    "priority",
    "first_response_minutes",
    "resolution_minutes",
    "warn_before_minutes",
    "calendar",
    "escalate_raise_priority",
    "escalate_to_manager",
)
CALENDAR_EDITABLE_FIELDS = (
    "name",
    "time_zone",
    "working_days",
    "day_starts_at",
    "day_ends_at",
    "is_default",
)
WEEKDAYS = range(1, 8)

Errors = dict[str, list[str]]


class RecordInUse(ValidationError):
    """A deletion refused because other records depend on this one."""

    def __init__(self, message: str):
        super().__init__(message, code="in_use")


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _require_perm(actor: User | None, permission: str) -> None:
    """No actor is the system itself (migrations, the demo), which may do anything."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _refuse_unknown(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _field_errors(record) -> Errors:
    """The fields' own checks (required, length, choices, uniqueness of names); the table
    constraints are checked by the rules below, with messages that say what to do."""
    try:
        record.full_clean(validate_constraints=False)
    except ValidationError as error:
        return dict(error.message_dict)
    return {}


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


# Policies ----------------------------------------------------------------------------------------


def _policy_errors(policy: SlaPolicy) -> Errors:
    errors = _field_errors(policy)
    for field in ("first_response_minutes", "resolution_minutes"):
        value = getattr(policy, field)
        if field not in errors and value is not None and value <= 0:
            _add(errors, field, _("Give a positive number of minutes."))
    if (
        not errors.keys() & {"first_response_minutes", "resolution_minutes"}
        and policy.resolution_minutes < policy.first_response_minutes
    ):
        _add(
            errors,
            "resolution_minutes",
            _("Resolution cannot be due before the first response (%(minutes)s minutes).")
            % {"minutes": policy.first_response_minutes},
        )
    if policy.is_active and not errors.keys() & {"tier", "priority"}:
        clash = (
            SlaPolicy.objects.filter(tier=policy.tier, priority=policy.priority, is_active=True)
            .exclude(pk=policy.pk)
            .first()
        )
        if clash is not None:
            _add(errors, "priority", _duplicate_message(policy, clash))
    return errors


def _duplicate_message(policy: SlaPolicy, clash: SlaPolicy) -> str:
    return _(
        "The active policy “%(name)s” already covers %(tier)s × %(priority)s; deactivate it "
        "first or edit it instead."
    ) % {
        "name": clash.name,
        "tier": policy.get_tier_display() if policy.tier else _("any tier"),
        "priority": policy.get_priority_display() if policy.priority else _("any priority"),
    }


def _policy_save(policy: SlaPolicy) -> SlaPolicy:
    errors = _policy_errors(policy)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        # Another writer activated a policy for the same tier × priority after our check.
        clash = (
            SlaPolicy.objects.filter(tier=policy.tier, priority=policy.priority, is_active=True)
            .exclude(pk=policy.pk)
            .first()
        )
        if clash is None:
            raise
        raise ValidationError({"priority": [_duplicate_message(policy, clash)]}) from None
    return policy


def sla_policy_create(*, actor: User | None, **values) -> SlaPolicy:
    """A new policy; the calendar defaults to the default calendar."""
    _require_perm(actor, "service.add_slapolicy")
    _refuse_unknown(values, SLA_POLICY_EDITABLE_FIELDS)
    policy = SlaPolicy(**values)
    if "calendar" not in values:
        policy.calendar = BusinessCalendar.objects.filter(is_default=True).first()
    return _policy_save(policy)


def sla_policy_update(*, actor: User | None, policy: SlaPolicy, **values) -> SlaPolicy:
    _require_perm(actor, "service.change_slapolicy")
    _refuse_unknown(values, SLA_POLICY_EDITABLE_FIELDS)
    for name, value in values.items():
        setattr(policy, name, value)
    return _policy_save(policy)


def sla_policy_delete(*, actor: User | None, policy: SlaPolicy) -> None:
    """Tickets that used the policy keep their due times and lose the link to it."""
    _require_perm(actor, "service.delete_slapolicy")
    policy.delete()


# Calendars ---------------------------------------------------------------------------------------


def _normalise_working_days(calendar: BusinessCalendar, errors: Errors) -> None:
    days = calendar.working_days
    if not isinstance(days, (list, tuple, set, frozenset)):
        _add(errors, "working_days", _("Give the working days as a list of weekdays, 1–7."))
        return
    try:
        numbers = sorted({int(day) for day in days})
    except (TypeError, ValueError):
        _add(errors, "working_days", _("Weekdays are numbers from 1 (Monday) to 7 (Sunday)."))
        return
    if any(day not in WEEKDAYS for day in numbers):
        _add(errors, "working_days", _("Weekdays are numbers from 1 (Monday) to 7 (Sunday)."))
    elif not numbers:
        _add(errors, "working_days", _("Choose at least one working day."))
    else:
        calendar.working_days = numbers


def _calendar_errors(calendar: BusinessCalendar, *, was_default: bool) -> Errors:
    errors: Errors = {}
    _normalise_working_days(calendar, errors)
    for field, messages in _field_errors(calendar).items():
        if field not in errors:
            errors[field] = messages
    if "time_zone" not in errors and calendar.time_zone not in time_zone_names():
        _add(
            errors,
            "time_zone",
            _("“%(zone)s” is not a time zone; use an IANA name such as Asia/Shanghai.")
            % {"zone": calendar.time_zone},
        )
    if (
        not errors.keys() & {"day_starts_at", "day_ends_at"}
        and calendar.day_ends_at <= calendar.day_starts_at
    ):
        _add(errors, "day_ends_at", _("The working day must end after it starts."))
    if was_default and not calendar.is_default:
        _add(
            errors,
            "is_default",
            _("Make another calendar the default instead; one calendar is always the default."),
        )
    return errors


def _calendar_save(calendar: BusinessCalendar, *, was_default: bool) -> BusinessCalendar:
    errors = _calendar_errors(calendar, was_default=was_default)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if calendar.is_default and not was_default:
            # The one-default constraint is checked per row, so the flag leaves first.
            BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(
                is_default=False
            )
        calendar.save()
    return calendar


def calendar_create(*, actor: User | None, **values) -> BusinessCalendar:
    """A new calendar (Monday to Friday unless told); the first one is the default."""
    _require_perm(actor, "service.add_businesscalendar")
    _refuse_unknown(values, CALENDAR_EDITABLE_FIELDS)
    values.setdefault("working_days", [1, 2, 3, 4, 5])
    calendar = BusinessCalendar(**values)
    if not BusinessCalendar.objects.filter(is_default=True).exists():
        calendar.is_default = True
    return _calendar_save(calendar, was_default=False)


def calendar_update(
    *, actor: User | None, calendar: BusinessCalendar, **values
) -> BusinessCalendar:
    _require_perm(actor, "service.change_businesscalendar")
    _refuse_unknown(values, CALENDAR_EDITABLE_FIELDS)
    was_default = BusinessCalendar.objects.filter(pk=calendar.pk, is_default=True).exists()
    for name, value in values.items():
        setattr(calendar, name, value)
    return _calendar_save(calendar, was_default=was_default)


def calendar_delete(*, actor: User | None, calendar: BusinessCalendar) -> None:
    _require_perm(actor, "service.delete_businesscalendar")
    if calendar.is_default:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Make another calendar the default before deleting this one.")]}
        )
    used = SlaPolicy.objects.filter(calendar=calendar).count()
    if used:
        raise RecordInUse(
            ngettext(
                "%(count)d SLA policy uses this calendar; give it another calendar first.",
                "%(count)d SLA policies use this calendar; give them another calendar first.",
                used,
            )
            % {"count": used}
        )
    calendar.delete()


# Holidays ----------------------------------------------------------------------------------------


def holiday_add(
    *, actor: User | None, calendar: BusinessCalendar, date: date, name: str = ""
) -> Holiday:
    """A day off on `calendar`: SLA clocks do not run on it."""
    _require_perm(actor, "service.add_holiday")
    holiday = Holiday(calendar=calendar, date=date, name=(name or "").strip())
    errors = _field_errors(holiday)
    if (
        "date" not in errors
        and Holiday.objects.filter(calendar=calendar, date=holiday.date).exists()
    ):
        _add(
            errors,
            "date",
            _("%(date)s is already a holiday on this calendar.") % {"date": holiday.date},
        )
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            holiday.save()
    except IntegrityError:
        raise ValidationError(
            {
                "date": [
                    _("%(date)s is already a holiday on this calendar.") % {"date": holiday.date}
                ]
            }
        ) from None
    return holiday


def holiday_remove(*, actor: User | None, holiday: Holiday) -> None:
    _require_perm(actor, "service.delete_holiday")
    holiday.delete()
