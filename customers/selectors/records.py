"""Reads of a customer's records (products, orders, needs, interactions, relationships) and
their entries on the customer 360 timeline, always through the visibility rule."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to, user_is_admin
from crm.formatting import format_money
from customers.models import Company, Customer, Interaction, Need, Order, Product, Relationship
from customers.registry import TimelineEntry, record_url
from customers.selectors.customers import company_list_visible
from customers.selectors.timeline import Cursor

OPEN_NEED_STATUSES = (Need.Status.OPEN, Need.Status.IN_PROGRESS)


# Companies offered by the customer form -----------------------------------------------------------


def company_choices(*, user: User, keep_id: int | None = None) -> QuerySet[Company]:
    """Companies the user may pick for a customer: those they see, plus the customer's current
    one (`keep_id`), which stays valid even when it belongs to someone out of their reach."""
    visible = company_list_visible(user=user)
    if keep_id is None:
        return visible
    return Company.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk=keep_id)).order_by(
        "name", "id"
    )


# Products: one catalogue shared by everyone, so no visibility rule applies ----------------------


def product_list(
    *, search: str = "", category: str = "", active: bool | None = None
) -> QuerySet[Product]:
    products = Product.objects.all()
    if search:
        products = products.filter(
            Q(name__icontains=search) | Q(sku__icontains=search) | Q(category__icontains=search)
        )
    if category:
        products = products.filter(category=category)
    if active is not None:
        products = products.filter(is_active=active)
    return products.order_by("name", "id")


def product_list_active() -> QuerySet[Product]:
    return product_list(active=True)


def product_get(*, pk: int) -> Product:
    return Product.objects.get(pk=pk)


# Orders ------------------------------------------------------------------------------------------


def order_list_visible(*, user: User) -> QuerySet[Order]:
    orders = records_visible_to(user=user, queryset=Order.objects.all())
    return orders.select_related("customer").order_by("-ordered_at", "-id")


def order_get_visible(*, user: User, pk: int) -> Order:
    return order_list_visible(user=user).prefetch_related("lines__product").get(pk=pk)


def customer_orders_recent(*, user: User, customer: Customer, limit: int = 5) -> list[Order]:
    orders = records_visible_to(user=user, queryset=Order.objects.filter(customer=customer))
    orders = orders.annotate(line_count=Count("lines")).order_by("-ordered_at", "-id")
    return list(orders[:limit])


# Needs -------------------------------------------------------------------------------------------


def need_list_visible(*, user: User) -> QuerySet[Need]:
    needs = records_visible_to(user=user, queryset=Need.objects.all())
    return needs.select_related("customer", "created_by").order_by("-created_at", "-id")


def need_get_visible(*, user: User, pk: int) -> Need:
    return need_list_visible(user=user).get(pk=pk)


def customer_needs_open(*, user: User, customer: Customer, limit: int = 20) -> list[Need]:
    needs = records_visible_to(
        user=user,
        queryset=Need.objects.filter(customer=customer, status__in=OPEN_NEED_STATUSES),
    )
    return list(needs.order_by("-created_at", "-id")[:limit])


# Interactions ------------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def interaction_list_visible(
    *,
    user: User,
    channel: str = "",
    direction: str = "",
    occurred_from: date | None = None,
    occurred_to: date | None = None,
) -> QuerySet[Interaction]:
    """Interactions the user may see, newest first; the dates are whole days in the user's time
    zone, both included."""
    interactions = records_visible_to(user=user, queryset=Interaction.objects.all())
    if channel:
        interactions = interactions.filter(channel=channel)
    if direction:
        interactions = interactions.filter(direction=direction)
    if occurred_from:
        interactions = interactions.filter(occurred_at__gte=_start_of(occurred_from))
    if occurred_to:
        interactions = interactions.filter(
            occurred_at__lt=_start_of(occurred_to + timedelta(days=1))
        )
    return interactions.select_related("customer", "handled_by").order_by("-occurred_at", "-id")


def interaction_position(interaction: Interaction) -> Cursor:
    return Cursor(at=interaction.occurred_at, key=str(interaction.pk))


def interaction_page(
    *, interactions: QuerySet[Interaction], before: Cursor | None, limit: int
) -> tuple[list[Interaction], Cursor | None]:
    """One page of `interactions` (ordered newest first) older than `before`, and the cursor of
    the next page; walks the (occurred_at, id) index instead of counting a large table."""
    if before is not None:
        before_id = int(before.key)
        # The leading range on occurred_at lets the database walk its index from the cursor.
        interactions = interactions.filter(occurred_at__lte=before.at).filter(
            Q(occurred_at__lt=before.at) | Q(pk__lt=before_id)
        )
    rows = list(interactions[: limit + 1])
    page = rows[:limit]
    next_cursor = interaction_position(page[-1]) if len(rows) > limit else None
    return page, next_cursor


# Relationships -----------------------------------------------------------------------------------


def relationship_list_visible(*, user: User) -> QuerySet[Relationship]:
    """Relationships whose two customers the user may both see."""
    relationships = records_visible_to(user=user, queryset=Relationship.objects.all())
    if not user_is_admin(user):
        visible_customers = records_visible_to(user=user, queryset=Customer.objects.all())
        relationships = relationships.filter(to_customer__in=visible_customers.values("pk"))
    return relationships.select_related("from_customer", "to_customer").order_by(
        "-created_at", "-id"
    )


def relationship_get_visible(*, user: User, pk: int) -> Relationship:
    return relationship_list_visible(user=user).get(pk=pk)


def customer_relationships_visible(*, user: User, customer: Customer) -> QuerySet[Relationship]:
    """The customer's relationships in both directions, with visible customers at both ends."""
    return relationship_list_visible(user=user).filter(
        Q(from_customer=customer) | Q(to_customer=customer)
    )


