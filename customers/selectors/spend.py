"""A customer's spend month by month, for the chart on their 360 page, summed in SQL."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DateField, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Order

SPEND_CHART_MONTHS = 24
# As in the customer's total spend (customers.services.customers): these orders brought nothing.
NOT_SPEND_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)


@dataclass(frozen=True)
class MonthlySpend:
    # The first day of every month of the window, oldest first, months without orders included.
    months: list[date]
    # One list of totals per currency, aligned with `months`; empty when there were no orders.
    totals_by_currency: dict[str, list[Decimal]]


def _month_start_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def customer_monthly_spend(
    *, user: User, customer: Customer, months: int = SPEND_CHART_MONTHS
) -> MonthlySpend:
    """The customer's order totals per calendar month (in the server's time zone) over the last
    `months` months, this one included, one series per currency, in one query."""
    this_month = timezone.localdate().replace(day=1)
    window = [_month_start_back(this_month, back) for back in range(months - 1, -1, -1)]
    orders = records_visible_to(user=user, queryset=Order.objects.filter(customer=customer))
    rows = (
        orders.filter(ordered_at__date__gte=window[0])
        .exclude(status__in=NOT_SPEND_STATUSES)
        .annotate(month=TruncMonth("ordered_at", output_field=DateField()))
        .values("month", "currency")
        .annotate(total=Sum("total_amount"))
        .order_by("currency", "month")
    )
    position = {month: index for index, month in enumerate(window)}
    totals: dict[str, list[Decimal]] = {}
    for row in rows:
        series = totals.setdefault(row["currency"], [Decimal("0")] * len(window))
        if row["month"] in position:
            series[position[row["month"]]] = row["total"]
    return MonthlySpend(months=window, totals_by_currency=totals)
