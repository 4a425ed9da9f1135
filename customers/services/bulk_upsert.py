"""Creating or updating many customers in one call: POST /api/v1/customers/bulk-upsert/.

The items go through the CSV import (customers.importing) as the rows of one batch, so they are
cleaned, matched and written by exactly the import's rules:

- each item's values are cleaned as a file's cells are (trimmed, emails lower-cased, phones in
  E.164 read in the item's country, dates, amounts and choices read leniently); a blank or null
  value leaves the field alone;
- an item is the customer with the same external id, else email, else phone (or the keys and
  order the caller gives in `match_on`), among the customers the caller may edit; a match on a
  customer the caller may not change fails the item without naming the customer;
- a later item that is the same customer as an earlier one is merged into it (it fills in only
  what is still blank), as a later row of a file is;
- a matched customer takes the item's values (the import's "overwrite"); tags are added, custom
  attributes are set key by key; what the item does not give is kept.

The values of an item that fails are not written at all. Created and updated customers are
announced (customer.created, customer.updated) when the call's transaction commits, as
customer_create and customer_update announce theirs.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.accounts.field_security import UNWRITABLE_FIELD_MESSAGE, field_access
from crm.accounts.models import User
from crm.webhooks.events import event_publish_many
from customers.cleaning import fold_whitespace
from customers.importing.pipeline import CustomerImport, ImportOptions
from customers.importing.report import Outcome, RowResult
from customers.importing.rows import KEY_FIELDS, CleanRow, RowCleaner, default_date_order
from customers.models import Customer
from customers.selectors.customers import company_list_visible
from customers.services.customers import CUSTOMER_EDITABLE_FIELDS

BULK_UPSERT_MAX_ITEMS = 1_000
# An upsert both creates and changes customers.
BULK_UPSERT_PERMISSIONS = ("customers.add_customer", "customers.change_customer")

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
FAILED = "failed"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, FAILED)

# The customer API's writable fields, less owner and team: what is created belongs to the caller
# and their first team, as an import's customers belong to the person importing.
UPSERT_FIELDS = (
    *(name for name in CUSTOMER_EDITABLE_FIELDS if name not in ("owner", "team")),
    "tags",
)
# Read by the import's cleaner, as text; company (an id, as in the customer API), language and
# custom_attributes are checked here.
_CLEANED_FIELDS = tuple(
    name for name in UPSERT_FIELDS if name not in ("company", "language", "custom_attributes")
)
_READ_ONLY_FIELDS = (
    {"id", "age"}
    | {f.name for f in Customer._meta.concrete_fields}
    | {f.attname for f in Customer._meta.concrete_fields}
) - set(UPSERT_FIELDS)
_NON_FIELD = "non_field_errors"
_MAX_ID = 2**63 - 1


@dataclass
class BulkUpsertItemResult:
    index: int
    outcome: str
    id: int | None = None
    matched_on: str | None = None
    merged_into: int | None = None
    changed_fields: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class BulkUpsertResult:
    counts: dict[str, int]
    results: list[BulkUpsertItemResult]


class _CollectedReport:
    """The import's report sink, kept in memory: a call has at most one batch of items."""

    def __init__(self):
        self.results: list[RowResult] = []

    def write(self, results: list[RowResult]) -> None:
        self.results.extend(results)


def _text(value: Any) -> str:
    """A JSON value as the text of a file's cell; TypeError for objects and lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, float, Decimal)):
        return str(value)
    raise TypeError


def _has_null_character(value: Any) -> bool:
    # The import refuses a file with NUL bytes; PostgreSQL refuses them in text and JSON.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_null_character(key) or _has_null_character(v) for key, v in value.items())
    if isinstance(value, list):
        return any(_has_null_character(v) for v in value)
    return False


def _item_cells(item: dict, errors: list[tuple[str, str]]) -> list[str]:
    cells = []
    for name in _CLEANED_FIELDS:
        value = item.get(name)
        try:
            if name == "tags" and value is not None:
                if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                    raise TypeError
                cells.append(",".join(value))
            else:
                cells.append(_text(value))
        except TypeError:
            message = _("Expected a list of tag names.") if name == "tags" else None
            errors.append((name, message or _("Expected text, a number or true/false.")))
            cells.append("")
            continue
        if _has_null_character(cells[-1]):
            errors.append((name, _("Null characters are not allowed.")))
            cells[-1] = ""
    return cells


def _refused_names(item: dict, unwritable: frozenset[str]) -> list[tuple[str, str]]:
    """StrictModelSerializer's rule: a field the caller may not write is refused, not dropped."""
    refused = [(name, str(UNWRITABLE_FIELD_MESSAGE)) for name in sorted(unwritable & set(item))]
    for name in sorted(set(item) - set(UPSERT_FIELDS)):
        if name in _READ_ONLY_FIELDS:
            refused.append((name, _("This field is read-only.")))
        else:
            refused.append((name, _("Unknown field.")))
    return refused


def _company_ids(items: list, actor: User) -> set[int]:
    """The ids among the items' companies that the caller may see (one query)."""
    wanted = {
        item["company"]
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("company"), int)
        and not isinstance(item.get("company"), bool)
        and 0 < item["company"] <= _MAX_ID
    }
    if not wanted:
        return set()
    visible = company_list_visible(user=actor).filter(pk__in=wanted)
    return set(visible.values_list("pk", flat=True))


