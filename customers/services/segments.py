"""Saving segments: named customer filters, shared with a team or not.

A segment stores its filters, never its members: whoever opens it gets the customers that match
now, among those they may see (`segment_customers_visible`).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.accounts.field_security import field_access
from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin, user_team_ids
from customers.cleaning import fold_whitespace
from customers.models import Customer, Segment
from customers.selectors.customers import CustomerFilter, customer_filter_hidden_keys
from customers.services.customers import require_editable

SEGMENT_EDITABLE_FIELDS = ("name", "description", "filters", "team")


def _check_team(actor: User, team: Team | None) -> None:
    if team is not None and not user_is_admin(actor) and team.pk not in user_team_ids(actor):
        raise ValidationError(
            {"team": _("A segment can only be shared with a team you belong to or manage.")}
        )


def _check_filters(actor: User, filters: CustomerFilter) -> None:
    # A segment on a field the actor may not see would list the customers having a value of it.
    hidden = field_access(user=actor, model=Customer).hidden
    keys = customer_filter_hidden_keys(filters=filters, hidden=hidden)
    if keys:
        raise ValidationError(
            {"filters": _("You cannot filter on: %(keys)s.") % {"keys": ", ".join(keys)}}
        )


def segment_create(
    *,
    actor: User,
    name: str,
    filters: CustomerFilter,
    description: str = "",
    team: Team | None = None,
) -> Segment:
    _check_team(actor, team)
    _check_filters(actor, filters)
    segment = Segment(
        name=fold_whitespace(name),
        description=description.strip(),
        filters=filters.to_json(),
        owner=actor,
        team=team,
    )
    segment.full_clean()
    segment.save()
    return segment


def segment_update(*, actor: User, segment: Segment, **values) -> Segment:
    """Change the given fields: name, description, filters (a CustomerFilter), team (None to
    stop sharing)."""
    require_editable(actor=actor, record=segment)
    unknown = set(values) - set(SEGMENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    if "team" in values and values["team"] != segment.team:
        _check_team(actor, values["team"])
    if "name" in values:
        values["name"] = fold_whitespace(values["name"])
    if "description" in values:
        values["description"] = values["description"].strip()
    if "filters" in values:
        _check_filters(actor, values["filters"])
        values["filters"] = values["filters"].to_json()
    for name, value in values.items():
        setattr(segment, name, value)
    segment.full_clean()
    if values:
        segment.save(update_fields=[*sorted(values), "updated_at"])
    return segment


def segment_delete(*, actor: User, segment: Segment) -> None:
    require_editable(actor=actor, record=segment)
    segment.delete()
