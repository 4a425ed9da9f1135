"""Trigram indexes for the customer search box on PostgreSQL; nothing on other databases.

Django's icontains becomes UPPER(col::text) LIKE UPPER(%term%), so the indexes are on that
expression; the phone search uses a plain LIKE on normalised digits.
"""

from django.db import migrations

INDEXES = [
    ("customer_name_trgm", "customers_customer", 'UPPER("name"::text) gin_trgm_ops'),
    ("customer_email_trgm", "customers_customer", 'UPPER("email"::text) gin_trgm_ops'),
    ("customer_phone_trgm", "customers_customer", '"phone" gin_trgm_ops'),
    ("company_name_trgm", "customers_company", 'UPPER("name"::text) gin_trgm_ops'),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression})'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_orders_needs_interactions_relationships_segments_imports")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
