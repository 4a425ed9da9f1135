"""Demo data: the registry each app adds its seeder to, and fast bulk inserts.

`seed_demo` creates the demo users and teams, then runs every registered seeder in order; each
app seeds its own tables from AppConfig.ready(), so the command imports none of them.
"""

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from django.db import connections, models, transaction

from crm.copying import copy_rows

COPY_BATCH_ROWS = 50_000
INSERT_BATCH_ROWS = 5_000


@dataclass
class DemoContext:
    rng: random.Random
    customers: int
    today: date
    users_by_role: dict[str, list] = field(default_factory=dict)
    teams: list = field(default_factory=list)
    using: str = "default"
    log: Callable[[str], None] = print
    # Totals asked for beyond the customers ("orders", "interactions", "deals", "tickets"); a
    # kind left out gets the seeder's own share per customer.
    volumes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSeeder:
    order: int
    name: str
    seeder: Callable[[DemoContext], None]


_seeders: dict[str, DemoSeeder] = {}


def register_demo_seeder(*, order: int, name: str, seeder: Callable[[DemoContext], None]) -> None:
    _seeders[name] = DemoSeeder(order=order, name=name, seeder=seeder)


def demo_seeders() -> list[DemoSeeder]:
    return sorted(_seeders.values(), key=lambda entry: entry.order)


def bulk_insert(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    using: str,
    analyze: bool = True,
    ids: bool = True,
) -> list[int]:
    """Insert rows (tuples in the order of `fields`, which are attnames) and return their ids,
    or an empty list with `ids=False`: reading back millions of ids nobody needs costs more than
    a tenth of the load.

    PostgreSQL gets COPY, several times faster than INSERT at a million rows; other databases
    get batched INSERTs. Each batch commits on its own, so a long seed shows progress.
    """
    connection = connections[using]
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = [model_field.column for model_field in model_fields]
    is_postgresql = connection.vendor == "postgresql"
    batch_size = COPY_BATCH_ROWS if is_postgresql else INSERT_BATCH_ROWS
    column_list = ", ".join(f'"{column}"' for column in columns)
    insert_sql = (
        f'INSERT INTO "{table}" ({column_list}) VALUES ({", ".join(["%s"] * len(columns))})'
    )
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX("{pk_column}"), 0) FROM "{table}"')
        start_after = cursor.fetchone()[0]
    batch: list[Sequence] = []

    def flush() -> None:
        # Raw inserts rather than bulk_create: bulk_create would overwrite the demo's spread
        # of created_at values with auto_now_add.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if is_postgresql:
                copy_rows(cursor, table=table, columns=columns, rows=batch)
            else:
                prepared = [
                    [
                        model_field.get_db_prep_save(value, connection)
                        for model_field, value in zip(model_fields, row, strict=True)
                    ]
                    for row in batch
                ]
                cursor.executemany(insert_sql, prepared)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if is_postgresql and analyze:
        # Fresh planner statistics: without them the first queries on a million new rows scan
        # whole tables until autovacuum gets round to the table.
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{table}"')
    if not ids:
        return []
    return list(
        model.objects.using(using)
        .filter(pk__gt=start_after)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


_SECONDARY_INDEXES_SQL = """
    SELECT format('DROP INDEX %%I.%%I', namespace.nspname, index_class.relname),
           pg_get_indexdef(pg_index.indexrelid)
    FROM pg_index
    JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
    JOIN pg_namespace namespace ON namespace.oid = index_class.relnamespace
    WHERE pg_index.indrelid = ANY(%s::regclass[])
      AND NOT pg_index.indisprimary
      AND NOT EXISTS (
          SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = pg_index.indexrelid
      )
"""
_FOREIGN_KEYS_SQL = """
    SELECT format('ALTER TABLE %%I DROP CONSTRAINT %%I', relation.relname, conname),
           format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', relation.relname, conname,
                  pg_get_constraintdef(pg_constraint.oid))
    FROM pg_constraint
    JOIN pg_class relation ON relation.oid = pg_constraint.conrelid
    WHERE pg_constraint.conrelid = ANY(%s::regclass[]) AND pg_constraint.contype = 'f'
"""


@contextmanager
def indexes_built_after_load(models, *, using: str, log) -> Iterator[None]:
    """On PostgreSQL, load the tables without their secondary indexes and foreign keys, and
    build those again from their own definitions once the rows are in.

    PostgreSQL's advice for populating a database: an index built once over loaded rows costs a
    fraction of one grown row by row (the customers' trigram indexes above all), and a foreign
    key checked once by a join costs less than a trigger per row. All of it is one transaction,
    so a seed that fails leaves the tables, indexes and keys as they were.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            # A table with foreign key checks still pending in this transaction (rows written
            # just before, inside a caller's transaction) cannot be altered: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(_FOREIGN_KEYS_SQL, [tables])
            foreign_keys = cursor.fetchall()
            cursor.execute(_SECONDARY_INDEXES_SQL, [tables])
            indexes = cursor.fetchall()
            for drop, _create in [*foreign_keys, *indexes]:
                cursor.execute(drop)
        yield
        log(f"building {len(indexes)} indexes and {len(foreign_keys)} foreign keys")
        with connection.cursor() as cursor:
            for _drop, create in [*indexes, *foreign_keys]:
                cursor.execute(create)
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")
