"""Privacy requests about one customer: a JSON export of everything held about them, and erasure.

Both are admin work (customers.privacy_export_customer, customers.privacy_erase_customer) and
both leave a PrivacyRequest behind as the audit entry.

Erasure anonymises the person and keeps what the business must still count:
- cleared: name (replaced by "Erased customer #<id>"), gender, birthday, email, phone, street,
  postcode, annual income, job title, notes, identity number, private notes, external id,
  custom attributes, tags, marketing consent; interactions' subjects and summaries, needs'
  texts, orders' notes, the snapshots of customers merged into this one; every relationship to
  or from another customer; and whatever the registered erasers remove in other apps. The same
  is cleared from every earlier version of those records the audit trail keeps, which still
  says who changed what and when.
- kept: the record and its id (so orders, deals and tickets still add up), orders with their
  lines, amounts and dates, order count, total spend and last contact (revenue and activity
  reports), city, province and country (regional reports; too coarse to identify a person),
  company (an account, not a person), lifecycle status, tier, source, owner and team (funnel
  figures, and who may still see the record), and the channel, direction, time and outcome of
  each interaction (activity figures).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from customers import registry
from customers.locks import customers_lock
from customers.models import (
    Customer,
    CustomerMerge,
    Interaction,
    Need,
    Order,
    PrivacyRequest,
    Relationship,
)
from customers.services.customers import customer_update

EXPORT_PERMISSION = "customers.privacy_export_customer"
ERASE_PERMISSION = "customers.privacy_erase_customer"

_CORE_SECTIONS = {
    "exported_at",
    "customer",
    "company",
    "tags",
    "orders",
    "interactions",
    "needs",
    "relationships",
    "merges",
    "privacy_requests",
}
_COMPANY_FIELDS = [
    "id",
    "name",
    "industry",
    "size",
    "website",
    "street",
    "city",
    "province",
    "postcode",
    "country",
]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fields_as_json(record: Model, names: list[str]) -> dict[str, Any]:
    return {name: _json_value(getattr(record, name)) for name in names}


def customer_profile_as_json(*, customer: Customer) -> dict[str, Any]:
    """Every column of the customer as JSON values (foreign keys as ids)."""
    profile = {
        field.attname: _json_value(getattr(customer, field.attname))
        for field in Customer._meta.concrete_fields
    }
    profile["age"] = customer.age
    return profile


def _check_allowed(*, actor: User, customer: Customer, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(_("You may not carry out privacy requests."))
    if not record_is_visible_to(user=actor, record=customer):
        raise Customer.DoesNotExist(_("No such customer."))


def _privacy_request_record(
    *, actor: User, customer: Customer, kind: str, reason: str = ""
) -> PrivacyRequest:
    privacy_request = PrivacyRequest.objects.create(
        customer=customer,
        customer_reference=f"#{customer.pk}",
        kind=kind,
        requested_by=actor,
        reason=reason,
    )
    audit_event_record(
        kind=AuditEvent.Kind.PRIVACY_REQUEST,
        actor=actor,
        target=customer,
        details={"request": kind, "privacy_request": privacy_request.pk},
    )
    return privacy_request


# The customer's fields an erasure clears, cleared from their history as well.
ERASED_CUSTOMER_FIELDS = (
    "name",
    "gender",
    "birthday",
    "email",
    "phone",
    "street",
    "postcode",
    "annual_income",
    "income_currency",
    "job_title",
    "notes",
    "identity_number",
    "private_notes",
    "external_id",
    "custom_attributes",
    "marketing_consent",
)


def _erased_history_scrub(customer: Customer) -> None:
    """Clear the erased personal data from the earlier versions of the customer and of their
    interactions, needs, orders and relationships; who changed them and when stays."""
    erased = Customer.objects.get(pk=customer.pk)
    Customer.history.filter(id=customer.pk).update(
        **{name: getattr(erased, name) for name in ERASED_CUSTOMER_FIELDS}
    )
    Interaction.history.filter(customer_id=customer.pk).update(subject="", summary="")
    Need.history.filter(customer_id=customer.pk).update(text="")
    Order.history.filter(customer_id=customer.pk).update(notes="")
    Relationship.history.filter(
        Q(from_customer_id=customer.pk) | Q(to_customer_id=customer.pk)
    ).update(notes="")


def _orders_as_json(customer: Customer) -> list[dict[str, Any]]:
    orders = Order.objects.filter(customer=customer).prefetch_related("lines__product")
    return [
        {
            **_fields_as_json(
                order, ["id", "number", "ordered_at", "status", "total_amount", "currency"]
            ),
            "notes": order.notes,
            "lines": [
                {
                    "product_sku": line.product.sku,
                    "product_name": line.product.name,
                    "quantity": line.quantity,
                    "unit_price": _json_value(line.unit_price),
                }
                for line in order.lines.all()
            ],
        }
        for order in orders
    ]


def _interactions_as_json(customer: Customer) -> list[dict[str, Any]]:
    interactions = Interaction.objects.filter(customer=customer).select_related(
        "handled_by", "related_type"
    )
    return [
        {
            **_fields_as_json(
                interaction,
                [
                    "id",
                    "channel",
                    "direction",
                    "subject",
                    "summary",
                    "duration_seconds",
                    "outcome",
                    "occurred_at",
                ],
            ),
            "handled_by": str(interaction.handled_by) if interaction.handled_by else None,
            "related_record": (
                f"{interaction.related_type.app_label}.{interaction.related_type.model}"
                f" #{interaction.related_id}"
                if interaction.related_type
                else None
            ),
        }
        for interaction in interactions
    ]


def _relationships_as_json(customer: Customer) -> list[dict[str, Any]]:
    # The other customer appears by id only: their name is their own personal data.
    relationships = Relationship.objects.filter(
        Q(from_customer=customer) | Q(to_customer=customer)
    ).order_by("created_at", "id")
    return [
        {
            "direction": "outgoing" if relationship.from_customer_id == customer.pk else "incoming",
            "other_customer_id": (
                relationship.to_customer_id
                if relationship.from_customer_id == customer.pk
                else relationship.from_customer_id
            ),
            **_fields_as_json(relationship, ["kind", "strength", "notes", "created_at"]),
        }
        for relationship in relationships
    ]


def customer_personal_data_export(*, actor: User, customer: Customer) -> dict[str, Any]:
    """Everything held about `customer`, as JSON-ready data, recorded as a privacy request.

    Each app registered with customers.registry.register_privacy_exporter adds its own section
    under its key.
    """
    _check_allowed(actor=actor, customer=customer, permission=EXPORT_PERMISSION)
    exporters = registry.privacy_exporters()
    clashing = _CORE_SECTIONS & set(exporters)
    if clashing:
        raise ImproperlyConfigured(
            f"Privacy exporters may not use the core section names {sorted(clashing)}."
        )
    with transaction.atomic():
        _privacy_request_record(actor=actor, customer=customer, kind=PrivacyRequest.Kind.EXPORT)
        company = customer.company
        data: dict[str, Any] = {
            "exported_at": _json_value(timezone.now()),
            "customer": customer_profile_as_json(customer=customer),
            "company": _fields_as_json(company, _COMPANY_FIELDS) if company else None,
            "tags": list(customer.tags.order_by("name").values_list("name", flat=True)),
            "orders": _orders_as_json(customer),
            "interactions": _interactions_as_json(customer),
            "needs": [
                _fields_as_json(
                    need, ["id", "text", "category", "priority", "status", "created_at"]
                )
                for need in Need.objects.filter(customer=customer)
            ],
            "relationships": _relationships_as_json(customer),
            "merges": [
                _fields_as_json(merge, ["merged_customer_id", "merged_snapshot", "created_at"])
                for merge in CustomerMerge.objects.filter(kept=customer)
            ],
            "privacy_requests": [
                _fields_as_json(request, ["kind", "reason", "created_at"])
                for request in PrivacyRequest.objects.filter(customer=customer)
            ],
        }
        for key, exporter in exporters.items():
            data[key] = exporter(customer)
    return data


def customer_erase(*, actor: User, customer: Customer, reason: str) -> PrivacyRequest:
    """Anonymise `customer` for good (see the module's docstring for what stays), once.

    Every app registered with customers.registry.register_eraser erases its own part in the
    same transaction, so a failure anywhere leaves the customer as it was.
    """
    _check_allowed(actor=actor, customer=customer, permission=ERASE_PERMISSION)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this customer is erased.")})
    with transaction.atomic():
        customer = customers_lock(customer_ids=[customer.pk])[customer.pk]
        if customer.erased_at is not None:
            raise ValidationError(_("This customer has already been erased."))
        customer_update(
            actor=actor,
            customer=customer,
            name=_("Erased customer #%(id)s") % {"id": customer.pk},
            gender=Customer.Gender.UNKNOWN,
            birthday=None,
            email="",
            phone="",
            street="",
            postcode="",
            annual_income=None,
            income_currency="",
            job_title="",
            notes="",
            identity_number="",
            private_notes="",
            external_id="",
            custom_attributes={},
            marketing_consent=False,
            tags=[],
        )
        customer.erased_at = timezone.now()
        customer.save(update_fields=["erased_at", "updated_at"])
        Interaction.objects.filter(customer=customer).update(subject="", summary="")
        Need.objects.filter(customer=customer).update(text="")
        Order.objects.filter(customer=customer).update(notes="")
        Relationship.objects.filter(Q(from_customer=customer) | Q(to_customer=customer)).delete()
        CustomerMerge.objects.filter(kept=customer).update(merged_snapshot={})
        for eraser in registry.erasers().values():
            eraser(customer)
        _erased_history_scrub(customer)
        return _privacy_request_record(
            actor=actor, customer=customer, kind=PrivacyRequest.Kind.ERASURE, reason=reason
        )
