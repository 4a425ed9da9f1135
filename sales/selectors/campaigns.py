"""Reads of campaigns and their members, and what each campaign brought in (attribution, ROI).

Which campaigns a user gets is the visibility rule's (owner, team, shares); members follow
their campaign. The figures of a campaign are a marketing metric of the campaign as a whole:
they count every deal and order attributed to it, whoever may see those records, but only for
the campaigns the user may see.

Attribution:
- a deal belongs to a campaign when its `campaign` is that campaign; a deal with no campaign
  belongs to the customer's *first touch*, the campaign whose membership of the customer is the
  earliest (created_at, then id), when that membership was created before the deal;
- an order (neither cancelled nor refunded) belongs to the customer's first touch when that
  membership was created before the order was placed, however long before.

The definitions the figures use:
- a lead is a member: every customer the campaign reached (the CRM keeps no snapshot of a
  customer's lifecycle status at the time they were added, so "was a lead then" cannot be told);
- converted members are those whose response is "converted" (set by hand or through the API);
- revenue is the amount of the won attributed deals plus the attributed orders, counting only
  amounts in the campaign's currency (the CRM does not convert currencies, and cost and revenue
  must be in one currency for the ROI to mean anything);
- cost per lead = actual cost / members; conversion rate = converted / members;
  ROI = (revenue - actual cost) / actual cost, None when the cost is 0.

Every figure is a correlated subquery of one SQL statement, so a list of campaigns with their
figures is one query however many campaigns it shows.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Order
from sales.models import Campaign, CampaignMember, Deal, Stage

MONEY = Decimal("0.01")
RATIO = Decimal("0.0001")
ZERO = Decimal("0")
# Orders that were undone earn the campaign nothing.
ORDER_STATUSES_NOT_COUNTED = (Order.Status.CANCELLED, Order.Status.REFUNDED)
_MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (no GROUP BY: one row whatever matches)."""
    counted = queryset.order_by().annotate(
        _n=Func(F("pk"), function="COUNT", output_field=IntegerField())
    )
    return Coalesce(Subquery(counted.values("_n")), Value(0))


def _sum(queryset: QuerySet, field: str) -> Coalesce:
    summed = queryset.order_by().annotate(
        _total=Func(F(field), function="SUM", output_field=_MONEY_FIELD)
    )
    return Coalesce(Subquery(summed.values("_total")), Value(ZERO), output_field=_MONEY_FIELD)


def _first_touches() -> QuerySet[CampaignMember]:
    """The memberships that are their customer's first campaign touch."""
    earlier = CampaignMember.objects.filter(customer_id=OuterRef("customer_id")).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    return CampaignMember.objects.filter(~Exists(earlier))


def _touched_before(moment: str) -> Exists:
    """Inside a subquery of deals or orders run for a campaign: the row's customer had this
    campaign as first touch before the row's `moment`."""
    return Exists(
        _first_touches().filter(
            campaign_id=OuterRef(OuterRef("pk")),
            customer_id=OuterRef("customer_id"),
            created_at__lt=OuterRef(moment),
        )
    )


def _direct_deals() -> QuerySet[Deal]:
    return Deal.objects.filter(campaign_id=OuterRef("pk"))


def _first_touch_deals() -> QuerySet[Deal]:
    # Kept apart from the direct deals (not OR-ed into one filter) so that each side can be
    # read from its own index: the campaign's deals, and the campaign's members' deals.
    return Deal.objects.filter(campaign__isnull=True).filter(_touched_before("created_at"))


def _attributed_orders() -> QuerySet[Order]:
    return (
        Order.objects.exclude(status__in=ORDER_STATUSES_NOT_COUNTED)
        .filter(currency=OuterRef("currency"))
        .filter(_touched_before("ordered_at"))
    )