def _extra_values(row: CleanRow, item: dict, visible_companies: set[int]) -> None:
    """The fields the import's cleaner does not read: company, language, custom attributes."""
    company = item.get("company")
    if company is not None:
        if isinstance(company, bool) or not isinstance(company, int):
            row.errors.append(("company", _("Expected a company id.")))
        elif company not in visible_companies:
            # Also for an id that exists but is hidden: the caller learns nothing of it.
            row.errors.append(("company", _("No company with id %(id)s.") % {"id": company}))
        else:
            row.values["company_id"] = company
    language = item.get("language")
    if language is not None:
        language = fold_whitespace(language) if isinstance(language, str) else language
        try:
            if _has_null_character(language):
                raise ValidationError(_("Null characters are not allowed."))
            if language != "":
                row.values["language"] = Customer._meta.get_field("language").clean(language, None)
        except ValidationError as exc:
            row.errors.append(("language", " ".join(exc.messages)))
    custom = item.get("custom_attributes")
    if custom is not None:
        if not isinstance(custom, dict):
            row.errors.append(("custom_attributes", _("Expected an object.")))
        elif _has_null_character(custom):
            row.errors.append(("custom_attributes", _("Null characters are not allowed.")))
        else:
            row.custom = {str(key): value for key, value in custom.items()}


def _clean_items(items: list, cleaner: RowCleaner, actor: User) -> list[CleanRow]:
    visible_companies = _company_ids(items, actor)
    unwritable = field_access(user=actor, model=Customer).unwritable
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            row = CleanRow(number=index)
            row.errors.append(("", _("Expected an object with the customer's fields.")))
            rows.append(row)
            continue
        errors = _refused_names(item, unwritable)
        row = cleaner.clean(index, _item_cells(item, errors))
        _extra_values(row, item, visible_companies)
        row.errors.extend(errors)
        rows.append(row)
    return rows


def _errors_of(row: CleanRow, result: RowResult) -> dict[str, list[str]]:
    entries = row.errors or [(result.column, result.reason)]
    errors: dict[str, list[str]] = {}
    for name, message in entries:
        errors.setdefault(name or _NON_FIELD, []).append(message)
    return errors


def _item_result(row: CleanRow, result: RowResult) -> BulkUpsertItemResult:
    changed = sorted({"company" if name == "company_id" else name for name in result.changes})
    if result.outcome == Outcome.REJECTED:
        return BulkUpsertItemResult(
            index=row.number, outcome=FAILED, errors=_errors_of(row, result), notes=result.notes
        )
    if result.outcome in (Outcome.CREATED, Outcome.UNCHANGED, Outcome.UPDATED):
        outcome = str(result.outcome)
    else:  # merged into an earlier item's customer
        outcome = UPDATED if changed else UNCHANGED
    return BulkUpsertItemResult(
        index=row.number,
        outcome=outcome,
        id=result.customer_id,
        matched_on=result.matched_on or None,
        merged_into=result.merged_into,
        changed_fields=changed,
        notes=result.notes,
    )


def _validate_request(items, match_on) -> tuple[str, ...]:
    if not isinstance(items, list):
        raise ValidationError({"customers": _("Expected a list of customers.")})
    if len(items) > BULK_UPSERT_MAX_ITEMS:
        raise ValidationError(
            {
                "customers": _("At most %(limit)s customers per call; this call has %(count)s.")
                % {"limit": f"{BULK_UPSERT_MAX_ITEMS:,}", "count": f"{len(items):,}"}
            }
        )
    match_on = tuple(KEY_FIELDS if match_on is None else match_on)
    unknown = [name for name in match_on if name not in KEY_FIELDS]
    if not match_on or unknown or len(set(match_on)) != len(match_on):
        raise ValidationError(
            {
                "match_on": _("Give one or more of %(keys)s, each once.")
                % {"keys": ", ".join(KEY_FIELDS)}
            }
        )
    return match_on


def _announce(results: list[BulkUpsertItemResult]) -> None:
    """customer.created, or customer.updated with the changed fields (as customer_update says
    them), once per customer, on commit."""
    created = {r.id for r in results if r.outcome == CREATED}
    updated: dict[int, set[str]] = {}
    for result in results:
        if result.outcome == UPDATED and result.id not in created:
            updated.setdefault(result.id, set()).update(result.changed_fields)
    if not created and not updated:
        return
    customers = Customer.objects.in_bulk([*created, *updated])
    event_publish_many(
        event="customer.created", announcements=[(customers[pk], {}) for pk in sorted(created)]
    )
    event_publish_many(
        event="customer.updated",
        announcements=[
            (customers[pk], {"changed_fields": sorted(changed)})
            for pk, changed in sorted(updated.items())
        ],
    )


def customer_bulk_upsert(
    *,
    actor: User,
    items: list,
    match_on: list[str] | tuple[str, ...] | None = None,
    dry_run: bool = False,
) -> BulkUpsertResult:
    """Create or update up to BULK_UPSERT_MAX_ITEMS customers by the import's rules (see the
    module docstring); one result per item, in the items' order. On a dry run nothing is written
    and the results say what would have happened (new customers have no id yet)."""
    match_on = _validate_request(items, match_on)
    cleaner = RowCleaner(
        headers=list(_CLEANED_FIELDS),
        mapping={name: name for name in _CLEANED_FIELDS},
        keep_extra_columns=False,
        date_order=default_date_order(),
    )
    report = _CollectedReport()
    run = CustomerImport(
        options=ImportOptions(
            overwrite=True,
            date_order=default_date_order(),
            dry_run=dry_run,
            match_on=match_on,
        ),
        actor=actor,
        owner=actor,
        report=report,
        batch_size=BULK_UPSERT_MAX_ITEMS,
    )
    with transaction.atomic():
        rows = _clean_items(items, cleaner, actor)
        if rows:
            run.run_cleaned(cleaner=cleaner, rows=rows)
        results = [
            _item_result(row, result) for row, result in zip(rows, report.results, strict=True)
        ]
        if not dry_run:
            _announce(results)
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.outcome] += 1
    return BulkUpsertResult(counts=counts, results=results)
