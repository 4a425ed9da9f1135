"""Canned responses: reusable replies an agent keeps for themselves or shares with a team, and
their rendering for one ticket."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import record_is_editable_by, user_is_admin, user_team_ids
from service.models import CannedResponse, Ticket

CANNED_EDITABLE_FIELDS = ("name", "body", "team")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def canned_response_render(*, response: CannedResponse, ticket: Ticket, agent: User) -> str:
    """The response's text for `ticket`, with {customer_name}, {ticket_number},
    {ticket_subject} and {agent_name} filled in; any other {word} is left as written."""
    values = {
        "customer_name": ticket.customer.name,
        "ticket_number": ticket.number,
        "ticket_subject": ticket.subject,
        "agent_name": str(agent),
    }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), response.body)


def _require(actor: User, permission: str, response: CannedResponse | None = None) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied
    if response is not None and not record_is_editable_by(user=actor, record=response):
        raise PermissionDenied


def _clean(actor: User, values: dict) -> dict:
    unknown = set(values) - set(CANNED_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    team: Team | None = values.get("team")
    # Sharing with a team one is not part of would hand them a reply they never asked for.
    if team is not None and not user_is_admin(actor) and team.pk not in user_team_ids(actor):
        raise ValidationError({"team": _("You can only share with a team you belong to.")})
    return values


def canned_response_create(*, actor: User, name: str, body: str, team=None) -> CannedResponse:
    _require(actor, "service.add_cannedresponse")
    values = _clean(actor, {"name": name.strip(), "body": body, "team": team})
    response = CannedResponse(owner=actor, **values)
    response.full_clean()
    response.save()
    return response


def canned_response_update(*, actor: User, response: CannedResponse, **values) -> CannedResponse:
    _require(actor, "service.change_cannedresponse", response)
    values = _clean(actor, values)
    with transaction.atomic():
        for name, value in values.items():
            setattr(response, name, value.strip() if name == "name" else value)
        response.full_clean()
        response.save()
    return response


def canned_response_delete(*, actor: User, response: CannedResponse) -> None:
    _require(actor, "service.delete_cannedresponse", response)
    response.delete()
