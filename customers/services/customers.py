"""Creating and editing customers and companies: the one path the forms, the API and the import
all use, so a value is cleaned and validated the same way wherever it comes from."""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_editable_by, user_default_team_id
from crm.webhooks.events import event_publish
from customers.cleaning import CleaningError, fold_whitespace, normalise_email, normalise_phone
from customers.models import Company, Customer, Interaction, Order, Segment, Tag

MAX_AGE_YEARS = 120

CUSTOMER_EDITABLE_FIELDS = (
    "name",
    "gender",
    "birthday",
    "email",
    "phone",
    "street",
    "city",
    "province",
    "postcode",
    "country",
    "annual_income",
    "income_currency",
    "company",
    "job_title",
    "source",
    "status",
    "tier",
    "owner",
    "team",
    "language",
    "marketing_consent",
    "notes",
    "external_id",
    "custom_attributes",
)
# Encrypted at rest (crm.encryption); editable on the form and the API, but neither imported,
# upserted nor merged, and never searched or filtered.
CUSTOMER_SENSITIVE_FIELDS = ("identity_number", "private_notes")
COMPANY_EDITABLE_FIELDS = (
    "name",
    "industry",
    "size",
    "website",
    "street",
    "city",
    "province",
    "postcode",
    "country",
    "owner",
    "team",
)
_TEXT_FIELDS = {
    "name",
    "street",
    "city",
    "province",
    "postcode",
    "job_title",
    "external_id",
    "industry",
}


def validate_birthday(value: date | None) -> None:
    if value is None:
        return
    today = timezone.localdate()
    if value > today:
        raise CleaningError(_("A birthday cannot be in the future."))
    if today.year - value.year > MAX_AGE_YEARS:
        raise CleaningError(
            _("A birthday more than %(years)s years ago is not plausible.")
            % {"years": MAX_AGE_YEARS}
        )


def _clean_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = (
        set(values) - set(CUSTOMER_EDITABLE_FIELDS) - set(CUSTOMER_SENSITIVE_FIELDS) - {"tags"}
    )
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    cleaned = dict(values)
    errors: dict[str, str] = {}
    for name in _TEXT_FIELDS & set(cleaned):
        cleaned[name] = fold_whitespace(cleaned[name])
    for name, clean in (("email", normalise_email), ("phone", normalise_phone)):
        if name in cleaned:
            try:
                cleaned[name] = clean(cleaned[name])
            except CleaningError as exc:
                errors[name] = str(exc)
    if "birthday" in cleaned:
        try:
            validate_birthday(cleaned["birthday"])
        except CleaningError as exc:
            errors["birthday"] = str(exc)
    if "country" in cleaned:
        cleaned["country"] = fold_whitespace(cleaned["country"]).upper()
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply_consent(customer: Customer, changed: set[str]) -> None:
    if "marketing_consent" not in changed:
        return
    if customer.marketing_consent and customer.marketing_consent_at is None:
        customer.marketing_consent_at = timezone.now()
        changed.add("marketing_consent_at")
    elif not customer.marketing_consent and customer.marketing_consent_at is not None:
        customer.marketing_consent_at = None
        changed.add("marketing_consent_at")


def require_editable(*, actor: User | None, record: Customer | Company | Segment) -> None:
    """Refuse a change by someone who may only read the record: through a read-only share, or
    the service desk's "see all customers" (no actor: the system itself, which may)."""
    if actor is not None and not record_is_editable_by(user=actor, record=record):
        raise PermissionDenied(_("You may view this record but not change it."))


def customer_create(*, actor: User | None, **values) -> Customer:
    """Create a customer owned by `actor` (and their first team) unless told otherwise, and
    announce it (customer.created) once committed."""
    cleaned = _clean_customer_values(values)
    tags = cleaned.pop("tags", None)
    customer = Customer(**cleaned)
    if "owner" not in cleaned:
        customer.owner = actor
    if "team" not in cleaned:
        customer.team_id = user_default_team_id(customer.owner)
    _apply_consent(customer, {"marketing_consent"})
    customer.full_clean()
    with transaction.atomic():
        customer.save()
        if tags is not None:
            customer.tags.set(tag_list_get_or_create(names=tags))
        event_publish(event="customer.created", record=customer)
    return customer


