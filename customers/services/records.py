"""Writes of a customer's records: the product catalogue, orders with their lines, interactions,
needs and relationships.

The browser forms and the API both call these, so a record is validated the same way wherever it
comes from. Every write that changes what a customer has bought or when they were last contacted
refreshes the customer's denormalised figures (order count, total spend, last contact) in the
same transaction, with the customer's row locked first so two writes for one customer cannot
each miss the other's row.
"""

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to, records_visible_to
from customers.cleaning import fold_whitespace
from customers.locks import customers_lock
from customers.models import Customer, Interaction, Need, Order, OrderLine, Product, Relationship
from customers.services.customers import customer_aggregates_refresh, require_editable

PRODUCT_EDITABLE_FIELDS = ("sku", "name", "category", "unit_price", "currency", "is_active")
NEED_EDITABLE_FIELDS = ("text", "category", "priority", "status")

# Clocks drift between the browser, phones and the server; a record a few minutes "ahead" is a
# clock, not a contact that has not happened yet.
FUTURE_TOLERANCE = timedelta(minutes=5)

# Which status an order may move to from each status. Cancelled and refunded orders are final.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    Order.Status.PENDING: frozenset({Order.Status.PAID, Order.Status.CANCELLED}),
    Order.Status.PAID: frozenset(
        {
            Order.Status.SHIPPED,
            Order.Status.COMPLETED,
            Order.Status.CANCELLED,
            Order.Status.REFUNDED,
        }
    ),
    Order.Status.SHIPPED: frozenset({Order.Status.COMPLETED, Order.Status.REFUNDED}),
    Order.Status.COMPLETED: frozenset({Order.Status.REFUNDED}),
    Order.Status.CANCELLED: frozenset(),
    Order.Status.REFUNDED: frozenset(),
}

# A colleague of B is B's colleague: these kinds read the same both ways, so one edge is enough.
SYMMETRIC_KINDS = frozenset(
    {Relationship.Kind.COLLEAGUE, Relationship.Kind.FAMILY, Relationship.Kind.PARTNER}
)


def _require_visible(*, actor: User | None, customer: Customer, field: str = "customer") -> None:
    """Refuse a write about a customer the actor cannot see (no actor: the system itself)."""
    if actor is not None and not record_is_visible_to(user=actor, record=customer):
        raise ValidationError({field: _("No such customer.")})


def _refuse_future(value: datetime, *, field: str, message: str) -> None:
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({field: message})


def _check_choice(value: str, choices, *, field: str) -> None:
    if value not in choices.values:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


# Products ----------------------------------------------------------------------------------------


