"""The one place the customers app takes row locks, always in the same order.

Every write that must not race another on the same customers (an order refreshing totals, a
merge, an erasure) locks them here, in primary key order, so two writes touching the same
customers cannot deadlock (Saleor's lock_objects.py does the same).
"""

from collections.abc import Iterable

from customers.models import Customer


def customers_lock(*, customer_ids: Iterable[int]) -> dict[int, Customer]:
    """Lock these customers' rows until the transaction ends; returns them by id."""
    locked = (
        Customer.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(set(customer_ids)))
        .order_by("pk")
    )
    return {customer.pk: customer for customer in locked}
