"""An index for "most recent contact first, never contacted last" on PostgreSQL.

SQLite cannot put NULLS LAST in an index, so the embedded default goes without it.
"""

from django.db import migrations

INDEX = (
    'CREATE INDEX IF NOT EXISTS "customer_contact_desc_idx" ON "customers_customer" '
    '("last_contact_at" DESC NULLS LAST, "id" DESC)'
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "customer_contact_desc_idx"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_customer_permissions")]

    operations = [migrations.RunPython(create_index, drop_index)]
