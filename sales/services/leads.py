"""Leads that arrive from outside (a web form today): recognised as a customer already known or
created as a new lead, handed to an owner by the assignment rules, and tied to their campaign.

A known customer is found by the import's rules (same email, else same phone) and only their
blank fields are filled in: what the team entered is never overwritten by what a visitor typed.
A new lead goes to whom the rules for leads pick, else to the default owner and team given.
"""

import dataclasses
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from crm.accounts.models import Team, User
from customers.locks import customers_lock
from customers.models import Company, Customer
from customers.services.customers import company_create, customer_create, customer_update
from sales.models import Assignment, Campaign, CampaignMember
from sales.selectors.webforms import customer_other_has_phone, lead_match_existing
from sales.services.assignment import assignment_choose, assignment_record

# Values a lead brings, as the Customer fields they fill; the company is linked by its name.
LEAD_CUSTOMER_FIELDS = ("name", "email", "phone", "job_title", "city", "province")

# A response only moves forward: a converted member who writes again stays converted.
_RESPONSE_ORDER = [choice.value for choice in CampaignMember.Response]


@dataclass(frozen=True)
class CapturedLead:
    customer: Customer
    created: bool


def _company_for(name: str, *, owner: User | None, team: Team | None) -> Company:
    # The oldest company of that name, whatever its case, as the import links companies.
    company = Company.objects.filter(name__iexact=name).order_by("pk").first()
    if company is None:
        company = company_create(actor=None, name=name, owner=owner, team=team)
    return company


def _fill_blanks(customer: Customer, values: dict[str, str], *, source: str) -> Customer:
    changes = {
        name: values[name]
        for name in LEAD_CUSTOMER_FIELDS
        if values.get(name) and not getattr(customer, name)
    }
    if "phone" in changes and customer_other_has_phone(customer=customer, phone=changes["phone"]):
        # The number is someone else's; copying it would make two customers look alike.
        del changes["phone"]
    if not customer.source:
        changes["source"] = source
    if values.get("company_name") and customer.company_id is None:
        changes["company"] = _company_for(
            values["company_name"], owner=customer.owner, team=customer.team
        )
    if not changes:
        return customer
    return customer_update(actor=None, customer=customer, **changes)


def _create_lead(
    values: dict[str, str], *, source: str, owner: User | None, team: Team | None
) -> Customer:
    choice = assignment_choose(
        applies_to="leads",
        attributes={
            "city": values.get("city", ""),
            "province": values.get("province", ""),
            "source": source,
        },
    )
    chosen_owner = choice.owner if choice else None
    if chosen_owner is not None:
        owner, team = chosen_owner, choice.team
    elif choice is not None and choice.team is not None:
        team = choice.team
    fields = {name: values[name] for name in LEAD_CUSTOMER_FIELDS if values.get(name)}
    if values.get("company_name"):
        fields["company"] = _company_for(values["company_name"], owner=owner, team=team)
    if team is not None:
        fields["team"] = team
    customer = customer_create(
        actor=None, status=Customer.Status.LEAD, source=source, owner=owner, **fields
    )
    if choice is not None:
        assignment_record(record=customer, choice=dataclasses.replace(choice, owner=owner))
    return customer


def lead_capture(
    *, values: dict[str, str], source: str, owner: User | None, team: Team | None
) -> CapturedLead:
    """The customer these (clean) values describe: a known one with their blanks filled in, or a
    new lead owned as the assignment rules decide, else by `owner` and `team` (with no team,
    the owner's first one)."""
    with transaction.atomic():
        existing = lead_match_existing(email=values.get("email", ""), phone=values.get("phone", ""))
        if existing is not None:
            locked = customers_lock(customer_ids=[existing.pk])[existing.pk]
            return CapturedLead(customer=_fill_blanks(locked, values, source=source), created=False)
        customer = _create_lead(values, source=source, owner=owner, team=team)
        return CapturedLead(customer=customer, created=True)


def campaign_response_record(*, campaign: Campaign, customer: Customer) -> CampaignMember:
    """The customer answered the campaign: a member who responded (added if they were not one)."""
    now = timezone.now()
    member, _created = CampaignMember.objects.select_for_update().get_or_create(
        campaign=campaign,
        customer=customer,
        defaults={"response": CampaignMember.Response.RESPONDED, "responded_at": now},
    )
    changed = []
    responded = _RESPONSE_ORDER.index(CampaignMember.Response.RESPONDED)
    if _RESPONSE_ORDER.index(member.response) < responded:
        member.response = CampaignMember.Response.RESPONDED
        changed.append("response")
    if member.responded_at is None:
        member.responded_at = now
        changed.append("responded_at")
    if changed:
        member.save(update_fields=[*changed, "updated_at"])
    return member


def lead_assignments_move(merged: Customer, kept: Customer) -> int:
    """Merge handler: who the merged lead was assigned to stays on record, on the customer kept."""
    return Assignment.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=merged.pk
    ).update(object_id=kept.pk)
