"""Merging a duplicate customer into the one kept."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from crm.accounts.models import RecordShare, User
from crm.accounts.selectors import record_is_visible_to
from crm.webhooks.events import event_publish
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
from customers.services.customers import (
    CUSTOMER_EDITABLE_FIELDS,
    CUSTOMER_SENSITIVE_FIELDS,
    customer_aggregates_refresh,
    customer_update,
    require_editable,
)
from customers.services.privacy import customer_profile_as_json
from customers.services.records import SYMMETRIC_KINDS

MERGE_PERMISSION = "customers.merge_customer"
KEPT = "kept"
MERGED = "merged"

# The profile fields a merge reconciles: a blank one on the kept customer takes the merged
# customer's value, and a caller may pick the merged customer's value for any of them
# (custom attributes are merged key by key instead).
MERGE_FIELDS = tuple(name for name in CUSTOMER_EDITABLE_FIELDS if name != "custom_attributes")


def _value(customer: Customer, name: str) -> Any:
    field = Customer._meta.get_field(name)
    return getattr(customer, field.attname)


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


def customer_merge_conflicts(*, kept: Customer, merged: Customer) -> list[str]:
    """The fields where both customers hold a value and the values differ."""
    return [
        name
        for name in MERGE_FIELDS
        if not _is_blank(_value(kept, name))
        and not _is_blank(_value(merged, name))
        and _value(kept, name) != _value(merged, name)
    ]


def _clean_field_choices(field_choices: dict[str, str] | None) -> dict[str, str]:
    field_choices = field_choices or {}
    errors = [
        _("“%(field)s” cannot be chosen in a merge.") % {"field": name}
        for name in sorted(set(field_choices) - set(MERGE_FIELDS))
    ]
    errors += [
        _("Choose “%(kept)s” or “%(merged)s” for “%(field)s”.")
        % {"kept": KEPT, "merged": MERGED, "field": name}
        for name, source in sorted(field_choices.items())
        if name in MERGE_FIELDS and source not in (KEPT, MERGED)
    ]
    if errors:
        raise ValidationError({"fields": errors})
    return field_choices


def _values_for_kept(
    *, kept: Customer, merged: Customer, field_choices: dict[str, str]
) -> dict[str, Any]:
    values = {}
    for name in MERGE_FIELDS:
        source = field_choices.get(name)
        take_merged = source == MERGED or (
            source is None and _is_blank(_value(kept, name)) and not _is_blank(_value(merged, name))
        )
        if take_merged and _value(kept, name) != _value(merged, name):
            values[name] = getattr(merged, name)
    # Encrypted fields are not shown on the merge page, so they are never chosen: a blank one
    # takes the merged customer's value, as it would unasked.
    for name in CUSTOMER_SENSITIVE_FIELDS:
        if not getattr(kept, name) and getattr(merged, name):
            values[name] = getattr(merged, name)
    custom_attributes = {**merged.custom_attributes, **kept.custom_attributes}
    if custom_attributes != kept.custom_attributes:
        values["custom_attributes"] = custom_attributes
    return values


def _relationships_move(*, kept: Customer, merged: Customer) -> tuple[int, int]:
    """Point the merged customer's relationships at the kept one; (moved, dropped)."""
    dropped = 0
    moved = 0
    for own_side, other_side in (
        ("from_customer", "to_customer"),
        ("to_customer", "from_customer"),
    ):
        mine = Relationship.objects.filter(**{own_side: merged})
        same_way = Relationship.objects.filter(
            **{own_side: kept, other_side: OuterRef(other_side), "kind": OuterRef("kind")}
        )
        other_way = Relationship.objects.filter(
            **{other_side: kept, own_side: OuterRef(other_side), "kind": OuterRef("kind")}
        )
        # One that would link the kept customer to itself, or repeat one it has (either way
        # round for the kinds that read the same both ways), goes.
        repeats = Q(Exists(same_way)) | (Q(kind__in=SYMMETRIC_KINDS) & Q(Exists(other_way)))
        dropped += mine.filter(Q(**{other_side: kept}) | repeats).delete()[0]
        moved += mine.update(**{own_side: kept})
    return moved, dropped


