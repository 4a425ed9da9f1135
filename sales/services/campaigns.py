"""Writes of marketing campaigns and their members: the one path the pages, the API and the
Celery task use, so a campaign or a member is validated the same way wherever it comes from.

Members come from the campaign's target segment (`campaign_members_add_from_segment`, long work
for a big segment, so pages and the API queue it as `sales.campaign_members_add_from_segment_task`
through `campaign_members_queue_from_segment`) or one by one (`campaign_member_add`). An email
campaign only ever includes customers who gave marketing consent.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to, user_default_team_id
from customers.cleaning import fold_whitespace
from customers.models import Customer, Segment
from customers.selectors.customers import segment_customers_visible
from sales.models import Campaign, CampaignMember

CAMPAIGN_EDITABLE_FIELDS = (
    "name",
    "type",
    "status",
    "description",
    "start_date",
    "end_date",
    "budget",
    "actual_cost",
    "currency",
    "segment",
    "owner",
    "team",
)

# Customers read and members written per round trip when adding a segment: memory stays bounded
# however big the segment is, and each chunk commits on its own, so a worker that dies loses at
# most one chunk and the task, run again, carries on where it stopped.
SEGMENT_CHUNK_SIZE = 1000

# A response at or past "responded" is a reply from the customer; responded_at records when.
REPLIED = frozenset({CampaignMember.Response.RESPONDED, CampaignMember.Response.CONVERTED})


def _require(actor: User | None, permission: str, record: Any | None = None) -> None:
    """`actor` holds the permission and may see `record`; None is the system (tasks, demo)."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise PermissionDenied
    if record is not None and not record_is_visible_to(user=actor, record=record):
        raise PermissionDenied


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(CAMPAIGN_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _check_values(campaign: Campaign, *, actor: User | None, segment_changed: bool) -> None:
    """The rules the database also enforces, with messages that name the field."""
    errors: dict[str, str] = {}
    campaign.name = fold_whitespace(campaign.name)
    campaign.currency = fold_whitespace(campaign.currency).upper()
    if not campaign.name:
        errors["name"] = _("A campaign needs a name.")
    if len(campaign.currency) != 3 or not campaign.currency.isalpha():
        errors["currency"] = _("Give the currency as a three-letter code, such as CNY.")
    for field, label in (("budget", _("budget")), ("actual_cost", _("actual cost"))):
        value = getattr(campaign, field)
        if value is not None and Decimal(value) < 0:
            errors[field] = _("The %(field)s cannot be negative.") % {"field": label}
    start, end = campaign.start_date, campaign.end_date
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["end_date"] = _("The end date cannot be before the start date.")
    if (
        segment_changed
        and campaign.segment is not None
        and actor is not None
        and not record_is_visible_to(user=actor, record=campaign.segment)
    ):
        errors["segment"] = _("No such segment.")
    if errors:
        raise ValidationError(errors)


def campaign_create(*, actor: User | None, **values) -> Campaign:
    """Create a campaign owned by `actor` (and their first team) unless told otherwise, in the
    default currency unless one is given."""
    _refuse_unknown(values)
    _require(actor, "sales.add_campaign")
    campaign = Campaign(**values)
    if "owner" not in values:
        campaign.owner = actor
    if "team" not in values:
        campaign.team_id = user_default_team_id(campaign.owner)
    if not campaign.currency:
        campaign.currency = settings.CRM_DEFAULT_CURRENCY
    _check_values(campaign, actor=actor, segment_changed=True)
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_update(*, actor: User | None, campaign: Campaign, **values) -> Campaign:
    """Change the given fields of a campaign; `segment` None stops targeting a segment."""
    _refuse_unknown(values)
    _require(actor, "sales.change_campaign", campaign)
    changed = {name for name, value in values.items() if getattr(campaign, name) != value}
    for name in changed:
        setattr(campaign, name, values[name])
    _check_values(campaign, actor=actor, segment_changed="segment" in changed)
    campaign.full_clean()
    if changed:
        campaign.save(update_fields=[*sorted(changed), "updated_at"])
    return campaign


def campaign_delete(*, actor: User | None, campaign: Campaign) -> None:
    """Delete a campaign and its members; its deals and web forms stay, without a campaign."""
    _require(actor, "sales.delete_campaign", campaign)
    campaign.delete()


def _check_consent(campaign: Campaign, customer: Customer) -> None:
    if campaign.type == Campaign.Type.EMAIL and not customer.marketing_consent:
        raise ValidationError(
            {
                "customer": _(
                    "%(name)s has not agreed to receive marketing, so an email campaign cannot "
                    "include them."
                )
                % {"name": customer.name}
            }
        )


def campaign_member_add(
    *, actor: User | None, campaign: Campaign, customer: Customer
) -> CampaignMember:
    """Add one customer the actor may see; an email campaign refuses one without consent."""
    _require(actor, "sales.add_campaignmember", campaign)
    if actor is not None and not record_is_visible_to(user=actor, record=customer):
        raise ValidationError({"customer": _("No such customer.")})
    _check_consent(campaign, customer)
    if CampaignMember.objects.filter(campaign=campaign, customer=customer).exists():
        raise ValidationError(
            {
                "customer": _("%(name)s is already a member of this campaign.")
                % {"name": customer.name}
            }
        )
    return CampaignMember.objects.create(campaign=campaign, customer=customer)


def _segment_customers(*, actor: User, campaign: Campaign):
    if campaign.segment_id is None:
        raise ValidationError({"segment": _("The campaign has no target segment.")})
    try:
        segment = Segment.objects.get(pk=campaign.segment_id)
        customers = segment_customers_visible(user=actor, segment=segment)
    except (Segment.DoesNotExist, ValueError) as exc:
        raise ValidationError(
            {"segment": _("The segment's saved filters cannot be read; edit the segment first.")}
        ) from exc
    if campaign.type == Campaign.Type.EMAIL:
        customers = customers.filter(marketing_consent=True)
    return customers.order_by("pk").values_list("pk", flat=True)


def campaign_members_add_from_segment(*, actor: User, campaign: Campaign) -> int:
    """Add the segment's customers that `actor` may see and that are not members yet; returns
    how many were added.

    For an email campaign customers without marketing consent are skipped. The segment is read
    in chunks by primary key and each chunk is written with one bulk insert that ignores rows
    already there, so running it twice (or alongside a hand-made addition) adds nobody twice.
    """
    _require(actor, "sales.add_campaignmember", campaign)
    customer_ids = _segment_customers(actor=actor, campaign=campaign)
    members = CampaignMember.objects.filter(campaign=campaign)
    before = members.count()
    last_id = 0
    while True:
        chunk = list(customer_ids.filter(pk__gt=last_id)[:SEGMENT_CHUNK_SIZE])
        if not chunk:
            break
        last_id = chunk[-1]
        present = set(members.filter(customer_id__in=chunk).values_list("customer_id", flat=True))
        with transaction.atomic():
            CampaignMember.objects.bulk_create(
                [
                    CampaignMember(campaign=campaign, customer_id=customer_id)
                    for customer_id in chunk
                    if customer_id not in present
                ],
                ignore_conflicts=True,
            )
    return members.count() - before


def campaign_members_add_from_segment_run(*, campaign_id: int, actor_id: int) -> int:
    """The background task's body: 0 when the campaign or the actor has gone since it was
    queued (a deleted campaign needs no members; a deactivated actor may see nobody)."""
    campaign = Campaign.objects.select_related("segment").filter(pk=campaign_id).first()
    actor = User.objects.filter(pk=actor_id, is_active=True).first()
    if campaign is None or actor is None:
        return 0
    return campaign_members_add_from_segment(actor=actor, campaign=campaign)


def campaign_members_queue_from_segment(*, actor: User, campaign: Campaign):
    """Queue `campaign_members_add_from_segment` on a worker; returns the Celery result (already
    holding the count when tasks run eagerly). Checks first, so a bad request fails here, not
    later in a worker where nobody sees it."""
    # Imported here: the task module imports this one to call the service.
    from sales.tasks import campaign_members_add_from_segment_task

    _require(actor, "sales.add_campaignmember", campaign)
    _segment_customers(actor=actor, campaign=campaign)
    return campaign_members_add_from_segment_task.delay(campaign.pk, actor.pk)


def campaign_member_set_response(
    *, actor: User | None, member: CampaignMember, response: str
) -> CampaignMember:
    """Record how the customer reacted. Moving to responded or converted stamps responded_at
    (kept from the first reply if there was one); moving back to sent or opened clears it."""
    _require(actor, "sales.change_campaignmember", member)
    if response not in CampaignMember.Response.values:
        raise ValidationError({"response": _("Choose one of the responses offered.")})
    member.response = response
    if response in REPLIED:
        member.responded_at = member.responded_at or timezone.now()
    else:
        member.responded_at = None
    member.save(update_fields=["response", "responded_at", "updated_at"])
    return member


def campaign_member_remove(*, actor: User | None, member: CampaignMember) -> None:
    _require(actor, "sales.delete_campaignmember", member)
    member.delete()


def campaign_members_merge(merged: Customer, kept: Customer) -> int:
    """Customer merge handler: move the merged customer's memberships to the kept customer.

    Where both were members of one campaign the kept membership takes the earlier date (the
    first touch, for attribution) and the further response; the merged one is deleted.
    """
    order = list(CampaignMember.Response.values)
    kept_by_campaign = {
        member.campaign_id: member for member in CampaignMember.objects.filter(customer=kept)
    }
    moved = 0
    with transaction.atomic():
        for member in CampaignMember.objects.filter(customer=merged):
            twin = kept_by_campaign.get(member.campaign_id)
            if twin is None:
                moved += CampaignMember.objects.filter(pk=member.pk).update(customer=kept)
                continue
            updates: dict[str, Any] = {}
            if member.created_at < twin.created_at:
                updates["created_at"] = member.created_at
            if order.index(member.response) > order.index(twin.response):
                updates.update(response=member.response, responded_at=member.responded_at)
            member.delete()
            if updates:
                CampaignMember.objects.filter(pk=twin.pk).update(**updates)
    return moved


def campaign_members_export(customer: Customer) -> list[dict[str, Any]]:
    """Privacy export: the campaigns the customer was a member of and how they responded."""
    members = (
        CampaignMember.objects.filter(customer=customer)
        .select_related("campaign")
        .order_by("created_at", "pk")
    )
    return [
        {
            "campaign": member.campaign.name,
            "type": member.campaign.type,
            "added_at": member.created_at.isoformat(),
            "response": member.response,
            "responded_at": member.responded_at.isoformat() if member.responded_at else None,
        }
        for member in members
    ]