def _clean_product_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(PRODUCT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    cleaned = dict(values)
    for name in ("sku", "name", "category"):
        if name in cleaned:
            cleaned[name] = fold_whitespace(cleaned[name] or "")
    if "currency" in cleaned:
        cleaned["currency"] = fold_whitespace(cleaned["currency"] or "").upper()
    if cleaned.get("unit_price") is not None and Decimal(cleaned["unit_price"]) < 0:
        raise ValidationError({"unit_price": _("A price cannot be negative.")})
    return cleaned


def product_create(*, actor: User | None, **values) -> Product:
    """Add a product to the catalogue; its currency defaults to the configured one."""
    cleaned = _clean_product_values(values)
    cleaned["currency"] = cleaned.get("currency") or settings.CRM_DEFAULT_CURRENCY
    product = Product(**cleaned)
    product.full_clean()
    product.save()
    return product


def product_update(*, actor: User | None, product: Product, **values) -> Product:
    """Edit a product; a currency left empty is the configured one. Orders keep their prices."""
    cleaned = _clean_product_values(values)
    if "currency" in cleaned:
        cleaned["currency"] = cleaned["currency"] or settings.CRM_DEFAULT_CURRENCY
    changed = {name for name, value in cleaned.items() if getattr(product, name) != value}
    for name in changed:
        setattr(product, name, cleaned[name])
    product.full_clean()
    if changed:
        product.save(update_fields=[*sorted(changed), "updated_at"])
    return product


# Orders ------------------------------------------------------------------------------------------


def _order_number_generate(ordered_at: datetime) -> str:
    # Random rather than sequential: no counter row to lock, and 16^8 numbers a day make a clash
    # vanishingly rare; the unique constraint still guards, and a clash is retried below.
    while True:
        number = f"SO-{ordered_at:%Y%m%d}-{secrets.token_hex(4).upper()}"
        if not Order.objects.filter(number=number).exists():
            return number


def _order_lines_build(
    lines: Iterable[Mapping[str, Any]], *, currency: str
) -> tuple[list[OrderLine], str]:
    built: list[OrderLine] = []
    errors: list[str] = []
    for position, line in enumerate(lines, start=1):
        product = line.get("product")
        quantity = line.get("quantity")
        unit_price = line.get("unit_price")
        if not isinstance(product, Product):
            errors.append(_("Line %(line)s: choose a product.") % {"line": position})
            continue
        if not product.is_active:
            errors.append(
                _("Line %(line)s: %(product)s is no longer sold.")
                % {"line": position, "product": product}
            )
        if not isinstance(quantity, int) or quantity < 1:
            errors.append(
                _("Line %(line)s: the quantity must be a whole number of at least 1.")
                % {"line": position}
            )
        if unit_price is None:
            unit_price = product.unit_price
        elif Decimal(unit_price) < 0:
            errors.append(
                _("Line %(line)s: the unit price cannot be negative.") % {"line": position}
            )
        currency = currency or product.currency
        if product.currency != currency:
            errors.append(
                _(
                    "Line %(line)s: %(product)s is priced in %(product_currency)s, the order is in "
                    "%(currency)s."
                )
                % {
                    "line": position,
                    "product": product,
                    "product_currency": product.currency,
                    "currency": currency,
                }
            )
        built.append(OrderLine(product=product, quantity=quantity, unit_price=unit_price))
    if errors:
        raise ValidationError({"lines": errors})
    if not built:
        raise ValidationError({"lines": [_("An order needs at least one line.")]})
    return built, currency


def order_create(
    *,
    actor: User | None,
    customer: Customer,
    lines: Iterable[Mapping[str, Any]],
    number: str = "",
    ordered_at: datetime | None = None,
    status: str = Order.Status.PENDING,
    currency: str = "",
    notes: str = "",
) -> Order:
    """Record an order with its lines; the total is the sum of the lines.

    `lines` are mappings with `product`, `quantity` and optionally `unit_price` (the product's
    price when left out). The currency defaults to the products' currency, and every line must be
    priced in the order's currency. Without a number, one is generated (SO-YYYYMMDD-XXXXXXXX).
    """
    _require_visible(actor=actor, customer=customer)
    _check_choice(status, Order.Status, field="status")
    ordered_at = ordered_at or timezone.now()
    _refuse_future(ordered_at, field="ordered_at", message=_("An order cannot be in the future."))
    built, currency = _order_lines_build(lines, currency=fold_whitespace(currency).upper())
    number = fold_whitespace(number)
    order = Order(
        customer=customer,
        number=number or _order_number_generate(ordered_at),
        ordered_at=ordered_at,
        status=status,
        currency=currency,
        notes=notes.strip(),
        total_amount=sum((line.line_total for line in built), Decimal("0")),
    )
    order.full_clean()
    try:
        with transaction.atomic():
            customers_lock(customer_ids=[customer.pk])
            order.save()
            for line in built:
                line.order = order
            OrderLine.objects.bulk_create(built)
            customer_aggregates_refresh(customer_ids=[customer.pk])
    except IntegrityError as exc:
        # Another order took the same number between the check and the insert.
        raise ValidationError({"number": _("This order number is already in use.")}) from exc
    return order


def order_update_status(*, actor: User | None, order: Order, status: str) -> Order:
    """Move an order along its life cycle; cancelled and refunded orders stop counting as spend."""
    _require_visible(actor=actor, customer=order.customer)
    require_editable(actor=actor, record=order.customer)
    _check_choice(status, Order.Status, field="status")
    if status == order.status:
        return order
    if status not in ORDER_TRANSITIONS[order.status]:
        raise ValidationError(
            {
                "status": _("An order that is %(current)s cannot become %(new)s.")
                % {
                    "current": order.get_status_display().lower(),
                    "new": Order.Status(status).label.lower(),
                }
            }
        )
    with transaction.atomic():
        customers_lock(customer_ids=[order.customer_id])
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        customer_aggregates_refresh(customer_ids=[order.customer_id])
    return order


# Interactions ------------------------------------------------------------------------------------


def _follows_visibility_rule(model) -> bool:
    """Deals, tickets and the like: records with an owner and a team, or that name the record
    whose owner they follow; only those can be checked against the actor's view."""
    if getattr(model, "visibility_path", ""):
        return True
    names = {field.name for field in model._meta.get_fields()}
    return {getattr(model, "visibility_owner_field", "owner"), "team"} <= names


def _related_record_check(
    *, actor: User | None, related_type: ContentType | None, related_id: int | None
) -> None:
    if (related_type is None) != (related_id is None):
        raise ValidationError(
            {"related_id": _("Give both the type and the id of the related record, or neither.")}
        )
    if related_type is None:
        return
    model = related_type.model_class()
    if model is None or not _follows_visibility_rule(model):
        raise ValidationError(
            {"related_type": _("An interaction cannot belong to this kind of record.")}
        )
    records = model._default_manager.filter(pk=related_id)
    if actor is not None:
        records = records_visible_to(user=actor, queryset=records)
    if not records.exists():
        raise ValidationError({"related_id": _("No such record.")})


def interaction_log(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    direction: str,
    occurred_at: datetime | None = None,
    subject: str = "",
    summary: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    handled_by: User | None = None,
    related_type: ContentType | None = None,
    related_id: int | None = None,
) -> Interaction:
    """Record one contact with the customer; handled by the actor unless told otherwise.

    The customer's last contact moves to this interaction's time when it is the latest.
    """
    _require_visible(actor=actor, customer=customer)
    _check_choice(channel, Interaction.Channel, field="channel")
    _check_choice(direction, Interaction.Direction, field="direction")
    if outcome:
        _check_choice(outcome, Interaction.Outcome, field="outcome")
    occurred_at = occurred_at or timezone.now()
    _refuse_future(
        occurred_at,
        field="occurred_at",
        message=_("An interaction cannot be in the future; plan it as a task instead."),
    )
    _related_record_check(actor=actor, related_type=related_type, related_id=related_id)
    interaction = Interaction(
        customer=customer,
        channel=channel,
        direction=direction,
        occurred_at=occurred_at,
        subject=fold_whitespace(subject),
        summary=summary.strip(),
        duration_seconds=duration_seconds,
        outcome=outcome,
        handled_by=handled_by or actor,
        related_type=related_type,
        related_id=related_id,
    )
    interaction.full_clean()
    with transaction.atomic():
        customers_lock(customer_ids=[customer.pk])
        interaction.save()
        customer_aggregates_refresh(customer_ids=[customer.pk])
    return interaction


# Needs -------------------------------------------------------------------------------------------


def _clean_need_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(NEED_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    cleaned = dict(values)
    if "text" in cleaned:
        cleaned["text"] = (cleaned["text"] or "").strip()
    if "category" in cleaned:
        cleaned["category"] = fold_whitespace(cleaned["category"] or "")
    return cleaned


def need_create(*, actor: User | None, customer: Customer, **values) -> Need:
    """Record what the customer is asking for or looking for, recorded by the actor."""
    _require_visible(actor=actor, customer=customer)
    need = Need(customer=customer, created_by=actor, **_clean_need_values(values))
    need.full_clean()
    need.save()
    return need


def need_update(*, actor: User | None, need: Need, **values) -> Need:
    """Edit a need; closing one is setting its status to met or dropped."""
    _require_visible(actor=actor, customer=need.customer)
    require_editable(actor=actor, record=need.customer)
    cleaned = _clean_need_values(values)
    changed = {name for name, value in cleaned.items() if getattr(need, name) != value}
    for name in changed:
        setattr(need, name, cleaned[name])
    need.full_clean()
    if changed:
        need.save(update_fields=[*sorted(changed), "updated_at"])
    return need


# Relationships -----------------------------------------------------------------------------------


def relationship_create(
    *,
    actor: User | None,
    from_customer: Customer,
    to_customer: Customer,
    kind: str,
    strength: int = 3,
    notes: str = "",
) -> Relationship:
    """Link two customers. Both must be visible to the actor; a customer is not linked to
    themselves, and two customers are linked at most once per kind (once in either direction for
    the kinds that read the same both ways)."""
    _require_visible(actor=actor, customer=from_customer, field="from_customer")
    _require_visible(actor=actor, customer=to_customer, field="to_customer")
    _check_choice(kind, Relationship.Kind, field="kind")
    if not isinstance(strength, int) or not 1 <= strength <= 5:
        raise ValidationError({"strength": _("The strength runs from 1 (weak) to 5 (strong).")})
    if from_customer.pk == to_customer.pk:
        raise ValidationError({"to_customer": _("A customer cannot be related to themselves.")})
    existing = Relationship.objects.filter(
        from_customer=from_customer, to_customer=to_customer, kind=kind
    )
    if kind in SYMMETRIC_KINDS:
        existing = existing | Relationship.objects.filter(
            from_customer=to_customer, to_customer=from_customer, kind=kind
        )
    if existing.exists():
        raise ValidationError(
            {
                "to_customer": _("These customers are already linked as “%(kind)s”.")
                % {"kind": Relationship.Kind(kind).label}
            }
        )
    relationship = Relationship(
        from_customer=from_customer,
        to_customer=to_customer,
        kind=kind,
        strength=strength,
        notes=notes.strip(),
    )
    relationship.full_clean()
    try:
        with transaction.atomic():
            relationship.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"to_customer": _("These customers are already linked this way.")}
        ) from exc
    return relationship


def relationship_delete(*, actor: User | None, relationship: Relationship) -> None:
    _require_visible(actor=actor, customer=relationship.from_customer, field="from_customer")
    _require_visible(actor=actor, customer=relationship.to_customer, field="to_customer")
    relationship.delete()