def _record_shares_move(*, kept: Customer, merged: Customer) -> int:
    content_type = ContentType.objects.get_for_model(Customer)
    shares = RecordShare.objects.filter(content_type=content_type)
    kept_shares = shares.filter(object_id=kept.pk)
    shares.filter(object_id=merged.pk).filter(
        Q(team__isnull=False, team__in=kept_shares.filter(team__isnull=False).values("team"))
        | Q(user__isnull=False, user__in=kept_shares.filter(user__isnull=False).values("user"))
    ).delete()
    return shares.filter(object_id=merged.pk).update(object_id=kept.pk)


def customer_merge(
    *,
    actor: User,
    kept: Customer,
    merged: Customer,
    field_choices: dict[str, str] | None = None,
) -> CustomerMerge:
    """Fold `merged` into `kept` and delete it, keeping everything that pointed to it.

    The kept customer's blank fields take the merged customer's values; `field_choices` maps a
    field of MERGE_FIELDS to "kept" or "merged" to decide a field either way. Orders,
    interactions, needs, relationships, tags, record shares, earlier merges and privacy
    requests move to the kept customer, and so do the rows of every app registered with
    customers.registry.register_merge_handler (deals, tickets...). The merge is recorded with
    the merged customer's data and how many rows of each kind moved, and announced on the kept
    customer (customer.merged, with the merged customer's id; customer.updated too when the kept
    customer took values from the merged one).
    """
    if not actor.has_perm(MERGE_PERMISSION):
        raise PermissionDenied(_("You may not merge customers."))
    if kept.pk == merged.pk:
        raise ValidationError({"merged": _("A customer cannot be merged into itself.")})
    field_choices = _clean_field_choices(field_choices)
    for customer in (kept, merged):
        if not record_is_visible_to(user=actor, record=customer):
            raise Customer.DoesNotExist(_("No such customer."))
        require_editable(actor=actor, record=customer)
    with transaction.atomic():
        locked = customers_lock(customer_ids=[kept.pk, merged.pk])
        if kept.pk not in locked or merged.pk not in locked:
            raise Customer.DoesNotExist(_("No such customer."))
        kept, merged = locked[kept.pk], locked[merged.pk]
        for role, customer in (("kept", kept), ("merged", merged)):
            if customer.erased_at is not None:
                raise ValidationError({role: _("An erased customer cannot be merged.")})

        values = _values_for_kept(kept=kept, merged=merged, field_choices=field_choices)
        snapshot = customer_profile_as_json(customer=merged)
        # The snapshot is a JSON column, not encrypted: the merged customer's encrypted values
        # stay out of it.
        for name in CUSTOMER_SENSITIVE_FIELDS:
            snapshot.pop(name)
        merged_tags = list(merged.tags.all())
        snapshot["tags"] = sorted(tag.name for tag in merged_tags)
        new_tags = set(merged_tags) - set(kept.tags.all())
        kept.tags.add(*new_tags)

        moved = {
            "orders": Order.objects.filter(customer=merged).update(customer=kept),
            "interactions": Interaction.objects.filter(customer=merged).update(customer=kept),
            "needs": Need.objects.filter(customer=merged).update(customer=kept),
        }
        moved["relationships"], moved["relationships_dropped"] = _relationships_move(
            kept=kept, merged=merged
        )
        moved["tags"] = len(new_tags)
        moved["record_shares"] = _record_shares_move(kept=kept, merged=merged)
        moved["merges"] = CustomerMerge.objects.filter(kept=merged).update(kept=kept)
        moved["privacy_requests"] = PrivacyRequest.objects.filter(customer=merged).update(
            customer=kept
        )
        for key, handler in registry.merge_handlers().items():
            moved[key] = handler(merged, kept)

        merged_id = merged.pk
        consent_at = merged.marketing_consent_at
        # Deleted before the kept customer takes its values, so a unique external id can move.
        merged.delete()
        customer_update(actor=actor, customer=kept, **values)
        if values.get("marketing_consent"):
            # The consent keeps the date it was given, not the date of the merge.
            kept.marketing_consent_at = consent_at
            kept.save(update_fields=["marketing_consent_at", "updated_at"])
        customer_aggregates_refresh(customer_ids=[kept.pk])
        kept.refresh_from_db()
        merge = CustomerMerge.objects.create(
            kept=kept,
            merged_customer_id=merged_id,
            merged_snapshot=snapshot,
            moved_rows=moved,
            merged_by=actor,
        )
        event_publish(event="customer.merged", record=kept, extra={"merged_customer_id": merged_id})
        return merge
