"""What the customer 360 page shows of a customer's deals: their creation and stage changes on
the timeline, and the open deals' count and amount on a panel. Registered from SalesConfig.ready()
through customers.registry, so the customers app never imports sales."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.formatting import format_money
from customers.models import Customer
from customers.registry import TimelineEntry
from sales.models import Deal, Stage
from sales.selectors.deals import deal_list_visible, stage_change_list_visible


def deal_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    """The creation and every stage change of the customer's deals the user may see, newest
    first, older than `before` when given: one query."""
    changes = stage_change_list_visible(user=user).filter(deal__customer=customer)
    if before is not None:
        changes = changes.filter(changed_at__lt=before)
    show_amount = field_access(user=user, model=Deal).can_see("amount")
    entries = []
    for change in changes.order_by("-changed_at", "-id")[:limit]:
        to_stage = _(change.to_stage.name)
        if change.from_stage is None:
            title = _("Deal %(deal)s created in %(stage)s") % {
                "deal": change.deal.name,
                "stage": to_stage,
            }
        else:
            title = _("Deal %(deal)s moved from %(from)s to %(to)s") % {
                "deal": change.deal.name,
                "from": _(change.from_stage.name),
                "to": to_stage,
            }
        badges = [format_money(change.deal.amount, change.deal.currency)] if show_amount else []
        if change.to_stage.kind != Stage.Kind.OPEN:
            badges.append(change.to_stage.get_kind_display())
        entries.append(
            TimelineEntry(
                at=change.changed_at,
                kind="deal",
                title=title,
                url=reverse("sales:deal_detail", args=[change.deal_id]),
                actor=str(change.changed_by) if change.changed_by else "",
                badges=tuple(badges),
                sort_key=f"{change.pk:012d}",
            )
        )
    return entries


def customer_open_deal_totals(
    *, customer: Customer, user: User
) -> tuple[int, list[tuple[str, Decimal]]]:
    """How many open deals of the customer the user sees, and their amount in each currency."""
    rows = (
        deal_list_visible(user=user)
        .filter(customer=customer, stage__kind=Stage.Kind.OPEN)
        .order_by("currency")
        .values("currency")
        .annotate(count=Count("pk"), total=Sum("amount"))
    )
    rows = list(rows)
    return sum(row["count"] for row in rows), [(row["currency"], row["total"]) for row in rows]