@dataclass(frozen=True)
class RelatedCustomer:
    relationship: Relationship
    label: str
    other: Customer


def relationship_label(*, relationship: Relationship, customer: Customer) -> tuple[str, Customer]:
    """How the relationship reads from `customer`'s side, and the customer at the other end."""
    if relationship.from_customer_id == customer.pk:
        return relationship.get_kind_display(), relationship.to_customer
    if relationship.kind == Relationship.Kind.REFERRED_BY:
        return _("Referred"), relationship.from_customer
    return relationship.get_kind_display(), relationship.from_customer


def customer_related_customers(
    *, user: User, customer: Customer, limit: int = 20
) -> list[RelatedCustomer]:
    relationships = customer_relationships_visible(user=user, customer=customer)[:limit]
    related = []
    for relationship in relationships:
        label, other = relationship_label(relationship=relationship, customer=customer)
        related.append(RelatedCustomer(relationship=relationship, label=label, other=other))
    return related


# Timeline sources (registered in CustomersConfig.ready()) ---------------------------------------


def _sort_key(pk: int) -> str:
    return f"{pk:012d}"


def _duration_label(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": rest}
    if minutes:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(seconds)d s") % {"seconds": rest}


def interaction_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    interactions = records_visible_to(
        user=user, queryset=Interaction.objects.filter(customer=customer)
    )
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
    interactions = interactions.select_related("handled_by", "related_type").order_by(
        "-occurred_at", "-id"
    )
    entries = []
    for interaction in interactions[:limit]:
        url = ""
        if interaction.related_type is not None and interaction.related_id is not None:
            related = interaction.related_type
            url = record_url(
                model_label=f"{related.app_label}.{related.model}", pk=interaction.related_id
            )
        badges = [interaction.get_channel_display(), interaction.get_direction_display()]
        if interaction.outcome:
            badges.append(interaction.get_outcome_display())
        if interaction.duration_seconds:
            badges.append(_duration_label(interaction.duration_seconds))
        entries.append(
            TimelineEntry(
                at=interaction.occurred_at,
                kind="interaction",
                title=interaction.subject or interaction.get_channel_display(),
                body=interaction.summary,
                url=url,
                actor=str(interaction.handled_by) if interaction.handled_by else "",
                badges=tuple(badges),
                sort_key=_sort_key(interaction.pk),
            )
        )
    return entries


def order_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    orders = records_visible_to(user=user, queryset=Order.objects.filter(customer=customer))
    if before is not None:
        orders = orders.filter(ordered_at__lt=before)
    return [
        TimelineEntry(
            at=order.ordered_at,
            kind="order",
            title=_("Order %(number)s") % {"number": order.number},
            body=format_money(order.total_amount, order.currency),
            url=reverse("customers:order_detail", args=[order.pk]),
            badges=(order.get_status_display(),),
            sort_key=_sort_key(order.pk),
        )
        for order in orders.order_by("-ordered_at", "-id")[:limit]
    ]


def need_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    needs = records_visible_to(user=user, queryset=Need.objects.filter(customer=customer))
    if before is not None:
        needs = needs.filter(created_at__lt=before)
    needs = needs.select_related("created_by").order_by("-created_at", "-id")
    return [
        TimelineEntry(
            at=need.created_at,
            kind="need",
            title=_("Need: %(category)s") % {"category": need.category}
            if need.category
            else _("Need"),
            body=need.text,
            url=reverse("customers:need_edit", args=[need.pk]),
            actor=str(need.created_by) if need.created_by else "",
            badges=(need.get_status_display(), need.get_priority_display()),
            sort_key=_sort_key(need.pk),
        )
        for need in needs[:limit]
    ]


def relationship_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    relationships = customer_relationships_visible(user=user, customer=customer)
    if before is not None:
        relationships = relationships.filter(created_at__lt=before)
    entries = []
    for relationship in relationships[:limit]:
        label, other = relationship_label(relationship=relationship, customer=customer)
        entries.append(
            TimelineEntry(
                at=relationship.created_at,
                kind="relationship",
                title=f"{label}: {other.name}",
                body=relationship.notes,
                url=reverse("customers:customer_detail", args=[other.pk]),
                badges=(_("Strength %(strength)d") % {"strength": relationship.strength},),
                sort_key=_sort_key(relationship.pk),
            )
        )
    return entries
