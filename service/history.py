"""The service app's records whose pages show their history (crm.audit's registry)."""

from django.urls import reverse

from crm.audit.registry import register_record_history
from service.models import CannedResponse, SlaPolicy, Ticket
from service.selectors.canned import canned_response_list_visible
from service.selectors.sla_policies import sla_policy_list
from service.selectors.tickets import ticket_list_visible


def record_histories_register() -> None:
    register_record_history(
        model=Ticket,
        visible=ticket_list_visible,
        url=lambda pk: reverse("service:ticket_detail", args=[pk]),
    )
    register_record_history(
        model=CannedResponse,
        visible=canned_response_list_visible,
        url=lambda pk: reverse("service:canned_edit", args=[pk]),
    )
    # SLA policies are shared: whoever may view them sees them all.
    register_record_history(
        model=SlaPolicy,
        visible=lambda *, user: sla_policy_list(),
        url=lambda pk: reverse("service:sla_policy_edit", args=[pk]),
    )
