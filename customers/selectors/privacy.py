from django.db.models import QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, PrivacyRequest


def privacy_request_list_visible(
    *, user: User, customer: Customer | None = None, kind: str = ""
) -> QuerySet[PrivacyRequest]:
    """The audit entries of privacy requests about customers `user` may see, newest first."""
    requests = records_visible_to(user=user, queryset=PrivacyRequest.objects.all())
    if customer is not None:
        requests = requests.filter(customer=customer)
    if kind:
        requests = requests.filter(kind=kind)
    return requests.select_related("requested_by", "customer").order_by("-created_at", "-id")
