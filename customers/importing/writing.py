"""The bulk writes of one batch: new customers, changed customers, their tags and companies.

On PostgreSQL new customers go in with COPY, their ids reserved from the table's sequence first
so the report can name them; elsewhere with bulk_create. Every write runs inside the batch's
transaction, opened by the caller. These writes announce no customer.created or customer.updated
event per row: the import announces itself once when it finishes (import.finished); each
customer created or changed gets its row in the audit trail, written in bulk too.
"""

from django.conf import settings
from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone
from psycopg2.extras import execute_values

from crm.copying import copy_rows
from crm.encryption import EncryptedTextField
from customers.models import Company, Customer

_UPDATE_BATCH = 500


def _stored_value(customer: Customer, field) -> object:
    """The value as the database keeps it: encrypted fields encrypted, as an INSERT would."""
    value = getattr(customer, field.attname)
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value(value)
    return value


def _copy_customers(customers: list[Customer]) -> None:
    table = Customer._meta.db_table
    fields = Customer._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, Customer._meta.pk.column, len(customers)],
        )
        for customer, (pk,) in zip(customers, cursor.fetchall(), strict=True):
            customer.pk = pk
        copy_rows(
            cursor,
            table=table,
            columns=[field.column for field in fields],
            rows=([_stored_value(customer, field) for field in fields] for customer in customers),
        )


def customers_insert(customers: list[Customer]) -> None:
    """Insert new customers and set their ids."""
    if not customers:
        return
    if connection.vendor == "postgresql":
        _copy_customers(customers)
    else:
        Customer.objects.bulk_create(customers)


def customers_save_changes(customers: list[Customer], fields: set[str]) -> None:
    """Write `fields` (and updated_at) of changed customers in one statement.

    Django's bulk_update builds a CASE per field and row, which takes seconds for a few thousand
    rows; PostgreSQL gets UPDATE ... FROM (VALUES ...), other databases one executemany.
    """
    if not customers or not fields:
        return
    model_fields = [Customer._meta.get_field(name) for name in sorted({*fields, "updated_at"})]
    rows = [
        [
            field.get_db_prep_save(getattr(customer, field.attname), connection)
            for field in model_fields
        ]
        + [customer.pk]
        for customer in customers
    ]
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(f'"{field.column}"' for field in model_fields)
            assignments = ", ".join(
                f'"{field.column}" = v."{field.column}"' for field in model_fields
            )
            casts = ", ".join(f"%s::{field.db_type(connection)}" for field in model_fields)
            execute_values(
                cursor.cursor,
                f'UPDATE "{table}" AS c SET {assignments} FROM (VALUES %s) AS v ({columns}, id) '
                "WHERE c.id = v.id",
                rows,
                template=f"({casts}, %s::bigint)",
                page_size=_UPDATE_BATCH,
            )
        else:
            assignments = ", ".join(f'"{field.column}" = %s' for field in model_fields)
            cursor.executemany(f'UPDATE "{table}" SET {assignments} WHERE id = %s', rows)


def _copy_history(customers: list[Customer], *, history_type: str, user) -> None:
    """The rows bulk_history_create would insert, written with COPY: building a historical
    model instance per customer and compiling their INSERT took a quarter of an import's time."""
    history = Customer.history.model
    if user is None:
        user = history.get_default_history_user(customers[0])
    tracked = {field.attname for field in history.tracked_fields}
    fields = [field for field in history._meta.concrete_fields if field.attname != "history_id"]
    fixed = {field.attname: field.get_default() for field in fields if field.attname not in tracked}
    fixed.update(
        history_change_reason="",
        history_type=history_type,
        history_user_id=user.pk if user is not None else None,
        history_date=timezone.now(),
    )
    customer_fields = {field.attname: field for field in Customer._meta.concrete_fields}

    def value(customer: Customer, field) -> object:
        if field.attname in tracked:
            return _stored_value(customer, customer_fields[field.attname])
        return fixed[field.attname]

    rows = ([value(customer, field) for field in fields] for customer in customers)
    with connection.cursor() as cursor:
        copy_rows(
            cursor,
            table=history._meta.db_table,
            columns=[field.column for field in fields],
            rows=rows,
        )


def customers_history_add(*, created: list[Customer], changed: list[Customer], user) -> None:
    """The audit trail's row for each customer created or changed, as a save would have made,
    attributed to the person importing: one bulk insert each instead of a save per customer."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    if connection.vendor == "postgresql":
        for customers, history_type in ((created, "+"), (changed, "~")):
            if customers:
                _copy_history(customers, history_type=history_type, user=user)
        return
    if created:
        Customer.history.bulk_history_create(created, default_user=user, batch_size=_UPDATE_BATCH)
    if changed:
        Customer.history.bulk_history_create(
            changed, update=True, default_user=user, batch_size=_UPDATE_BATCH
        )


def customer_tags_add(pairs: set[tuple[int, int]]) -> None:
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=customer_id, tag_id=tag_id) for customer_id, tag_id in sorted(pairs)],
        ignore_conflicts=True,
    )


def companies_find(names: set[str]) -> dict[str, int]:
    """Existing companies by lower-cased name; the oldest wins when several share a name."""
    if not names:
        return {}
    found: dict[str, int] = {}
    companies = (
        Company.objects.annotate(folded=Lower("name"))
        .filter(folded__in={name.lower() for name in names})
        .order_by("-pk")
        .values_list("name", "pk")
    )
    for name, pk in companies:
        found[name.lower()] = pk
    return found


def companies_create(names: list[str], *, owner_id: int | None, team_id: int | None) -> dict:
    """Create companies by name (as first written in the file) and return them by lower-case."""
    companies = [Company(name=name, owner_id=owner_id, team_id=team_id) for name in names]
    for company in companies:
        company.clean_fields(exclude=["website"])
    Company.objects.bulk_create(companies)
    return {company.name.lower(): company.pk for company in companies}


def customers_statistics_refresh() -> None:
    """ANALYZE the customer and customer-tag tables on PostgreSQL (nothing elsewhere).

    A large import can grow these tables far faster than autovacuum refreshes their statistics;
    with stale ones the planner reads a million rows to find two thousand emails.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Customer, Customer.tags.through):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def customers_estimated_count() -> int:
    """The planner's idea of how many customers there are (0 when it has none)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Customer._meta.db_table]
        )
        return max(0, int(cursor.fetchone()[0]))
