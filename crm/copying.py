"""Rows from Python into PostgreSQL with COPY: the text format's escaping and the write itself.

COPY takes a million rows in seconds where INSERTs take minutes; the demo seed, the customer
import, the social graph and the model scores write through here, so the escaping is written
once.
"""

import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Model


def _escaped(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _json(value) -> str:
    return _escaped(json.dumps(value, ensure_ascii=False))


# One dictionary lookup on the exact type per value rather than a chain of isinstance checks,
# which took a tenth of a profiled seed. Other types (choices, UUIDs, numpy numbers, datetime
# subclasses) fall back to their str(), which PostgreSQL reads the same.
_TEXT_BY_TYPE: dict[type, Callable[[object], str]] = {
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    int: str,
    float: str,
    str: _escaped,
    datetime: datetime.isoformat,
    date: date.isoformat,
    Decimal: lambda value: format(value, "f"),
    dict: _json,
    list: _json,
}


def copy_text(value) -> str:
    """`value` as one field of COPY's text format."""
    to_text = _TEXT_BY_TYPE.get(type(value))
    return to_text(value) if to_text else _escaped(str(value))


def copy_rows(cursor, *, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (sequences of values in the order of `columns`) into `table`, inside the
    caller's transaction. `cursor` is a Django or psycopg2 cursor on PostgreSQL."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(map(copy_text, row)))
        buffer.write("\n")
    buffer.seek(0)
    column_list = ", ".join(f'"{column}"' for column in columns)
    cursor.copy_expert(f'COPY "{table}" ({column_list}) FROM STDIN', buffer)


def copy_upsert(
    model: type[Model],
    rows: Sequence[dict],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    """Insert `rows` (dicts by attribute name: `customer_id` for a foreign key), or update
    `update_fields` of the rows that already hold their `unique_fields`: what
    bulk_create(update_conflicts=True) does, but on PostgreSQL through a temporary table filled
    by COPY and one INSERT ... ON CONFLICT. Scoring a million rows needs it: a batched INSERT
    spends most of its time parsing and binding parameters, and building a model instance per
    row costs as much again.

    A new row takes each field's default where the dicts do not name it; other databases get
    bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in rows],
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
            batch_size=1000,
        )
        return
    meta = model._meta
    given = list(rows[0])
    defaults = {
        field.attname: field.get_default()
        for field in meta.concrete_fields
        if field is not meta.auto_field and field.attname not in given and field.has_default()
    }
    attnames = [*given, *defaults]
    columns = [meta.get_field(name).column for name in attnames]
    column_list = ", ".join(f'"{column}"' for column in columns)
    conflict = ", ".join(f'"{meta.get_field(name).column}"' for name in unique_fields)
    updates = ", ".join(
        f'"{column}" = EXCLUDED."{column}"'
        for column in (meta.get_field(name).column for name in update_fields)
    )
    default_values = list(defaults.values())
    staging = f"{meta.db_table}_upsert"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS pg_temp."{staging}"')
        cursor.execute(
            f'CREATE TEMPORARY TABLE "{staging}" ON COMMIT DROP AS '
            f'SELECT {column_list} FROM "{meta.db_table}" WITH NO DATA'
        )
        copy_rows(
            cursor,
            table=staging,
            columns=columns,
            rows=([*(row[name] for name in given), *default_values] for row in rows),
        )
        cursor.execute(
            f'INSERT INTO "{meta.db_table}" ({column_list}) SELECT {column_list} '
            f'FROM "{staging}" ON CONFLICT ({conflict}) DO UPDATE SET {updates}'
        )
