from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from analytics.models import ModelVersion, PredictiveModel
from customers.models import Customer, Order, Product
from customers.services.customers import customer_aggregates_refresh
from service.models import Priority, Ticket
from tests.customers.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.service.factories import TicketFactory


class PredictiveModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PredictiveModel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"model-{n}")
    title = factory.Sequence(lambda n: f"Model {n}")
    kind = PredictiveModel.Kind.BUILDER


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(PredictiveModelFactory)
    number = factory.Sequence(lambda n: n + 1)
    trigger = ModelVersion.Trigger.COMMAND
    status = ModelVersion.Status.DONE


@dataclass
class RecommendationGroups:
    """Two groups of buyers no one could mix up, for the recommendations tests.

    Premium: Beijing, premium tier, high income, born around 1975, buying electronics: each peer
    bought a laptop and two monitors (and a discontinued dock); `premium_subject` only a laptop
    (and a monitor order that was cancelled). `hidden_peer` is a premium peer the rep may not see.
    Budget: Chengdu, normal tier, low income, born around 2000, buying groceries: each peer bought
    rice and tea; `budget_subject` only rice."""

    premium_subject: Customer
    premium_peers: list[Customer]
    hidden_peer: Customer
    budget_subject: Customer
    budget_peers: list[Customer]
    laptop: Product
    monitor: Product
    dock: Product
    rice: Product
    tea: Product


def _buyer(*, owner, index: int, premium: bool) -> Customer:
    return CustomerFactory(
        name=f"{'Premium' if premium else 'Budget'} buyer {index}",
        owner=owner,
        city="Beijing" if premium else "Chengdu",
        tier=Customer.Tier.PREMIUM if premium else Customer.Tier.NORMAL,
        annual_income=Decimal(900_000 + index * 1000 if premium else 30_000 + index * 100),
        birthday=date(1975 if premium else 2000, 1 + index, 10),
    )


def _bought(customer: Customer, *lines: tuple[Product, int], status=Order.Status.COMPLETED):
    order = OrderFactory(
        customer=customer,
        status=status,
        total_amount=sum(
            (product.unit_price * quantity for product, quantity in lines), Decimal(0)
        ),
    )
    for product, quantity in lines:
        OrderLineFactory(
            order=order, product=product, quantity=quantity, unit_price=product.unit_price
        )


def recommendation_groups_create(*, owner, hidden_owner) -> RecommendationGroups:
    laptop = ProductFactory(name="Laptop", category="Electronics", unit_price=Decimal("9000"))
    monitor = ProductFactory(name="Monitor", category="Electronics", unit_price=Decimal("1500"))
    dock = ProductFactory(
        name="Dock", category="Electronics", unit_price=Decimal("800"), is_active=False
    )
    rice = ProductFactory(name="Rice", category="Groceries", unit_price=Decimal("20"))
    tea = ProductFactory(name="Tea", category="Groceries", unit_price=Decimal("35"))

    premium_subject = _buyer(owner=owner, index=0, premium=True)
    _bought(premium_subject, (laptop, 1))
    _bought(premium_subject, (monitor, 2), status=Order.Status.CANCELLED)
    premium_peers = [_buyer(owner=owner, index=index, premium=True) for index in range(1, 5)]
    hidden_peer = _buyer(owner=hidden_owner, index=5, premium=True)
    for peer in [*premium_peers, hidden_peer]:
        _bought(peer, (laptop, 1), (monitor, 2), (dock, 1))

    budget_subject = _buyer(owner=owner, index=0, premium=False)
    _bought(budget_subject, (rice, 5))
    budget_peers = [_buyer(owner=owner, index=index, premium=False) for index in range(1, 6)]
    for peer in budget_peers:
        _bought(peer, (rice, 5), (tea, 3))

    everyone = [premium_subject, *premium_peers, hidden_peer, budget_subject, *budget_peers]
    customer_aggregates_refresh(customer_ids=[customer.pk for customer in everyone])
    return RecommendationGroups(
        premium_subject=premium_subject,
        premium_peers=premium_peers,
        hidden_peer=hidden_peer,
        budget_subject=budget_subject,
        budget_peers=budget_peers,
        laptop=laptop,
        monitor=monitor,
        dock=dock,
        rice=rice,
        tea=tea,
    )


@dataclass(frozen=True)
class OrderHistories:
    """Customers by how they bought over the last two years (see `order_histories_create`)."""

    regulars: list
    lapsed: list
    never: list
    erased: object
    now: object


