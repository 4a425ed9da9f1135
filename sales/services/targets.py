"""Setting sales targets (quotas): the one path the target forms and the API take.

A target is an amount for one rep or one team over a month or a quarter (see
sales.selectors.forecasts for periods and attainment). Its `period_start` is the first day of
that month or quarter; there is at most one target per rep (or team) and period, and the amount
is never negative. Managers set the targets of the teams they manage and of those teams' members;
admins set any. Reps only read them.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.accounts.models import Team, TeamMembership, User
from crm.accounts.selectors import user_is_admin
from sales.models import SalesTarget
from sales.selectors.forecasts import Period, period_start_is_valid

TARGET_EDITABLE_FIELDS = ("owner", "team", "period", "period_start", "amount", "currency")


def _require_permission(actor: User, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(_("You may not change sales targets."))


def _require_manages(*, actor: User, owner: User | None, team: Team | None) -> None:
    if user_is_admin(actor):
        return
    if team is not None and team.manager_id == actor.pk:
        return
    if (
        owner is not None
        and TeamMembership.objects.filter(user=owner, team__manager=actor).exists()
    ):
        return
    raise PermissionDenied(
        _("Only an admin or the manager of the team sets the targets of a team and its reps.")
    )


def _clean_amount(value: Any) -> Decimal:
    if value is None or value == "":
        raise ValidationError({"amount": _("Enter the target amount.")})
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError({"amount": _("Enter a number.")}) from exc
    if not amount.is_finite():
        raise ValidationError({"amount": _("Enter a number.")})
    if amount < 0:
        raise ValidationError({"amount": _("A target cannot be negative.")})
    return amount


def _require_subject(target: SalesTarget) -> None:
    if (target.owner_id is None) == (target.team_id is None):
        raise ValidationError({"owner": _("A target is for one rep or for one team: choose one.")})


def _validate(target: SalesTarget) -> None:
    """Every other rule on the target's values, each error under the field it is about."""
    if target.period not in SalesTarget.Period.values:
        raise ValidationError({"period": _("The period is a month or a quarter.")})
    if not isinstance(target.period_start, date):
        raise ValidationError({"period_start": _("Enter the first day of the period.")})
    if not period_start_is_valid(kind=target.period, start=target.period_start):
        message = (
            _("A quarter starts on 1 January, 1 April, 1 July or 1 October.")
            if target.period == SalesTarget.Period.QUARTER
            else _("A monthly target starts on the first day of the month.")
        )
        raise ValidationError({"period_start": message})
    target.amount = _clean_amount(target.amount)
    target.currency = (target.currency or settings.CRM_DEFAULT_CURRENCY).strip().upper()
    target.clean_fields()
    _refuse_duplicate(target)


def _duplicate_message(target: SalesTarget) -> ValidationError:
    period = Period(kind=target.period, start=target.period_start)
    subject = target.owner if target.owner_id else target.team
    return ValidationError(
        {
            "period_start": _("%(subject)s already has a target for %(period)s.")
            % {"subject": subject, "period": period.label}
        }
    )


def _refuse_duplicate(target: SalesTarget) -> None:
    same = SalesTarget.objects.filter(
        period=target.period,
        period_start=target.period_start,
        owner_id=target.owner_id,
        team_id=target.team_id,
    ).exclude(pk=target.pk)
    if same.exists():
        raise _duplicate_message(target)


def _save(target: SalesTarget) -> SalesTarget:
    try:
        # A savepoint, so a duplicate written by someone else in the meantime leaves the caller's
        # transaction usable and becomes the same error as the check above.
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise _duplicate_message(target) from exc
    return target


def target_create(
    *,
    actor: User,
    owner: User | None = None,
    team: Team | None = None,
    period: str,
    period_start: date,
    amount: Decimal,
    currency: str = "",
) -> SalesTarget:
    _require_permission(actor, "sales.add_salestarget")
    target = SalesTarget(
        owner=owner,
        team=team,
        period=period,
        period_start=period_start,
        amount=amount,
        currency=currency,
    )
    _require_subject(target)
    _require_manages(actor=actor, owner=owner, team=team)
    _validate(target)
    return _save(target)


def target_update(*, actor: User, target: SalesTarget, **values: Any) -> SalesTarget:
    """Change the given fields; the actor must manage the target both before and after."""
    _require_permission(actor, "sales.change_salestarget")
    unknown = set(values) - set(TARGET_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    _require_manages(actor=actor, owner=target.owner, team=target.team)
    changed = SalesTarget.objects.get(pk=target.pk)
    for name, value in values.items():
        setattr(changed, name, value)
    _require_subject(changed)
    _require_manages(actor=actor, owner=changed.owner, team=changed.team)
    _validate(changed)
    return _save(changed)


def target_delete(*, actor: User, target: SalesTarget) -> None:
    _require_permission(actor, "sales.delete_salestarget")
    _require_manages(actor=actor, owner=target.owner, team=target.team)
    target.delete()