def _won(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    return deals.filter(stage__kind=Stage.Kind.WON)


def campaigns_with_figures(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Annotate each campaign with the counts and sums CampaignFigures is built from."""
    members = CampaignMember.objects.filter(campaign_id=OuterRef("pk"))
    response = CampaignMember.Response
    same_currency = Q(currency=OuterRef("currency"))
    return queryset.annotate(
        member_count=_count(members),
        sent_count=_count(members.filter(response=response.SENT)),
        opened_count=_count(members.filter(response=response.OPENED)),
        responded_count=_count(members.filter(response=response.RESPONDED)),
        converted_count=_count(members.filter(response=response.CONVERTED)),
        direct_deal_count=_count(_direct_deals()),
        touch_deal_count=_count(_first_touch_deals()),
        direct_won_count=_count(_won(_direct_deals())),
        touch_won_count=_count(_won(_first_touch_deals())),
        direct_won_revenue=_sum(_won(_direct_deals()).filter(same_currency), "amount"),
        touch_won_revenue=_sum(_won(_first_touch_deals()).filter(same_currency), "amount"),
        order_revenue=_sum(_attributed_orders(), "total_amount"),
    )


def _ratio(numerator: Decimal, denominator: Decimal, step: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(step, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CampaignFigures:
    """What a campaign reached and brought in; see the module docstring for the definitions.

    Money is in the campaign's currency. Ratios are rounded half up: money to cents, rates and
    the ROI to four decimal places (0.2500 is 25 %). A ratio over nothing is None.
    """

    members: int
    sent: int
    opened: int
    responded: int
    converted: int
    deals: int
    won_deals: int
    won_revenue: Decimal
    order_revenue: Decimal
    actual_cost: Decimal

    @property
    def leads(self) -> int:
        return self.members

    @property
    def revenue(self) -> Decimal:
        return self.won_revenue + self.order_revenue

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _ratio(self.actual_cost, Decimal(self.leads), MONEY)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(Decimal(self.converted), Decimal(self.members), RATIO)

    @property
    def roi(self) -> Decimal | None:
        return _ratio(self.revenue - self.actual_cost, self.actual_cost, RATIO)

    @property
    def conversion_percent(self) -> Decimal | None:
        return None if self.conversion_rate is None else self.conversion_rate * 100

    @property
    def roi_percent(self) -> Decimal | None:
        return None if self.roi is None else self.roi * 100


def _money(value) -> Decimal:
    # SQLite hands sums back as floats or integers; two places, whatever the database.
    return Decimal(value).quantize(MONEY)


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    """The figures of a campaign read through `campaigns_with_figures`."""
    return CampaignFigures(
        members=campaign.member_count,
        sent=campaign.sent_count,
        opened=campaign.opened_count,
        responded=campaign.responded_count,
        converted=campaign.converted_count,
        deals=campaign.direct_deal_count + campaign.touch_deal_count,
        won_deals=campaign.direct_won_count + campaign.touch_won_count,
        won_revenue=_money(campaign.direct_won_revenue) + _money(campaign.touch_won_revenue),
        order_revenue=_money(campaign.order_revenue),
        actual_cost=campaign.actual_cost,
    )


def campaign_list_visible(*, user: User) -> QuerySet[Campaign]:
    campaigns = records_visible_to(user=user, queryset=Campaign.objects.all())
    return campaigns.select_related("owner", "team", "segment")


def campaign_get_visible(*, user: User, pk: int) -> Campaign:
    return campaign_list_visible(user=user).get(pk=pk)


def campaign_get_visible_with_figures(*, user: User, pk: int) -> Campaign:
    return campaigns_with_figures(campaign_list_visible(user=user)).get(pk=pk)


def campaign_list_filtered(
    *,
    user: User,
    search: str = "",
    type: str = "",
    status: str = "",
    period_from: date | None = None,
    period_to: date | None = None,
) -> QuerySet[Campaign]:
    """Visible campaigns narrowed down; a period keeps the campaigns running at some time in it
    (a campaign without dates is open-ended on that side)."""
    campaigns = campaign_list_visible(user=user)
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    if type:
        campaigns = campaigns.filter(type=type)
    if status:
        campaigns = campaigns.filter(status=status)
    if period_from is not None:
        campaigns = campaigns.exclude(end_date__lt=period_from)
    if period_to is not None:
        campaigns = campaigns.exclude(start_date__gt=period_to)
    return campaigns.order_by(F("start_date").desc(nulls_last=True), "name", "pk")


def campaign_report(**filters) -> QuerySet[Campaign]:
    """campaign_list_filtered(user=..., ...) with every campaign's figures, in one query."""
    return campaigns_with_figures(campaign_list_filtered(**filters))


def campaign_member_list_visible(*, user: User) -> QuerySet[CampaignMember]:
    members = records_visible_to(user=user, queryset=CampaignMember.objects.all())
    return members.select_related("customer", "campaign")


def campaign_member_get_visible(*, user: User, pk: int) -> CampaignMember:
    return campaign_member_list_visible(user=user).get(pk=pk)


def campaign_members(*, campaign: Campaign, response: str = "") -> QuerySet[CampaignMember]:
    """The members of a campaign the caller already may see, the latest added first.

    Every member of a visible campaign is listed, including customers the user could not open
    themselves: the campaign's audience is part of the campaign.
    """
    members = campaign.members.select_related("customer")
    if response:
        members = members.filter(response=response)
    return members.order_by("-pk")