def customer_update(*, actor: User | None, customer: Customer, **values) -> Customer:
    """Change the customer's fields given in `values`; when something actually changed, announce
    it (customer.updated, naming the changed fields) once committed."""
    require_editable(actor=actor, record=customer)
    cleaned = _clean_customer_values(values)
    tags = cleaned.pop("tags", None)
    changed = {name for name, value in cleaned.items() if getattr(customer, name) != value}
    for name in changed:
        setattr(customer, name, cleaned[name])
    _apply_consent(customer, changed)
    customer.full_clean()
    with transaction.atomic():
        if changed:
            customer.save(update_fields=[*sorted(changed), "updated_at"])
        if tags is not None and tags_replace(record=customer, names=tags):
            changed.add("tags")
        if changed:
            event_publish(
                event="customer.updated",
                record=customer,
                extra={"changed_fields": sorted(changed)},
            )
    return customer


def tags_replace(*, record, names) -> bool:
    """Give a tagged record (a customer, a ticket) exactly the tags named; True when that
    changed them."""
    tags = tag_list_get_or_create(names=names)
    before = set(record.tags.values_list("pk", flat=True))
    record.tags.set(tags)
    return before != {tag.pk for tag in tags}


def tag_list_get_or_create(*, names) -> list[Tag]:
    clean_names = {fold_whitespace(name).lower() for name in names if fold_whitespace(name)}
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=clean_names)}
    for name in sorted(clean_names - set(existing)):
        existing[name] = Tag.objects.create(name=name)
    return list(existing.values())


def company_create(*, actor: User | None, **values) -> Company:
    unknown = set(values) - set(COMPANY_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    company = Company(**values)
    company.name = fold_whitespace(company.name)
    if "owner" not in values:
        company.owner = actor
    if "team" not in values:
        company.team_id = user_default_team_id(company.owner)
    company.full_clean()
    company.save()
    return company


def company_update(*, actor: User | None, company: Company, **values) -> Company:
    require_editable(actor=actor, record=company)
    unknown = set(values) - set(COMPANY_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    changed = {name for name, value in values.items() if getattr(company, name) != value}
    for name in changed:
        setattr(company, name, values[name])
    company.name = fold_whitespace(company.name)
    company.full_clean()
    if changed:
        company.save(update_fields=[*sorted(changed), "updated_at"])
    return company


def customer_aggregates_refresh(*, customer_ids) -> None:
    """Recompute order count, total spend and last contact of these customers, in SQL.

    Orders that were cancelled or refunded do not count as spend.
    """
    counted = Order.objects.filter(customer=OuterRef("pk")).exclude(
        status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED]
    )
    order_count = counted.order_by().values("customer").annotate(total=Count("pk")).values("total")
    spend = (
        counted.order_by().values("customer").annotate(total=Sum("total_amount")).values("total")
    )
    last_contact = (
        Interaction.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    Customer.objects.filter(pk__in=customer_ids).update(
        order_count=Coalesce(Subquery(order_count), Value(0)),
        total_spend=Coalesce(Subquery(spend, output_field=money), Value(0), output_field=money),
        last_contact_at=Subquery(last_contact),
        updated_at=timezone.now(),
    )


def customer_delete(*, actor: User | None, customer: Customer) -> None:
    """Delete a customer with their orders, interactions, needs and relationships.

    Deleting is for records created by mistake; a customer who asks to be forgotten is erased
    (customers.services.privacy), which keeps the aggregates reports rely on.
    """
    require_editable(actor=actor, record=customer)
    customer.delete()


def company_delete(*, actor: User | None, company: Company) -> None:
    """Delete a company; its customers stay, without a company."""
    require_editable(actor=actor, record=company)
    company.delete()
