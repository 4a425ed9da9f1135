"""Sort keys that put empty values last in either direction as a real value.

NULL compares with nothing, so a cursor (keyset) page cannot continue from it; replaced by a
value beyond every real one in the sort's direction, the empty rows sort last and a page can
start after any row. The API's cursor pages and the lists sort by these keys, and the tables
that are sorted so at scale hold an expression index on the very same key: PostgreSQL only uses
an index whose expression, constant included, is the query's.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import models
from django.db.models.functions import Coalesce

EARLIEST_DATETIME = datetime(1, 1, 2, tzinfo=UTC)
LATEST_DATETIME = datetime(9999, 1, 1, tzinfo=UTC)


def datetime_nulls_last(name: str, *, descending: bool) -> Coalesce:
    """The datetime field `name`, its NULLs sorting last when sorted `descending` or not."""
    output = models.DateTimeField()
    beyond = EARLIEST_DATETIME if descending else LATEST_DATETIME
    return Coalesce(name, models.Value(beyond, output_field=output), output_field=output)


def nulls_last_key(field: models.Field, *, descending: bool) -> Coalesce | None:
    """The key of `field` with its NULLs last in the sort's direction, when it may be NULL;
    None when it may not, or is of a type without a value beyond the real ones."""
    if not field.null:
        return None
    name = field.name
    if isinstance(field, models.DateTimeField):
        return datetime_nulls_last(name, descending=descending)
    if isinstance(field, models.DateField):
        output = models.DateField()
        beyond = date(1, 1, 2) if descending else date(9999, 1, 1)
    elif isinstance(field, models.DecimalField):
        output = models.DecimalField(
            max_digits=field.max_digits, decimal_places=field.decimal_places
        )
        beyond = Decimal("9" * (field.max_digits - field.decimal_places)) * (
            -1 if descending else 1
        )
    elif isinstance(field, models.IntegerField):
        output = models.BigIntegerField()
        beyond = -(2**62) if descending else 2**62
    else:
        return None
    return Coalesce(name, models.Value(beyond, output_field=output), output_field=output)
