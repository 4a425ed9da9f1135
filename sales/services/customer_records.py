"""What sales holds about one customer, for the customers app's merge, data export and erasure.

Registered with customers.registry from SalesConfig.ready(); customers never imports this.
"""

from datetime import date

from customers.models import Customer
from sales.models import Deal, WebFormSubmission


def customer_sales_records_merge(merged: Customer, kept: Customer) -> int:
    """Move the merged customer's deals and form submissions to the kept one (campaign
    memberships and tasks have their own handlers)."""
    moved = Deal.objects.filter(customer=merged).update(customer=kept)
    moved += WebFormSubmission.objects.filter(customer=merged).update(customer=kept)
    return moved


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def customer_sales_records_export(customer: Customer) -> dict:
    """JSON-ready: dates as ISO text, money as decimal text."""
    deals = Deal.objects.filter(customer=customer).select_related("stage", "pipeline")
    return {
        "deals": [
            {
                "name": deal.name,
                "pipeline": deal.pipeline.name,
                "stage": deal.stage.name,
                "amount": str(deal.amount),
                "currency": deal.currency,
                "expected_close_date": _iso(deal.expected_close_date),
                "created_at": _iso(deal.created_at),
                "closed_at": _iso(deal.closed_at),
            }
            for deal in deals
        ],
        "web_form_submissions": [
            {
                "form": submission.form.name,
                "data": submission.data,
                "at": _iso(submission.submitted_at),
            }
            for submission in WebFormSubmission.objects.filter(customer=customer).select_related(
                "form"
            )
        ],
    }


def customer_sales_records_erase(customer: Customer) -> None:
    """Form submissions hold what the person typed; the deals stay for the sales figures."""
    WebFormSubmission.objects.filter(customer=customer).update(data={}, ip_address=None)