def order_histories_create(
    *, owner=None, team=None, regulars: int = 30, lapsed: int = 30, never: int = 20
) -> OrderHistories:
    """Regular buyers (an order every 45 days, from 720 days ago to now), lapsed ones (the same
    until 400 days ago, then nothing), leads who never ordered, and one erased regular buyer; all
    created 900 days ago, owned by `owner` in `team`."""
    now = timezone.now()

    def people(count: int, **fields) -> list:
        return CustomerFactory.create_batch(count, owner=owner, team=team, **fields)

    groups = {
        "regulars": people(regulars, status=Customer.Status.CUSTOMER, tier=Customer.Tier.VIP),
        "lapsed": people(lapsed, status=Customer.Status.CUSTOMER),
        "never": people(never),
        "erased": people(1, erased_at=now),
    }
    orders = []
    for customer in [*groups["regulars"], *groups["erased"]]:
        orders += [
            OrderFactory.build(customer=customer, ordered_at=now - timedelta(days=age))
            for age in range(720, 0, -45)
        ]
    for customer in groups["lapsed"]:
        orders += [
            OrderFactory.build(customer=customer, ordered_at=now - timedelta(days=age))
            for age in range(720, 399, -45)
        ]
    Order.objects.bulk_create(orders)
    everyone = [customer for group in groups.values() for customer in group]
    Customer.objects.filter(pk__in=[customer.pk for customer in everyone]).update(
        created_at=now - timedelta(days=900)
    )
    return OrderHistories(
        regulars=groups["regulars"],
        lapsed=groups["lapsed"],
        never=groups["never"],
        erased=groups["erased"][0],
        now=now,
    )


def rated_tickets_create(*, count: int = 60, owner=None, team=None) -> list:
    """`count` rated tickets over the last 120 days, alternating a satisfied customer (a low
    priority thank-you, rated 5) and an unhappy one (urgent, reopened twice, rated 1)."""
    now = timezone.now()
    tickets = []
    for index in range(count):
        happy = index % 2 == 0
        ticket = TicketFactory(
            assignee=owner,
            team=team,
            subject="Thank you, sorted quickly" if happy else "Still broken, I want a refund",
            description="All good now." if happy else "Third time it fails. Refund please.",
            priority=Priority.LOW if happy else Priority.URGENT,
            reopened_count=0 if happy else 2,
            status=Ticket.Status.CLOSED,
            satisfaction_rating=5 if happy else 1,
            customer__owner=owner,
            customer__team=team,
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=now - timedelta(days=120 - index * 100 / count)
        )
        tickets.append(ticket)
    return tickets


class SocialGraphWorld:
    """A hand-built social graph: two cliques of three customers joined by one weak referral.

    rep owns A, B, C (A and B work at Acme); other_team_rep owns D and E (hidden from rep);
    rep_teammate owns F (visible to rep); G has no ties at all. Ties (strength): A-B colleague 5,
    B-C colleague 5, A-C family 5, D-E 5, E-F 5, D-F 5, C referred by D 1; rep handled two
    interactions with C.
    """

    def __init__(self, *, rep, rep_teammate, other_team_rep):
        from customers.models import Relationship
        from tests.customers.factories import (
            CompanyFactory,
            CustomerFactory,
            InteractionFactory,
            RelationshipFactory,
        )

        self.acme = CompanyFactory(name="Acme", owner=rep)
        self.a = CustomerFactory(name="Ada", owner=rep, company=self.acme, city="Hangzhou")
        self.b = CustomerFactory(name="Bo", owner=rep, company=self.acme, city="Hangzhou")
        self.c = CustomerFactory(name="Cy", owner=rep, city="Hangzhou")
        self.d = CustomerFactory(name="Dagny Hidden", owner=other_team_rep, city="Xi'an")
        self.e = CustomerFactory(name="Emil Hidden", owner=other_team_rep, city="Xi'an")
        self.f = CustomerFactory(name="Fei", owner=rep_teammate, city="Xi'an")
        self.g = CustomerFactory(name="Gus", owner=None)
        colleague, family = Relationship.Kind.COLLEAGUE, Relationship.Kind.FAMILY
        for source, target, kind in [
            (self.a, self.b, colleague),
            (self.b, self.c, colleague),
            (self.a, self.c, family),
            (self.d, self.e, colleague),
            (self.e, self.f, colleague),
            (self.d, self.f, family),
        ]:
            RelationshipFactory(from_customer=source, to_customer=target, kind=kind, strength=5)
        RelationshipFactory(
            from_customer=self.c,
            to_customer=self.d,
            kind=Relationship.Kind.REFERRED_BY,
            strength=1,
        )
        InteractionFactory.create_batch(2, customer=self.c, handled_by=rep)
        self.rep, self.rep_teammate, self.other_team_rep = rep, rep_teammate, other_team_rep

    def node(self, record) -> str:
        from customers.models import Company

        return f"{'o' if isinstance(record, Company) else 'c'}{record.pk}"
