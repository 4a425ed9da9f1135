"""A customer's relationships and their relationships' relationships (two hops), for the
network picture on the 360 page. Only customers the user may see take part: the walk neither
shows nor passes through anyone else."""

from dataclasses import dataclass

from django.db.models import Case, Q, Value, When

from crm.accounts.models import User
from customers.models import Customer, Relationship
from customers.selectors.records import relationship_list_visible

RELATIONSHIP_NETWORK_MAX_CUSTOMERS = 40
# At most this many relationships are read, the customer's own first, then the strongest, so a
# customer whose contacts know thousands of people still costs one bounded query.
RELATIONSHIP_READ_LIMIT = 500


@dataclass(frozen=True)
class RelationshipTie:
    first_pk: int
    second_pk: int
    kind: str
    strength: int


@dataclass(frozen=True)
class RelationshipNetwork:
    centre: Customer
    # The centre first, then its direct contacts, then theirs, each group strongest tie first.
    customers: list[Customer]
    hops: dict[int, int]
    ties: list[RelationshipTie]
    # Whether customers were left out to keep within the bound.
    truncated: bool


def _other_end(relationship: Relationship, pk: int) -> Customer:
    if relationship.from_customer_id == pk:
        return relationship.to_customer
    return relationship.from_customer


def customer_relationship_network(
    *, user: User, customer: Customer, max_customers: int = RELATIONSHIP_NETWORK_MAX_CUSTOMERS
) -> RelationshipNetwork:
    """Up to `max_customers` customers (the centre included) within two relationships of
    `customer`, and every relationship among them, in one query: the customer's direct contacts
    are subqueries, and the customer's own relationships come first."""
    visible = relationship_list_visible(user=user)
    own = Q(from_customer=customer) | Q(to_customer=customer)
    contacts = (
        visible.filter(from_customer=customer).values("to_customer"),
        visible.filter(to_customer=customer).values("from_customer"),
    )
    around = Q()
    for ids in contacts:
        around |= Q(from_customer__in=ids) | Q(to_customer__in=ids)
    relationships = list(
        visible.filter(own | around)
        .annotate(hop=Case(When(own, then=Value(1)), default=Value(2)))
        .order_by("hop", "-strength", "-created_at", "-id")[:RELATIONSHIP_READ_LIMIT]
    )
    kept: dict[int, Customer] = {customer.pk: customer}
    hops = {customer.pk: 0}
    truncated = len(relationships) == RELATIONSHIP_READ_LIMIT
    for relationship in relationships:
        ends = (
            [_other_end(relationship, customer.pk)]
            if relationship.hop == 1
            else [relationship.from_customer, relationship.to_customer]
        )
        for end in ends:
            if end.pk in kept:
                continue
            if len(kept) >= max_customers:
                truncated = True
                continue
            kept[end.pk] = end
            hops[end.pk] = relationship.hop
    strongest: dict[tuple[int, int], Relationship] = {}
    for relationship in relationships:
        ends = (relationship.from_customer_id, relationship.to_customer_id)
        if ends[0] not in kept or ends[1] not in kept:
            continue
        pair = (min(ends), max(ends))
        if pair not in strongest or relationship.strength > strongest[pair].strength:
            strongest[pair] = relationship
    ties = [
        RelationshipTie(
            first_pk=pair[0],
            second_pk=pair[1],
            kind=relationship.get_kind_display(),
            strength=relationship.strength,
        )
        for pair, relationship in strongest.items()
    ]
    return RelationshipNetwork(
        centre=customer,
        customers=list(kept.values()),
        hops=hops,
        ties=ties,
        truncated=truncated,
    )
